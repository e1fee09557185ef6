import { Alert, Button, Checkbox, Group, Stack, Switch, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { fieldError } from "../lib/errors";
import { CheckResult, ServerSettingsForm } from "../lib/ServerSettingsForm";
import { CheckMailServer, initialSettings, toInput, type StoredSettings } from "../lib/serverSettings";
import { canAdminister, isSystemRole, useSession } from "../lib/session";
import { ErrorAlert, Loading, SaveOutcome } from "../lib/ui";
import { localSettingsProblem, problemErrors, serverProblem, supportState, supportVariables, type FormProblem, type SupportState } from "./mailServerForms";
import { Section, TenantServerSection, TenantSupportSection, TestMailSection, TransportBadge } from "./mailServerParts";

// E-Mail-Server (seed 002, SPEC §6): system administrators configure the
// system server, its master switch, test mails and support; auditors read
// it; a tenant's owner and administrators their tenant's server, test
// mails and support address.
export function MailServerPage() {
  const { t } = useTranslation("mailServer");
  const session = useSession();
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      {isSystemRole(session.role) ? (
        <SystemServer readOnly={session.role !== "SYSTEM_ADMIN"} />
      ) : canAdminister(session.role) && session.tenantId ? (
        <TenantServer tenantId={session.tenantId} />
      ) : (
        <Text>{t("common:readOnly")}</Text>
      )}
    </Stack>
  );
}

const SystemServerQuery = graphql(`
  query SystemServer {
    systemMailServer {
      configured
      enabled
      settings { ...ServerSettingsFields }
      support { address allowTenantAddress attachSystemInfo }
    }
  }
`);

const ConfigureSystemServer = graphql(`
  mutation ConfigureSystemServer($input: ServerSettingsInput!) {
    configureSystemServer(input: $input) {
      configured
      enabled
      settings { ...ServerSettingsFields }
    }
  }
`);

const SetSystemServerEnabled = graphql(`
  mutation SetSystemServerEnabled($enabled: Boolean!) {
    setSystemServerEnabled(enabled: $enabled) { configured enabled }
  }
`);

const ConfigureSupport = graphql(`
  mutation ConfigureSupport($address: String, $allowTenantAddress: Boolean!, $attachSystemInfo: Boolean!) {
    configureSupport(address: $address, allowTenantAddress: $allowTenantAddress, attachSystemInfo: $attachSystemInfo) {
      support { address allowTenantAddress attachSystemInfo }
    }
  }
`);

function SystemServer({ readOnly }: { readOnly: boolean }) {
  const { t } = useTranslation("mailServer");
  const [{ data, fetching, error }] = useQuery({ query: SystemServerQuery });
  if (!data) return fetching ? <Loading /> : <ErrorAlert error={error} />;
  const s = data.systemMailServer;
  return (
    <Stack>
      {readOnly && <Text c="dimmed">{t("common:readOnly")}</Text>}
      {s.configured && !s.enabled && (
        <Alert color="yellow" role="note">
          {t("disabledNote")}
        </Alert>
      )}
      {!s.configured && (
        <Alert color="yellow" role="note">
          {t("notConfigured")}
        </Alert>
      )}
      <Section title={t("basic")}>
        <BasicSettings configured={s.configured} enabled={s.enabled} stored={s.settings} readOnly={readOnly} />
      </Section>
      {!readOnly && (
        <Section title={t("testMail.title")}>
          <TestMailSection />
        </Section>
      )}
      <Section title={t("support.title")}>
        <SupportSettings initial={supportState(s.support)} readOnly={readOnly} />
      </Section>
    </Stack>
  );
}

// Grundeinstellungen: the master switch "Mailserver benutzen" (R1) and the
// settings (R4), saved with configureSystemServer, checked unsaved.
function BasicSettings({ configured, enabled, stored, readOnly }: { configured: boolean; enabled: boolean; stored?: StoredSettings | null; readOnly: boolean }) {
  const { t } = useTranslation("mailServer");
  const [value, setValue] = useState(() => initialSettings(stored));
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [saved, setSaved] = useState(false);
  const [saveRes, save] = useMutation(ConfigureSystemServer);
  const [enableRes, setEnabled] = useMutation(SetSystemServerEnabled);
  const [checkRes, check] = useMutation(CheckMailServer);

  const onSave = async () => {
    setSaved(false);
    const local = localSettingsProblem(value);
    if (local) return setErrs(local);
    const r = await save({ input: toInput(value) });
    setErrs(serverProblem(r.error));
    if (!r.error && r.data) {
      setValue(initialSettings(r.data.configureSystemServer.settings));
      setSaved(true);
    }
  };
  const onCheck = async () => {
    const local = localSettingsProblem(value);
    if (local) return setErrs(local);
    const r = await check({ input: toInput(value) });
    setErrs(serverProblem(r.error));
  };
  return (
    <Stack gap="sm">
      <Switch
        label={t("useServer")}
        description={t("useServerHint")}
        checked={enabled}
        disabled={readOnly || !configured || enableRes.fetching}
        onChange={(e) => void setEnabled({ enabled: e.currentTarget.checked })}
      />
      <ErrorAlert error={enableRes.error} />
      <ServerSettingsForm value={value} onChange={(v) => (setValue(v), setSaved(false))} stored={stored} errors={errs} readOnly={readOnly} />
      {!readOnly && (
        <Group>
          <Button onClick={onSave} loading={saveRes.fetching}>
            {t("common:save")}
          </Button>
          <Button variant="default" onClick={onCheck} loading={checkRes.fetching}>
            {t("common:settings.check")}
          </Button>
        </Group>
      )}
      <SaveOutcome saved={saved} errors={errs.general} />
      {checkRes.data && !checkRes.error && <CheckResult {...checkRes.data.checkMailServer} />}
    </Stack>
  );
}

// Support (R7): where support requests go, whether tenants may set their
// own address, whether system information is attached.
function SupportSettings({ initial, readOnly }: { initial: SupportState; readOnly: boolean }) {
  const { t } = useTranslation("mailServer");
  const [value, setValue] = useState(initial);
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [saved, setSaved] = useState(false);
  const [res, run] = useMutation(ConfigureSupport);
  const set = <K extends keyof SupportState>(k: K, v: SupportState[K]) => (setValue({ ...value, [k]: v }), setSaved(false));
  const onSave = async () => {
    const r = await run(supportVariables(value));
    setErrs(serverProblem(r.error));
    if (!r.error && r.data) {
      setValue(supportState(r.data.configureSupport.support));
      setSaved(true);
    }
  };
  return (
    <Stack gap="sm">
      <TextInput
        label={t("support.address")}
        value={value.address}
        onChange={(e) => set("address", e.currentTarget.value)}
        readOnly={readOnly}
        error={fieldError(errs, "address")}
        maw={420}
      />
      <Checkbox label={t("support.allowTenantAddress")} checked={value.allowTenantAddress} onChange={(e) => set("allowTenantAddress", e.currentTarget.checked)} disabled={readOnly} />
      <Checkbox label={t("support.attachSystemInfo")} checked={value.attachSystemInfo} onChange={(e) => set("attachSystemInfo", e.currentTarget.checked)} disabled={readOnly} />
      {!readOnly && (
        <Group>
          <Button onClick={onSave} loading={res.fetching}>
            {t("common:save")}
          </Button>
        </Group>
      )}
      <SaveOutcome saved={saved} errors={errs.general} />
    </Stack>
  );
}

const TenantServerQuery = graphql(`
  query MailServerTenant($id: ID!) {
    tenant(id: $id) {
      id
      name
      policy { allowOwnServer allowSystemServer }
      server { ...ServerSettingsFields }
      effectiveTransport
      supportAddress
      mailboxes(first: 500) {
        edges { node { id address authenticated } }
      }
    }
    systemMailServer {
      configured
      enabled
      support { allowTenantAddress }
    }
  }
`);

// A tenant's owner and administrators: their tenant's server (R2, R3), a
// test mail through it or an authenticated mailbox (R6), and the tenant's
// support address when the system allows one (R7).
function TenantServer({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation("mailServer");
  const [{ data, fetching, error }] = useQuery({ query: TenantServerQuery, variables: { id: tenantId } });
  if (!data) return fetching ? <Loading /> : <ErrorAlert error={error} />;
  const tenant = data.tenant;
  if (!tenant) return <ErrorAlert error={error} />;
  const sys = data.systemMailServer;
  const authenticated = tenant.mailboxes.edges.map((e) => e.node).filter((m) => m.authenticated);
  return (
    <Stack>
      <Group gap="xs">
        <Text>{t("effectiveTransport")}</Text>
        <TransportBadge kind={tenant.effectiveTransport} />
      </Group>
      {(!sys.configured || !sys.enabled) && (
        <Alert color="yellow" role="note">
          {t("systemOff")}
        </Alert>
      )}
      <Section title={t("tenantServer.title")}>
        <TenantServerSection key={tenant.id} tenant={tenant} canEdit />
      </Section>
      <Section title={t("testMail.title")}>
        <TestMailSection key={`${!!tenant.server}:${authenticated.map((m) => m.id).join(",")}`} tenantId={tenant.id} hasTenantServer={!!tenant.server} mailboxes={authenticated} />
      </Section>
      <Section title={t("support.title")}>
        <TenantSupportSection key={tenant.id} tenant={tenant} allowed={sys.support.allowTenantAddress} canEdit />
      </Section>
    </Stack>
  );
}

import { Alert, Badge, Button, Group, Loader, Modal, Paper, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useSubscription } from "urql";
import { graphql } from "../gql";
import type { MessageStatus, TransportKind } from "../gql/graphql";
import { fieldError } from "../lib/errors";
import { CheckResult, ServerSettingsForm } from "../lib/ServerSettingsForm";
import { CheckMailServer, initialSettings, toInput, type StoredSettings } from "../lib/serverSettings";
import { ErrorAlert, SaveOutcome } from "../lib/ui";
import {
  isFinal,
  localSettingsProblem,
  parseTestMailTarget,
  problemErrors,
  serverProblem,
  statusColor,
  tenantSupportAddress,
  testMailVariables,
  type FormProblem,
  type TestMailTarget,
} from "./mailServerForms";

// Parts the E-Mail-Server page and the Tenants page share: a titled
// section, the tenant's own server, its support address, and a test mail
// with its live status.

export function Section({ title, children }: { title: string; children: React.ReactNode }) {
  const id = useId();
  return (
    <Paper component="section" aria-labelledby={id} withBorder p="md">
      <Title order={3} id={id} mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

export function TransportBadge({ kind }: { kind: TransportKind }) {
  const { t } = useTranslation();
  return <Badge color={kind === "NONE" ? "red" : "green"}>{t(`transport.${kind}`)}</Badge>;
}

const ConfigureTenantServer = graphql(`
  mutation ConfigureTenantServer($tenantId: ID!, $input: ServerSettingsInput!) {
    configureTenantServer(tenantId: $tenantId, input: $input) {
      id
      effectiveTransport
      server { ...ServerSettingsFields }
    }
  }
`);

const RemoveTenantServer = graphql(`
  mutation RemoveTenantServer($tenantId: ID!) {
    removeTenantServer(tenantId: $tenantId) {
      id
      effectiveTransport
      server { ...ServerSettingsFields }
    }
  }
`);

// A tenant's own server (R2, R3): configure, check, remove — or, when the
// policy allows no own server, say so and offer no form that can only fail.
export function TenantServerSection({
  tenant,
  canEdit,
}: {
  tenant: { id: string; policy: { allowOwnServer: boolean }; server?: StoredSettings | null };
  canEdit: boolean;
}) {
  const { t } = useTranslation("mailServer");
  const [value, setValue] = useState(() => initialSettings(tenant.server));
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [saved, setSaved] = useState(false);
  const [saveRes, save] = useMutation(ConfigureTenantServer);
  const [removeRes, remove] = useMutation(RemoveTenantServer);
  const [checkRes, check] = useMutation(CheckMailServer);
  const [confirming, setConfirming] = useState(false);

  if (!tenant.policy.allowOwnServer) {
    return (
      <Alert color="yellow" role="note">
        {t("tenantServer.notAllowed")}
        {tenant.server ? ` ${t("tenantServer.keptIgnored")}` : ""}
      </Alert>
    );
  }
  if (!canEdit && !tenant.server) return <Text>{t("tenantServer.none")}</Text>;

  const onSave = async () => {
    setSaved(false);
    const local = localSettingsProblem(value);
    if (local) return setErrs(local);
    const r = await save({ tenantId: tenant.id, input: toInput(value) });
    setErrs(serverProblem(r.error));
    if (!r.error && r.data) {
      setValue(initialSettings(r.data.configureTenantServer.server));
      setSaved(true);
    }
  };
  const onCheck = async () => {
    const local = localSettingsProblem(value);
    if (local) return setErrs(local);
    const r = await check({ tenantId: tenant.id, input: toInput(value) });
    setErrs(serverProblem(r.error));
  };
  // Removing deletes the stored settings and secrets: only after the
  // dialog's confirmation (Cancel has the focus).
  const onRemove = async () => {
    setSaved(false);
    setConfirming(false);
    const r = await remove({ tenantId: tenant.id });
    setErrs(serverProblem(r.error));
    if (!r.error) setValue(initialSettings(null));
  };

  return (
    <Stack gap="sm">
      {!tenant.server && <Text c="dimmed">{t("tenantServer.none")}</Text>}
      <ServerSettingsForm value={value} onChange={(v) => (setValue(v), setSaved(false))} stored={tenant.server} errors={errs} readOnly={!canEdit} />
      {canEdit && (
        <Group>
          <Button onClick={onSave} loading={saveRes.fetching}>
            {t("common:save")}
          </Button>
          <Button variant="default" onClick={onCheck} loading={checkRes.fetching}>
            {t("common:settings.check")}
          </Button>
          {tenant.server && (
            <Button color="red" variant="outline" onClick={() => setConfirming(true)} loading={removeRes.fetching}>
              {t("tenantServer.remove")}
            </Button>
          )}
        </Group>
      )}
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={t("tenantServer.removeTitle")} closeButtonProps={{ "aria-label": t("common:close") }}>
        <Stack>
          <Text>{t("tenantServer.removeText")}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)} data-autofocus>
              {t("common:cancel")}
            </Button>
            <Button color="red" onClick={onRemove}>
              {t("tenantServer.removeConfirm")}
            </Button>
          </Group>
        </Stack>
      </Modal>
      <SaveOutcome saved={saved} errors={errs.general} />
      {checkRes.data && !checkRes.error && <CheckResult {...checkRes.data.checkMailServer} />}
    </Stack>
  );
}

const SetTenantSupportAddress = graphql(`
  mutation SetTenantSupportAddress($tenantId: ID!, $address: String) {
    setTenantSupportAddress(tenantId: $tenantId, address: $address) {
      id
      supportAddress
    }
  }
`);

// The tenant's own support address (R7): set only when the system allows
// it; removing one is always allowed.
export function TenantSupportSection({
  tenant,
  allowed,
  canEdit,
}: {
  tenant: { id: string; supportAddress?: string | null };
  allowed: boolean;
  canEdit: boolean;
}) {
  const { t } = useTranslation("mailServer");
  const [address, setAddress] = useState(tenant.supportAddress ?? "");
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [saved, setSaved] = useState(false);
  const [res, run] = useMutation(SetTenantSupportAddress);
  const submit = async (a: string | null) => {
    setSaved(false);
    const r = await run({ tenantId: tenant.id, address: a });
    setErrs(serverProblem(r.error));
    if (!r.error) {
      setAddress(r.data?.setTenantSupportAddress.supportAddress ?? "");
      setSaved(true);
    }
  };
  if (!allowed || !canEdit) {
    return (
      <Stack gap="xs">
        {!allowed && <Text c="dimmed">{t("support.tenantNotAllowed")}</Text>}
        <Text>
          {t("support.tenantAddress")}: {tenant.supportAddress ?? t("support.systemApplies")}
        </Text>
        {canEdit && tenant.supportAddress && (
          <Button variant="outline" color="red" w="fit-content" onClick={() => submit(null)} loading={res.fetching}>
            {t("support.removeTenantAddress")}
          </Button>
        )}
        <ErrorAlert messages={[...errs.general, ...Object.values(errs.fields)]} />
      </Stack>
    );
  }
  return (
    <Stack gap="sm">
      <TextInput
        label={t("support.tenantAddress")}
        description={t("support.tenantAddressHint")}
        value={address}
        onChange={(e) => (setAddress(e.currentTarget.value), setSaved(false))}
        error={fieldError(errs, "address")}
        maw={420}
      />
      <Group>
        <Button onClick={() => submit(tenantSupportAddress(address))} loading={res.fetching}>
          {t("common:save")}
        </Button>
      </Group>
      <SaveOutcome saved={saved} errors={errs.general} />
    </Stack>
  );
}

const SendTestMail = graphql(`
  mutation SendTestMail($tenantId: ID, $mailboxId: ID, $to: String!) {
    sendTestMail(tenantId: $tenantId, mailboxId: $mailboxId, to: $to) {
      id
      status
      lastError
    }
  }
`);

const TestMailStatus = graphql(`
  subscription TestMailStatus($id: ID!) {
    messageStatus(id: $id) {
      id
      status
      lastError
      attempts
    }
  }
`);

// A test mail (R6) to any address, through the system server (no tenant),
// or through the tenant's own server or one of its authenticated mailboxes.
export function TestMailSection({
  tenantId,
  hasTenantServer,
  mailboxes,
}: {
  tenantId?: string;
  hasTenantServer?: boolean;
  mailboxes?: { id: string; address: string }[];
}) {
  const { t } = useTranslation("mailServer");
  const choices = tenantId
    ? [
        ...(hasTenantServer ? [{ value: "tenant", label: t("testMail.throughTenant") }] : []),
        ...(mailboxes ?? []).map((m) => ({ value: `mailbox:${m.id}`, label: t("testMail.throughMailbox", { address: m.address }) })),
      ]
    : [];
  const [choice, setChoice] = useState<string | null>(choices[0]?.value ?? null);
  const [to, setTo] = useState("");
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [sent, setSent] = useState<{ id: string; status: MessageStatus; lastError?: string | null } | null>(null);
  const [res, send] = useMutation(SendTestMail);

  if (tenantId && choices.length === 0) return <Text c="dimmed">{t("testMail.noTarget")}</Text>;

  const onSend = async () => {
    let target: TestMailTarget = { kind: "system" };
    if (tenantId) target = parseTestMailTarget(choice ?? "tenant", tenantId);
    const r = await send(testMailVariables(target, to));
    setErrs(serverProblem(r.error));
    if (!r.error && r.data) setSent(r.data.sendTestMail);
  };
  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        {t("testMail.hint")}
      </Text>
      <Group align="flex-end">
        {tenantId && (
          <Select
            label={t("testMail.through")}
            data={choices}
            value={choice}
            onChange={setChoice}
            allowDeselect={false}
            error={fieldError(errs, "tenantId", "mailboxId")}
            w={320}
          />
        )}
        <TextInput
          label={t("testMail.to")}
          type="email"
          value={to}
          onChange={(e) => setTo(e.currentTarget.value)}
          error={fieldError(errs, "to")}
          w={320}
        />
        <Button onClick={onSend} loading={res.fetching} disabled={to.trim() === ""}>
          {t("testMail.send")}
        </Button>
      </Group>
      <ErrorAlert messages={errs.general} />
      {sent && <LiveStatus key={sent.id} initial={sent} />}
    </Stack>
  );
}

// The message's status as the messageStatus subscription reports it, until final.
function LiveStatus({ initial }: { initial: { id: string; status: MessageStatus; lastError?: string | null } }) {
  const { t } = useTranslation("mailServer");
  const [{ data }] = useSubscription({ query: TestMailStatus, variables: { id: initial.id } });
  const m = data?.messageStatus ?? initial;
  return (
    <Stack gap={4} role="status" aria-live="polite" data-testid="test-mail-status">
      <Group gap="xs">
        <Text>{t("testMail.status")}</Text>
        <Badge color={statusColor(m.status)}>{t(`common:status.${m.status}`)}</Badge>
        {!isFinal(m.status) && <Loader size="xs" aria-hidden />}
      </Group>
      {m.lastError && (
        <Text c="red" size="sm">
          {m.lastError}
        </Text>
      )}
    </Stack>
  );
}

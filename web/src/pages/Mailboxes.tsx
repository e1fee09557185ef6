import { Alert, Badge, Button, Checkbox, Fieldset, Group, Modal, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery, type CombinedError } from "urql";
import { graphql } from "../gql";
import type { MailboxFieldsFragment } from "../gql/graphql";
import { formErrors, noErrors, type FormErrors } from "../lib/errors";
import { CheckResult, ServerSettingsForm } from "../lib/ServerSettingsForm";
import { CheckMailServer, toInput } from "../lib/serverSettings";
import { canAdminister, useSession } from "../lib/session";
import { TenantPicker, useTenantId } from "../lib/TenantPicker";
import { Empty, ErrorAlert, Loading } from "../lib/ui";
import { MailboxAccess } from "./MailboxAccess";
import { emptyMailbox, fromMailbox, hasChanges, settingsChanged, toAddVariables, toUpdateVariables, unshownErrors, validate, type MailboxFormState } from "./mailboxForm";

// Zusätzliche Postfächer (seed 001, SPEC §6, R9–R12): the tenant's
// mailboxes with the four check boxes, their own server settings when
// "mit Authentifizierung", who may use them, and the quota.

export const MailboxFields = graphql(`
  fragment MailboxFields on Mailbox {
    id
    tenantId
    address
    displayName
    sender
    replyTo
    global
    authenticated
    restricted
    settings { ...ServerSettingsFields }
  }
`);

const MailboxesQuery = graphql(`
  query Mailboxes($tenantId: ID!, $first: Int, $after: String, $search: String) {
    tenant(id: $tenantId) {
      id
      policy { mailboxQuota }
      all: mailboxes(first: 0) { totalCount }
      mailboxes(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...MailboxFields } }
      }
    }
  }
`);

const AddMailbox = graphql(`
  mutation AddMailbox($tenantId: ID!, $address: String!, $displayName: String!, $sender: Boolean!, $replyTo: Boolean!, $global: Boolean, $settings: ServerSettingsInput) {
    addMailbox(tenantId: $tenantId, address: $address, displayName: $displayName, sender: $sender, replyTo: $replyTo, global: $global, settings: $settings) {
      ...MailboxFields
    }
  }
`);

const UpdateMailbox = graphql(`
  mutation UpdateMailbox($id: ID!, $displayName: String, $sender: Boolean, $replyTo: Boolean, $global: Boolean, $settings: ServerSettingsInput, $removeSettings: Boolean) {
    updateMailbox(id: $id, displayName: $displayName, sender: $sender, replyTo: $replyTo, global: $global, settings: $settings, removeSettings: $removeSettings) {
      ...MailboxFields
    }
  }
`);

const RemoveMailbox = graphql(`
  mutation RemoveMailbox($id: ID!) {
    removeMailbox(id: $id)
  }
`);

const pageSize = 20;

type Dialog =
  | { kind: "add" }
  | { kind: "edit"; mailbox: MailboxFieldsFragment }
  | { kind: "access"; mailbox: MailboxFieldsFragment }
  | { kind: "remove"; mailbox: MailboxFieldsFragment }
  | null;

export function MailboxesPage() {
  const { t } = useTranslation("mailboxes");
  const [tenantId] = useTenantId();
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Text c="dimmed">{t("intro")}</Text>
      <TenantPicker />
      {tenantId ? <MailboxList key={tenantId} tenantId={tenantId} /> : <Empty>{t("chooseTenant")}</Empty>}
    </Stack>
  );
}

function MailboxList({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation("mailboxes");
  const session = useSession();
  const admin = canAdminister(session.role);
  const [search, setSearch] = useState("");
  const [searched] = useDebouncedValue(search, 250); // one request when typing stops
  const [cursors, setCursors] = useState<(string | null)[]>([null]); // one per page shown so far
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const after = cursors[cursors.length - 1];
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MailboxesQuery,
    variables: { tenantId, first: pageSize, after, search: searched.trim() || null },
  });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const close = (message?: string) => {
    setDialog(null);
    if (message) setNotice(message);
    reload();
  };

  const tenant = data?.tenant;
  const rows = tenant?.mailboxes.edges.map((e) => e.node) ?? [];
  const used = tenant?.all.totalCount ?? 0;
  const quota = tenant?.policy.mailboxQuota ?? 0;
  const shown = (cursors.length - 1) * pageSize + rows.length;

  return (
    <Stack>
      {tenant && (
        <Group justify="space-between" align="flex-end">
          <Stack gap={4}>
            <Text fw={500} data-testid="mailbox-quota">
              {t("quota", { used, quota })}
            </Text>
            {admin && used >= quota && (
              <Text size="sm" c="dimmed">
                {t("quotaFull")}
              </Text>
            )}
          </Stack>
          {admin && (
            <Button
              onClick={() => {
                setNotice(null);
                setDialog({ kind: "add" });
              }}
            >
              {t("add")}
            </Button>
          )}
        </Group>
      )}
      {notice && (
        <Alert color="green" role="status" withCloseButton onClose={() => setNotice(null)} closeButtonLabel={t("common:close")}>
          {notice}
        </Alert>
      )}
      <TextInput
        label={t("search")}
        type="search"
        value={search}
        onChange={(e) => {
          setSearch(e.currentTarget.value);
          setCursors([null]);
        }}
        maw={420}
      />
      <ErrorAlert error={error} />
      {fetching && !data && <Loading />}
      {data && !tenant && <Empty>{t("common:code.NOT_FOUND")}</Empty>}
      {tenant && rows.length === 0 && <Empty />}
      {rows.length > 0 && (
        <Table striped highlightOnHover aria-label={t("title")}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("address")}</Table.Th>
              <Table.Th>{t("displayName")}</Table.Th>
              <Table.Th>{t("sender")}</Table.Th>
              <Table.Th>{t("replyTo")}</Table.Th>
              <Table.Th>{t("global")}</Table.Th>
              <Table.Th>{t("authenticated")}</Table.Th>
              <Table.Th>{t("restricted")}</Table.Th>
              <Table.Th>{t("actions")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((m) => {
              const own = m.tenantId === tenantId;
              return (
                <Table.Tr key={m.id}>
                  <Table.Td>{m.address}</Table.Td>
                  <Table.Td>{m.displayName}</Table.Td>
                  <FlagCell on={m.sender} />
                  <FlagCell on={m.replyTo} />
                  <FlagCell on={m.global} />
                  <FlagCell on={m.authenticated} />
                  <FlagCell on={m.restricted} />
                  <Table.Td>
                    {own ? (
                      <Group gap="xs" wrap="nowrap">
                        <Button size="xs" variant="default" onClick={() => setDialog({ kind: "edit", mailbox: m })} aria-label={`${admin ? t("common:edit") : t("details")}: ${m.address}`}>
                          {admin ? t("common:edit") : t("details")}
                        </Button>
                        <Button size="xs" variant="default" onClick={() => setDialog({ kind: "access", mailbox: m })} aria-label={`${t("access")}: ${m.address}`}>
                          {t("access")}
                        </Button>
                        {admin && (
                          <Button size="xs" variant="light" color="red" onClick={() => setDialog({ kind: "remove", mailbox: m })} aria-label={`${t("remove")}: ${m.address}`}>
                            {t("remove")}
                          </Button>
                        )}
                      </Group>
                    ) : (
                      <Badge variant="light">{t("foreign")}</Badge>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      {tenant && (
        <Group>
          {cursors.length > 1 && (
            <Button variant="default" onClick={() => setCursors(cursors.slice(0, -1))}>
              {t("previous")}
            </Button>
          )}
          <Text size="sm">{t("common:shownOf", { shown, total: tenant.mailboxes.totalCount })}</Text>
          {tenant.mailboxes.pageInfo.hasNextPage && (
            <Button variant="default" onClick={() => setCursors([...cursors, tenant.mailboxes.pageInfo.endCursor ?? null])}>
              {t("next")}
            </Button>
          )}
        </Group>
      )}

      <Modal closeButtonProps={{ "aria-label": t("common:close") }} opened={dialog?.kind === "add" || dialog?.kind === "edit"} onClose={() => setDialog(null)} size="xl"
        title={dialog?.kind === "edit" ? t(admin ? "editTitle" : "detailsTitle", { address: dialog.mailbox.address }) : t("addTitle")}>
        {dialog?.kind === "add" && <MailboxForm tenantId={tenantId} onDone={close} onCancel={() => setDialog(null)} />}
        {dialog?.kind === "edit" && <MailboxForm tenantId={tenantId} mailbox={dialog.mailbox} readOnly={!admin} onDone={close} onCancel={() => setDialog(null)} />}
      </Modal>
      <Modal closeButtonProps={{ "aria-label": t("common:close") }} opened={dialog?.kind === "access"} onClose={() => close()} size="lg" title={dialog?.kind === "access" ? t("accessTitle", { address: dialog.mailbox.address }) : ""}>
        {dialog?.kind === "access" && <MailboxAccess mailboxId={dialog.mailbox.id} tenantId={tenantId} canEdit={admin} />}
      </Modal>
      <Modal closeButtonProps={{ "aria-label": t("common:close") }} opened={dialog?.kind === "remove"} onClose={() => setDialog(null)} title={dialog?.kind === "remove" ? t("removeTitle", { address: dialog.mailbox.address }) : ""}>
        {dialog?.kind === "remove" && <RemoveConfirm mailbox={dialog.mailbox} onDone={close} onCancel={() => setDialog(null)} />}
      </Modal>
    </Stack>
  );
}

function FlagCell({ on }: { on: boolean }) {
  const { t } = useTranslation("mailboxes");
  return (
    <Table.Td>
      <Text size="sm" c={on ? undefined : "dimmed"} fw={on ? 600 : undefined}>
        {on ? t("flagOn") : t("flagOff")}
      </Text>
    </Table.Td>
  );
}

// Add (no mailbox) or edit (a mailbox): address and display name, the four
// check boxes, and the own server settings when "mit Authentifizierung".
function MailboxForm({
  tenantId,
  mailbox,
  readOnly,
  onDone,
  onCancel,
}: {
  tenantId: string;
  mailbox?: MailboxFieldsFragment;
  readOnly?: boolean;
  onDone: (message?: string) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation("mailboxes");
  const session = useSession();
  const systemAdmin = session.role === "SYSTEM_ADMIN";
  const [before] = useState<MailboxFormState>(() => (mailbox ? fromMailbox(mailbox) : emptyMailbox()));
  const [s, setS] = useState<MailboxFormState>(before);
  const [own, setOwn] = useState<Record<string, string>>({});
  const [opError, setOpError] = useState<CombinedError | null>(null);
  const [nothing, setNothing] = useState(false);
  const [{ fetching: adding }, add] = useMutation(AddMailbox);
  const [{ fetching: updating }, update] = useMutation(UpdateMailbox);
  const [check, runCheck] = useMutation(CheckMailServer);
  const errs = formErrors(t, opError);
  const general = unshownErrors(errs, s.authenticated);
  const checkErrs = formErrors(t, check.error);
  const checkGeneral = unshownErrors(checkErrs, true);
  const settingsErrs: FormErrors = { ...noErrors, fields: { ...checkErrs.fields, ...errs.fields } };
  const set = <K extends keyof MailboxFormState>(k: K, v: MailboxFormState[K]) => {
    setNothing(false);
    setS((p) => ({ ...p, [k]: v }));
  };
  const fieldErr = (name: string) => (own[name] ? t(own[name]) : errs.fields[name]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (readOnly) return;
    const v = validate(s);
    setOwn(v);
    setOpError(null);
    if (Object.keys(v).length > 0) return;
    if (!mailbox) {
      const r = await add(toAddVariables(tenantId, s, systemAdmin));
      if (r.error) setOpError(r.error);
      else onDone(t("added", { address: r.data?.addMailbox.address ?? s.address.trim() }));
      return;
    }
    const vars = toUpdateVariables(mailbox.id, before, s, systemAdmin);
    if (!hasChanges(vars)) {
      setNothing(true);
      return;
    }
    const r = await update(vars);
    if (r.error) setOpError(r.error);
    else onDone(t("saved"));
  };

  const checkNow = () => {
    if (!mailbox) {
      void runCheck({ tenantId, input: toInput(s.settings) });
    } else if (!before.authenticated || settingsChanged(before.settings, s.settings)) {
      void runCheck({ mailboxId: mailbox.id, input: toInput(s.settings) });
    } else {
      void runCheck({ mailboxId: mailbox.id });
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {general.length > 0 && <ErrorAlert messages={general} />}
        {readOnly && <Text c="dimmed">{t("common:readOnly")}</Text>}
        <TextInput
          label={t("address")}
          value={s.address}
          onChange={(e) => set("address", e.currentTarget.value)}
          readOnly={!!mailbox || readOnly}
          required
          type="email"
          autoComplete="off"
          data-autofocus
          error={fieldErr("address")}
        />
        <TextInput
          label={t("displayName")}
          value={s.displayName}
          onChange={(e) => set("displayName", e.currentTarget.value)}
          readOnly={readOnly}
          required
          error={fieldErr("displayName")}
        />
        <Group gap="xl">
          <Checkbox label={t("sender")} description={t("senderHint")} checked={s.sender} disabled={readOnly}
            onChange={(e) => set("sender", e.currentTarget.checked)} error={fieldErr("sender")} />
          <Checkbox label={t("replyTo")} description={t("replyToHint")} checked={s.replyTo} disabled={readOnly}
            onChange={(e) => set("replyTo", e.currentTarget.checked)} error={fieldErr("replyTo")} />
          {(systemAdmin || (readOnly && s.global)) && (
            <Checkbox label={t("global")} description={t("globalHint")} checked={s.global} disabled={readOnly || !systemAdmin}
              onChange={(e) => set("global", e.currentTarget.checked)} error={fieldErr("global")} />
          )}
          <Checkbox label={t("authenticated")} description={t("authenticatedHint")} checked={s.authenticated} disabled={readOnly}
            onChange={(e) => set("authenticated", e.currentTarget.checked)} />
        </Group>
        {s.authenticated && (
          <Fieldset legend={t("settingsTitle")}>
            <Stack>
              <ServerSettingsForm
                value={s.settings}
                onChange={(next) => set("settings", next)}
                stored={mailbox?.settings}
                errors={settingsErrs}
                readOnly={readOnly}
              />
              {!readOnly && (
                <Group>
                  <Button variant="default" onClick={checkNow} loading={check.fetching}>
                    {t("common:settings.check")}
                  </Button>
                  {mailbox && <Text size="sm" c="dimmed">{t("checkSaved")}</Text>}
                </Group>
              )}
              {check.error && <ErrorAlert messages={checkGeneral} />}
              {check.data && <CheckResult ok={check.data.checkMailServer.ok} steps={check.data.checkMailServer.steps} />}
            </Stack>
          </Fieldset>
        )}
        {nothing && <Text role="status">{t("nothingChanged")}</Text>}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {readOnly ? t("common:close") : t("common:cancel")}
          </Button>
          {!readOnly && (
            <Button type="submit" loading={adding || updating}>
              {mailbox ? t("common:save") : t("common:add")}
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

function RemoveConfirm({ mailbox, onDone, onCancel }: { mailbox: MailboxFieldsFragment; onDone: (message?: string) => void; onCancel: () => void }) {
  const { t } = useTranslation("mailboxes");
  const [{ fetching, error }, remove] = useMutation(RemoveMailbox);
  return (
    <Stack>
      <Text>{t("removeText", { address: mailbox.address })}</Text>
      <ErrorAlert error={error} />
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel} data-autofocus>
          {t("common:cancel")}
        </Button>
        <Button
          color="red"
          loading={fetching}
          onClick={async () => {
            const r = await remove({ id: mailbox.id });
            if (!r.error) onDone(t("removed", { address: mailbox.address }));
          }}
        >
          {t("remove")}
        </Button>
      </Group>
    </Stack>
  );
}

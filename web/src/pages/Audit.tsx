import { Anchor, Button, Group, List, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";
import { graphql } from "../gql";
import type { AuditLogQuery, MailboxAccessAsOfQuery, UserOptionsAsOfQuery } from "../gql/graphql";
import { fieldError, formErrors } from "../lib/errors";
import { isSystemRole, useSession } from "../lib/session";
import { TenantPicker, useTenantId } from "../lib/TenantPicker";
import { Empty, ErrorAlert, Loading } from "../lib/ui";
import { auditPageSize, auditVariables, changeText, emptyFilter, localToRFC3339, type AuditFilter } from "./auditFilter";

// Audit and history (SPEC §3, §6): the audit log newest first with its
// field changes; "as of" a time, a user's options and a mailbox's access
// then, next to now; parked events (R35) for system roles. The page only
// reads: auditors, system administrators and tenant owners and
// administrators see it (auditLog's rule), employees never.

const AuditLog = graphql(`
  query AuditLog($tenantId: ID, $streamId: String, $since: Time, $until: Time, $first: Int, $after: String, $newestFirst: Boolean) {
    auditLog(tenantId: $tenantId, streamId: $streamId, since: $since, until: $until, first: $first, after: $after, newestFirst: $newestFirst) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node { position at actor tenantId action streamId changes { field from to } }
      }
    }
  }
`);

const AuditTenantNames = graphql(`
  query AuditTenantNames {
    tenants(first: 500) { edges { node { id name } } }
  }
`);

const ParkedEvents = graphql(`
  query ParkedEvents {
    parkedEvents { position eventType consumer error at }
  }
`);

const AsOfUsers = graphql(`
  query AsOfUsers($tenantId: ID!, $search: String) {
    tenant(id: $tenantId) {
      id
      users(first: 50, search: $search) { edges { node { id displayName loginName } } }
    }
  }
`);

const AsOfMailboxes = graphql(`
  query AsOfMailboxes($tenantId: ID!, $search: String) {
    tenant(id: $tenantId) {
      id
      mailboxes(first: 50, search: $search) { edges { node { id address displayName } } }
    }
  }
`);

const UserOptions = graphql(`
  query UserOptionsAsOf($userId: ID!, $at: Time) {
    senderOptions(userId: $userId, at: $at) { address displayName source transport }
    replyToOptions(userId: $userId, at: $at) { address displayName source transport }
  }
`);

const MailboxAccess = graphql(`
  query MailboxAccessAsOf($mailboxId: ID!, $at: Time) {
    mailboxAccess(mailboxId: $mailboxId, at: $at, first: 500) {
      totalCount
      edges { node { id displayName loginName } }
    }
  }
`);

type Entry = AuditLogQuery["auditLog"]["edges"][number]["node"];

export function AuditPage() {
  const { t } = useTranslation("audit");
  const session = useSession();
  const system = isSystemRole(session.role);
  const [tenantId] = useTenantId();
  return (
    <Stack gap="xl">
      <Title order={2}>{t("title")}</Title>
      {system && <TenantPicker />}
      <AuditLogSection tenantId={tenantId} />
      <AsOfSection tenantId={tenantId} />
      {system && <ParkedSection />}
    </Stack>
  );
}

// useTenantNames maps tenant ids to names for the log's tenant column.
// (tenants lists a tenant user's own tenant only, every tenant for system roles.)
function useTenantNames(): (id: string | null | undefined) => string | null {
  const [{ data }] = useQuery({ query: AuditTenantNames });
  const names = new Map((data?.tenants.edges ?? []).map((e) => [e.node.id, e.node.name]));
  return (id) => (id ? (names.get(id) ?? id) : null);
}

function formatTime(lang: string, iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" }).format(d);
}

// The audit log: a filter form (applied on submit), then pages of entries
// newest first, with "load more" after the last.
function AuditLogSection({ tenantId }: { tenantId: string | null }) {
  const { t, i18n } = useTranslation("audit");
  const [draft, setDraft] = useState<AuditFilter>(emptyFilter);
  const [applied, setApplied] = useState<AuditFilter>(emptyFilter);
  const [more, setMore] = useState<string[]>([]); // cursors of the pages after the first
  const filter = { ...applied, tenantId };
  const [{ data, fetching, error }] = useQuery({ query: AuditLog, variables: auditVariables(filter) });
  const errs = formErrors(t, error);
  const tenantName = useTenantNames();
  const apply = (next: AuditFilter) => {
    setDraft(next);
    setApplied(next);
    setMore([]);
  };
  const showStream = (streamId: string) => apply({ ...draft, streamId });
  const first = data?.auditLog;
  const total = first?.totalCount ?? 0;
  const rowProps = { lang: i18n.language, tenantName, showStream };
  return (
    <Stack component="section" aria-labelledby="audit-log-title" gap="sm">
      <Title order={3} id="audit-log-title">
        {t("log.title")}
      </Title>
      <Text size="sm" c="dimmed">
        {t("log.intro")}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <Group align="flex-start" wrap="wrap">
          <TextInput
            type="datetime-local"
            step={1}
            label={t("log.since")}
            value={draft.since}
            onChange={(e) => setDraft({ ...draft, since: e.currentTarget.value })}
            error={fieldError(errs, "since")}
          />
          <TextInput
            type="datetime-local"
            step={1}
            label={t("log.until")}
            value={draft.until}
            onChange={(e) => setDraft({ ...draft, until: e.currentTarget.value })}
            error={fieldError(errs, "until")}
          />
          <TextInput
            label={t("log.streamId")}
            description={t("log.streamIdHint")}
            value={draft.streamId}
            onChange={(e) => setDraft({ ...draft, streamId: e.currentTarget.value })}
            error={fieldError(errs, "streamId")}
            miw={280}
          />
          <Group mt={24}>
            <Button type="submit">{t("log.apply")}</Button>
            <Button variant="default" onClick={() => apply(emptyFilter)}>
              {t("log.reset")}
            </Button>
          </Group>
        </Group>
      </form>
      <ErrorAlert messages={errs.general} />
      {fetching && !first && <Loading />}
      {first && first.edges.length === 0 && <Empty />}
      {first && first.edges.length > 0 && (
        <Table.ScrollContainer minWidth={900}>
          <Table striped verticalSpacing="xs" aria-labelledby="audit-log-title">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("log.time")}</Table.Th>
                <Table.Th>{t("log.actor")}</Table.Th>
                <Table.Th>{t("log.action")}</Table.Th>
                <Table.Th>{t("log.target")}</Table.Th>
                <Table.Th>{t("log.tenant")}</Table.Th>
                <Table.Th>{t("log.changes")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {first.edges.map((e) => (
                <EntryRow key={e.cursor} entry={e.node} {...rowProps} />
              ))}
            </Table.Tbody>
            {more.map((after) => (
              <MorePage key={after} filter={filter} after={after} {...rowProps} />
            ))}
          </Table>
        </Table.ScrollContainer>
      )}
      {first && (
        <LoadMore
          filter={filter}
          cursors={more}
          firstPage={first}
          total={total}
          onMore={(cursor) => setMore((m) => [...m, cursor])}
        />
      )}
    </Stack>
  );
}

interface RowProps {
  lang: string;
  tenantName: (id: string | null | undefined) => string | null;
  showStream: (streamId: string) => void;
}

function EntryRow({ entry, lang, tenantName, showStream }: { entry: Entry } & RowProps) {
  const { t } = useTranslation("audit");
  return (
    <Table.Tr>
      <Table.Td style={{ whiteSpace: "nowrap" }}>
        <time dateTime={entry.at}>{formatTime(lang, entry.at)}</time>
      </Table.Td>
      <Table.Td>{entry.actor}</Table.Td>
      <Table.Td>{entry.action}</Table.Td>
      <Table.Td>
        <Anchor component="button" type="button" size="sm" onClick={() => showStream(entry.streamId)} title={t("log.showHistory", { stream: entry.streamId })}>
          {entry.streamId}
        </Anchor>
      </Table.Td>
      <Table.Td>{entry.tenantId ? (tenantName(entry.tenantId) ?? entry.tenantId) : t("log.systemWide")}</Table.Td>
      <Table.Td>
        {entry.changes.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t("log.noChanges")}
          </Text>
        ) : (
          <List size="sm" listStyleType="none" spacing={2}>
            {entry.changes.map((c) => (
              <List.Item key={c.field}>
                <Text span fw={600} size="sm">
                  {c.field}
                </Text>
                {": "}
                {changeText(c.from, c.to)}
              </List.Item>
            ))}
          </List>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

// A page after the first: its rows as one more body of the same table.
function MorePage({ filter, after, ...rowProps }: { filter: AuditFilter; after: string } & RowProps) {
  const [{ data }] = useQuery({ query: AuditLog, variables: auditVariables(filter, after) });
  return (
    <Table.Tbody>
      {(data?.auditLog.edges ?? []).map((e) => (
        <EntryRow key={e.cursor} entry={e.node} {...rowProps} />
      ))}
    </Table.Tbody>
  );
}

// The count and "load more": the last loaded page tells whether there is
// more and where it ends (urql answers the same page from its cache).
function LoadMore({
  filter,
  cursors,
  firstPage,
  total,
  onMore,
}: {
  filter: AuditFilter;
  cursors: string[];
  firstPage: AuditLogQuery["auditLog"];
  total: number;
  onMore: (cursor: string) => void;
}) {
  const { t } = useTranslation("audit");
  const last = cursors.length ? cursors[cursors.length - 1] : null;
  const [{ data, fetching, error }] = useQuery({ query: AuditLog, variables: auditVariables(filter, last), pause: last === null });
  const page = last === null ? firstPage : data?.auditLog;
  const shown = cursors.length * auditPageSize + (page?.edges.length ?? 0);
  return (
    <Stack gap="xs">
      <ErrorAlert error={last === null ? null : error} />
      <Group>
        <Text size="sm" c="dimmed" role="status">
          {t("log.count", { shown: Math.min(shown, total), total })}
        </Text>
        {page?.pageInfo.hasNextPage && page.pageInfo.endCursor && (
          <Button variant="default" size="xs" loading={fetching} onClick={() => onMore(page.pageInfo.endCursor!)}>
            {t("common:loadMore")}
          </Button>
        )}
      </Group>
    </Stack>
  );
}

// "As of": a user's options and a mailbox's access at a past time, next
// to now (senderOptions, replyToOptions, mailboxAccess with at).
function AsOfSection({ tenantId }: { tenantId: string | null }) {
  const { t, i18n } = useTranslation("audit");
  const [atLocal, setAtLocal] = useState("");
  const user = useSearchSelect();
  const mailbox = useSearchSelect();
  const [tenantSeen, setTenantSeen] = useState(tenantId);
  if (tenantSeen !== tenantId) {
    // Another tenant: its users and mailboxes, not the last one's.
    setTenantSeen(tenantId);
    user.clear();
    mailbox.clear();
  }
  const userId = user.value;
  const mailboxId = mailbox.value;
  const at = localToRFC3339(atLocal);
  const [users] = useQuery({ query: AsOfUsers, variables: { tenantId: tenantId ?? "", search: user.query }, pause: !tenantId });
  const [mailboxes] = useQuery({ query: AsOfMailboxes, variables: { tenantId: tenantId ?? "", search: mailbox.query }, pause: !tenantId });
  const [thenOpts] = useQuery({ query: UserOptions, variables: { userId: userId ?? "", at }, pause: !userId || !at });
  const [nowOpts] = useQuery({ query: UserOptions, variables: { userId: userId ?? "", at: null }, pause: !userId });
  const [thenAccess] = useQuery({ query: MailboxAccess, variables: { mailboxId: mailboxId ?? "", at }, pause: !mailboxId || !at });
  const [nowAccess] = useQuery({ query: MailboxAccess, variables: { mailboxId: mailboxId ?? "", at: null }, pause: !mailboxId });
  const thenErrs = formErrors(t, thenOpts.error ?? thenAccess.error);
  const atError = fieldError(thenErrs, "at");
  const userOptions = (users.data?.tenant?.users.edges ?? []).map((e) => ({ value: e.node.id, label: `${e.node.displayName} (${e.node.loginName})` }));
  const mailboxOptions = (mailboxes.data?.tenant?.mailboxes.edges ?? []).map((e) => ({ value: e.node.id, label: `${e.node.displayName} <${e.node.address}>` }));
  const thenTitle = at ? t("asOf.then", { at: formatTime(i18n.language, at) }) : t("asOf.thenNoTime");
  return (
    <Stack component="section" aria-labelledby="audit-asof-title" gap="sm">
      <Title order={3} id="audit-asof-title">
        {t("asOf.title")}
      </Title>
      <Text size="sm" c="dimmed">
        {t("asOf.intro")}
      </Text>
      {!tenantId ? (
        <Text role="status">{t("asOf.chooseTenant")}</Text>
      ) : (
        <>
          <Group align="flex-start" wrap="wrap">
            <TextInput
              type="datetime-local"
              step={1}
              label={t("asOf.at")}
              description={t("asOf.atHint")}
              value={atLocal}
              onChange={(e) => setAtLocal(e.currentTarget.value)}
              error={atError}
            />
            <Select
              label={t("asOf.user")}
              placeholder={t("asOf.userPlaceholder")}
              data={user.data(userOptions)}
              value={userId}
              onChange={user.choose}
              searchable
              searchValue={user.search}
              onSearchChange={user.setSearch}
              clearable
              nothingFoundMessage={t("common:empty")}
              miw={280}
            />
            <Select
              label={t("asOf.mailbox")}
              placeholder={t("asOf.mailboxPlaceholder")}
              data={mailbox.data(mailboxOptions)}
              value={mailboxId}
              onChange={mailbox.choose}
              searchable
              searchValue={mailbox.search}
              onSearchChange={mailbox.setSearch}
              clearable
              nothingFoundMessage={t("common:empty")}
              miw={280}
            />
          </Group>
          <ErrorAlert messages={[...thenErrs.general, ...formErrors(t, users.error ?? mailboxes.error ?? nowOpts.error ?? nowAccess.error).general]} />
          {(userId || mailboxId) && (
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <Paper component="section" aria-label={thenTitle} withBorder p="sm">
                <Stack gap="sm">
                  <Title order={4}>{thenTitle}</Title>
                  {at && !atError && (
                    <>
                      {userId && <OptionsView result={thenOpts} />}
                      {mailboxId && <AccessView result={thenAccess} />}
                    </>
                  )}
                </Stack>
              </Paper>
              <Paper component="section" aria-label={t("asOf.now")} withBorder p="sm">
                <Stack gap="sm">
                  <Title order={4}>{t("asOf.now")}</Title>
                  {userId && <OptionsView result={nowOpts} />}
                  {mailboxId && <AccessView result={nowAccess} />}
                </Stack>
              </Paper>
            </SimpleGrid>
          )}
        </>
      )}
    </Stack>
  );
}

// useSearchSelect is a Select's state that searches on the server: the
// search text goes to the query unless it is just the chosen item's label
// (Mantine puts it there), and the chosen item stays among the choices.
function useSearchSelect() {
  const [chosen, setChosen] = useState<{ value: string; label: string } | null>(null);
  const [search, setSearch] = useState("");
  return {
    value: chosen?.value ?? null,
    search,
    setSearch,
    query: search === chosen?.label ? null : search || null,
    choose: (value: string | null, option: { value: string; label: string } | null) => setChosen(value && option ? option : null),
    clear: () => {
      setChosen(null);
      setSearch("");
    },
    data: (options: { value: string; label: string }[]) =>
      chosen && !options.some((o) => o.value === chosen.value) ? [chosen, ...options] : options,
  };
}

type OptionsResult = { data?: UserOptionsAsOfQuery; fetching: boolean };
type Option = UserOptionsAsOfQuery["senderOptions"][number];

function OptionsView({ result }: { result: OptionsResult }) {
  const { t } = useTranslation("audit");
  if (!result.data) return result.fetching ? <Loading /> : null;
  return (
    <>
      <OptionTable title={t("asOf.senderOptions")} options={result.data.senderOptions} />
      <OptionTable title={t("asOf.replyToOptions")} options={result.data.replyToOptions} />
    </>
  );
}

function OptionTable({ title, options }: { title: string; options: Option[] }) {
  const { t } = useTranslation("audit");
  return (
    <Stack gap={4}>
      <Text fw={600}>{title}</Text>
      {options.length === 0 ? (
        <Empty>{t("asOf.noOptions")}</Empty>
      ) : (
        <Table aria-label={title} verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("asOf.address")}</Table.Th>
              <Table.Th>{t("asOf.displayName")}</Table.Th>
              <Table.Th>{t("asOf.source")}</Table.Th>
              <Table.Th>{t("asOf.transport")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {options.map((o) => (
              <Table.Tr key={`${o.source}:${o.address}`}>
                <Table.Td>{o.address}</Table.Td>
                <Table.Td>{o.displayName}</Table.Td>
                <Table.Td>{t(`asOf.sourceKind.${o.source}`)}</Table.Td>
                <Table.Td>{t(`common:transport.${o.transport}`)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

type AccessResult = { data?: MailboxAccessAsOfQuery; fetching: boolean };

function AccessView({ result }: { result: AccessResult }) {
  const { t } = useTranslation("audit");
  const title = t("asOf.access");
  if (!result.data) return result.fetching ? <Loading /> : null;
  const conn = result.data.mailboxAccess;
  return (
    <Stack gap={4}>
      <Text fw={600}>{title}</Text>
      {conn.edges.length === 0 ? (
        <Empty>{t("asOf.noAccess")}</Empty>
      ) : (
        <List aria-label={title} size="sm">
          {conn.edges.map((e) => (
            <List.Item key={e.node.id}>
              {e.node.displayName} ({e.node.loginName})
            </List.Item>
          ))}
        </List>
      )}
      {conn.totalCount > conn.edges.length && (
        <Text size="sm" c="dimmed">
          {t("common:shownOf", { shown: conn.edges.length, total: conn.totalCount })}
        </Text>
      )}
    </Stack>
  );
}

// Parked events (R35), for system administrators and auditors, when there
// are any.
function ParkedSection() {
  const { t, i18n } = useTranslation("audit");
  const [{ data, error }] = useQuery({ query: ParkedEvents });
  if (error) return <ErrorAlert error={error} />;
  const parked = data?.parkedEvents ?? [];
  if (parked.length === 0) return null;
  return (
    <Stack component="section" aria-labelledby="audit-parked-title" gap="sm">
      <Title order={3} id="audit-parked-title">
        {t("parked.title")}
      </Title>
      <Text size="sm" c="dimmed">
        {t("parked.intro")}
      </Text>
      <Table aria-labelledby="audit-parked-title" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("parked.position")}</Table.Th>
            <Table.Th>{t("parked.eventType")}</Table.Th>
            <Table.Th>{t("parked.consumer")}</Table.Th>
            <Table.Th>{t("parked.error")}</Table.Th>
            <Table.Th>{t("parked.at")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {parked.map((p) => (
            <Table.Tr key={`${p.consumer}:${p.position}`}>
              <Table.Td>{p.position}</Table.Td>
              <Table.Td>{p.eventType}</Table.Td>
              <Table.Td>{p.consumer}</Table.Td>
              <Table.Td>{p.error}</Table.Td>
              <Table.Td>{formatTime(i18n.language, p.at)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

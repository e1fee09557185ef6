import { Alert, Anchor, Button, Drawer, Group, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { MessageKind, MessageStatus, MessageViewFieldsFragment } from "../gql/graphql";
import { formErrors } from "../lib/errors";
import { isSystemRole, useSession } from "../lib/session";
import { TenantPicker, useTenantId } from "../lib/TenantPicker";
import { Empty, ErrorAlert, Loading } from "../lib/ui";
import { MessageView, StatusBadge, useLiveMessage } from "./MessageView";
import { actionsFor, type MessageAction } from "./messageActions";

// Messages (SPEC §6): newest first, filtered by status and kind, a page at a
// time; the detail with its attempt log, live while open; cancel, retry now
// and purge by role and status (R23, R25).
const MessagesList = graphql(`
  query MessagesList($tenantId: ID, $status: MessageStatus, $kind: MessageKind, $first: Int, $after: String) {
    messages(tenantId: $tenantId, status: $status, kind: $kind, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node { id kind tenantId status from to cc subject transport attempts createdAt }
      }
    }
  }
`);

const CancelMessage = graphql(`
  mutation CancelMessage($id: ID!) { cancelMessage(id: $id) { ...MessageViewFields } }
`);
const RetryMessageNow = graphql(`
  mutation RetryMessageNow($id: ID!) { retryMessageNow(id: $id) { ...MessageViewFields } }
`);
const PurgeMessageContent = graphql(`
  mutation PurgeMessageContent($id: ID!) { purgeMessageContent(id: $id) { ...MessageViewFields } }
`);

const pageSize = 50;
const statuses: MessageStatus[] = ["QUEUED", "SENDING", "RETRYING", "SENT", "FAILED", "REJECTED", "CANCELLED"];
const kinds: MessageKind[] = ["MESSAGE", "TEST", "SUPPORT", "AUTO_REPLY"];

interface PageInfo {
  hasNextPage: boolean;
  endCursor?: string | null;
  totalCount: number;
  count: number;
}

export function MessagesPage() {
  const { t } = useTranslation("messages");
  const session = useSession();
  const [tenantId] = useTenantId();
  const [status, setStatus] = useState<MessageStatus | null>(null);
  const [kind, setKind] = useState<MessageKind | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const filter = `${tenantId ?? ""}|${status ?? ""}|${kind ?? ""}`;
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Group align="flex-end">
        {isSystemRole(session.role) && <TenantPicker label={t("tenantAll")} />}
        <Select
          label={t("filter.status")}
          placeholder={t("filter.any")}
          data={statuses.map((s) => ({ value: s, label: t(`common:status.${s}`) }))}
          value={status}
          onChange={(v) => setStatus(v as MessageStatus | null)}
          clearable
          w={220}
        />
        <Select
          label={t("filter.kind")}
          placeholder={t("filter.any")}
          data={kinds.map((k) => ({ value: k, label: t(`common:kind.${k}`) }))}
          value={kind}
          onChange={(v) => setKind(v as MessageKind | null)}
          clearable
          w={220}
        />
      </Group>
      <MessageList key={filter} tenantId={tenantId} status={status} kind={kind} onOpen={setOpen} />
      <Drawer opened={!!open} onClose={() => setOpen(null)} position="right" size="xl" title={t("detail")} closeButtonProps={{ "aria-label": t("common:close") }}>
        {open && <MessageDetail id={open} />}
      </Drawer>
    </Stack>
  );
}

// The list, one page after another ("load more"): each page is its own
// query after the previous page's endCursor.
function MessageList({
  tenantId,
  status,
  kind,
  onOpen,
}: {
  tenantId: string | null;
  status: MessageStatus | null;
  kind: MessageKind | null;
  onOpen: (id: string) => void;
}) {
  const { t } = useTranslation("messages");
  const [afters, setAfters] = useState<(string | null)[]>([null]);
  const [infos, setInfos] = useState<Record<number, PageInfo>>({});
  const last = infos[afters.length - 1];
  const first = infos[0];
  const shown = Object.values(infos).reduce((n, i) => n + i.count, 0);
  return (
    <Stack gap="xs">
      {first && first.totalCount === 0 ? (
        <Empty>{t("none")}</Empty>
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table striped highlightOnHover aria-label={t("title")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("field.createdAt")}</Table.Th>
                <Table.Th>{t("field.status")}</Table.Th>
                <Table.Th>{t("field.kind")}</Table.Th>
                <Table.Th>{t("field.subject")}</Table.Th>
                <Table.Th>{t("field.from")}</Table.Th>
                <Table.Th>{t("field.to")}</Table.Th>
                <Table.Th>{t("field.transport")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            {afters.map((after, i) => (
              <MessageRows
                key={after ?? ""}
                vars={{ tenantId, status, kind, after }}
                onInfo={(info) => setInfos((m) => (sameInfo(m[i], info) ? m : { ...m, [i]: info }))}
                onOpen={onOpen}
              />
            ))}
          </Table>
        </Table.ScrollContainer>
      )}
      {first && first.totalCount > 0 && (
        <Group>
          <Text size="sm" c="dimmed">
            {t("common:shownOf", { shown, total: first.totalCount })}
          </Text>
          {last?.hasNextPage && last.endCursor && (
            <Button variant="default" size="xs" onClick={() => setAfters((a) => [...a, last.endCursor!])}>
              {t("common:loadMore")}
            </Button>
          )}
        </Group>
      )}
    </Stack>
  );
}

function sameInfo(a: PageInfo | undefined, b: PageInfo): boolean {
  return !!a && a.hasNextPage === b.hasNextPage && a.endCursor === b.endCursor && a.totalCount === b.totalCount && a.count === b.count;
}

function MessageRows({
  vars,
  onInfo,
  onOpen,
}: {
  vars: { tenantId: string | null; status: MessageStatus | null; kind: MessageKind | null; after: string | null };
  onInfo: (i: PageInfo) => void;
  onOpen: (id: string) => void;
}) {
  const { t, i18n } = useTranslation("messages");
  const [{ data, fetching, error }] = useQuery({ query: MessagesList, variables: { ...vars, first: pageSize } });
  const conn = data?.messages;
  useEffect(() => {
    if (conn) onInfo({ hasNextPage: conn.pageInfo.hasNextPage, endCursor: conn.pageInfo.endCursor, totalCount: conn.totalCount, count: conn.edges.length });
  }, [conn, onInfo]);
  if (!conn) {
    return (
      <Table.Tbody>
        <Table.Tr>
          <Table.Td colSpan={7}>{fetching ? <Loading /> : <ErrorAlert error={error} />}</Table.Td>
        </Table.Tr>
      </Table.Tbody>
    );
  }
  return (
    <Table.Tbody>
      {conn.edges.map(({ node: m }) => (
        <Table.Tr key={m.id} onClick={() => onOpen(m.id)} style={{ cursor: "pointer" }}>
          <Table.Td>{new Date(m.createdAt).toLocaleString(i18n.language)}</Table.Td>
          <Table.Td>
            <StatusBadge status={m.status} />
          </Table.Td>
          <Table.Td>{t(`common:kind.${m.kind}`)}</Table.Td>
          <Table.Td>
            <Anchor
              component="button"
              type="button"
              onClick={(e: React.MouseEvent) => {
                e.stopPropagation();
                onOpen(m.id);
              }}
            >
              {m.subject || t("noSubject")}
            </Anchor>
          </Table.Td>
          <Table.Td>{m.from}</Table.Td>
          <Table.Td>{[...m.to, ...m.cc].join(", ")}</Table.Td>
          <Table.Td>{m.transport ? t(`common:transport.${m.transport}`) : ""}</Table.Td>
        </Table.Tr>
      ))}
    </Table.Tbody>
  );
}

// One message, live while the drawer is open, with the actions the
// viewer's role and the message's status allow.
function MessageDetail({ id }: { id: string }) {
  const { t } = useTranslation("messages");
  const { message, error, fetching } = useLiveMessage(id);
  if (fetching) return <Loading />;
  if (!message) return <ErrorAlert error={error} />;
  return (
    <Stack>
      <MessageActions message={message} />
      <MessageView message={message} />
      <Text size="xs" c="dimmed">
        {t("contentNote")}
      </Text>
    </Stack>
  );
}

function MessageActions({ message }: { message: MessageViewFieldsFragment }) {
  const { t } = useTranslation("messages");
  const session = useSession();
  const [done, setDone] = useState<MessageAction | null>(null);
  const [confirmPurge, setConfirmPurge] = useState(false);
  const [cancelRes, cancel] = useMutation(CancelMessage);
  const [retryRes, retry] = useMutation(RetryMessageNow);
  const [purgeRes, purge] = useMutation(PurgeMessageContent);
  const actions = actionsFor(session.role, message.status);
  const error = cancelRes.error ?? retryRes.error ?? purgeRes.error;
  const conflict = formErrors(t, error).codes.includes("CONFLICT");
  const busy = cancelRes.fetching || retryRes.fetching || purgeRes.fetching;
  const run = async (a: MessageAction) => {
    setDone(null);
    const res = a === "cancel" ? await cancel({ id: message.id }) : a === "retry" ? await retry({ id: message.id }) : await purge({ id: message.id });
    if (!res.error) setDone(a);
    setConfirmPurge(false);
  };
  // The outcome of an action stays in view after the status changed.
  if (actions.length === 0 && !done && !error) return null;
  return (
    <Stack gap="xs">
      <Group>
        {actions.includes("cancel") && (
          <Button color="red" variant="light" onClick={() => void run("cancel")} loading={cancelRes.fetching} disabled={busy}>
            {t("action.cancel")}
          </Button>
        )}
        {actions.includes("retry") && (
          <Button variant="light" onClick={() => void run("retry")} loading={retryRes.fetching} disabled={busy}>
            {t("action.retry")}
          </Button>
        )}
        {actions.includes("purge") && !confirmPurge && (
          <Button variant="default" onClick={() => setConfirmPurge(true)} disabled={busy}>
            {t("action.purge")}
          </Button>
        )}
        {confirmPurge && (
          <>
            <Text size="sm">{t("action.purgeConfirm")}</Text>
            <Button color="red" onClick={() => void run("purge")} loading={purgeRes.fetching}>
              {t("action.purgeNow")}
            </Button>
            <Button variant="default" onClick={() => setConfirmPurge(false)}>
              {t("common:cancel")}
            </Button>
          </>
        )}
      </Group>
      {done && (
        <Alert color="green" role="status">
          {t(`done.${done}`)}
        </Alert>
      )}
      {conflict ? (
        <Alert color="yellow" role="alert">
          {t("conflict")}
        </Alert>
      ) : (
        <ErrorAlert error={error} />
      )}
    </Stack>
  );
}

import { Badge, Group, List, Stack, Table, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useQuery, useSubscription } from "urql";
import { graphql } from "../gql";
import type { MessageViewFieldsFragment, MessageStatus } from "../gql/graphql";

// One message as the Kommunikationsmanager and the Messages page show it:
// status, addresses, the attempt log and — for those the server returns it
// to — why it took its transport (resolution, R23). Bodies are not part of
// the API (R25).
graphql(`
  fragment MessageViewFields on Message {
    id
    kind
    tenantId
    status
    from
    replyTo
    to
    cc
    subject
    transport
    attempts
    attemptLog { number at transport outcome smtpCode detail }
    nextAttemptAt
    lastError
    messageId
    rejectedRecipients
    resolution {
      rule
      transport
      mailboxId
      skipped { candidate reason }
      grantedBy
      grant { userId groupId at position }
    }
    createdAt
    updatedAt
  }
`);

const MessageViewQuery = graphql(`
  query MessageView($id: ID!) {
    message(id: $id) { ...MessageViewFields }
  }
`);

const MessageViewStatus = graphql(`
  subscription MessageViewStatus($id: ID!) {
    messageStatus(id: $id) { ...MessageViewFields }
  }
`);

export const finalStatuses: MessageStatus[] = ["SENT", "FAILED", "REJECTED", "CANCELLED"];

export function statusColor(s: MessageStatus): string {
  switch (s) {
    case "SENT":
      return "green";
    case "FAILED":
    case "REJECTED":
      return "red";
    case "RETRYING":
      return "orange";
    case "CANCELLED":
      return "gray";
    default:
      return "blue";
  }
}

export function StatusBadge({ status }: { status: MessageStatus }) {
  const { t } = useTranslation();
  return (
    <Badge color={statusColor(status)} variant="light" data-testid="message-status">
      {t(`common:status.${status}`)}
    </Badge>
  );
}

// The message now and at every change until it is final (messageStatus);
// initial is what a mutation already returned, so nothing is asked twice.
export function useLiveMessage(id: string, initial?: MessageViewFieldsFragment | null) {
  const [q] = useQuery({ query: MessageViewQuery, variables: { id }, pause: !!initial, requestPolicy: "network-only" });
  const [s] = useSubscription({ query: MessageViewStatus, variables: { id } });
  const message = s.data?.messageStatus ?? initial ?? q.data?.message ?? null;
  return { message, error: q.error ?? s.error, fetching: q.fetching && !message };
}

function when(t: (k: string) => string, v: string | null | undefined, lng: string): string {
  if (!v) return t("messages:noneValue");
  return new Date(v).toLocaleString(lng);
}

export function MessageView({ message: m }: { message: MessageViewFieldsFragment }) {
  const { t, i18n } = useTranslation("messages");
  const rows: [string, React.ReactNode][] = [
    [t("field.status"), <StatusBadge status={m.status} />],
    [t("field.kind"), t(`common:kind.${m.kind}`)],
    [t("field.from"), m.from],
    ...(m.replyTo ? ([[t("field.replyTo"), m.replyTo]] as [string, React.ReactNode][]) : []),
    [t("field.to"), m.to.join(", ") || t("noneValue")],
    ...(m.cc.length ? ([[t("field.cc"), m.cc.join(", ")]] as [string, React.ReactNode][]) : []),
    [t("field.subject"), m.subject],
    [t("field.transport"), m.transport ? t(`common:transport.${m.transport}`) : t("notResolved")],
    [t("field.attempts"), String(m.attempts)],
    ...(m.nextAttemptAt ? ([[t("field.nextAttemptAt"), when(t, m.nextAttemptAt, i18n.language)]] as [string, React.ReactNode][]) : []),
    ...(m.lastError ? ([[t("field.lastError"), <Text c="red" size="sm" component="span" data-testid="message-last-error">{m.lastError}</Text>]] as [string, React.ReactNode][]) : []),
    ...(m.messageId ? ([[t("field.messageId"), <Text ff="monospace" size="sm" component="span">{m.messageId}</Text>]] as [string, React.ReactNode][]) : []),
    ...(m.rejectedRecipients.length ? ([[t("field.rejectedRecipients"), m.rejectedRecipients.join(", ")]] as [string, React.ReactNode][]) : []),
    [t("field.createdAt"), when(t, m.createdAt, i18n.language)],
    [t("field.updatedAt"), when(t, m.updatedAt, i18n.language)],
  ];
  return (
    <Stack gap="md">
      <Table variant="vertical" layout="fixed" withTableBorder>
        <Table.Tbody>
          {rows.map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={190}>{k}</Table.Th>
              <Table.Td style={{ overflowWrap: "anywhere" }}>{v}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>

      <Title order={4}>{t("attemptLog")}</Title>
      {m.attemptLog.length === 0 ? (
        <Text c="dimmed" size="sm">
          {t("noAttempts")}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={520}>
          <Table striped withTableBorder aria-label={t("attemptLog")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("attempt.number")}</Table.Th>
                <Table.Th>{t("attempt.at")}</Table.Th>
                <Table.Th>{t("attempt.transport")}</Table.Th>
                <Table.Th>{t("attempt.outcome")}</Table.Th>
                <Table.Th>{t("attempt.smtpCode")}</Table.Th>
                <Table.Th>{t("attempt.detail")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {m.attemptLog.map((a) => (
                <Table.Tr key={a.number}>
                  <Table.Td>{a.number}</Table.Td>
                  <Table.Td>{when(t, a.at, i18n.language)}</Table.Td>
                  <Table.Td>{t(`common:transport.${a.transport}`)}</Table.Td>
                  <Table.Td>{t(`outcome.${a.outcome}`, { defaultValue: a.outcome })}</Table.Td>
                  <Table.Td>{a.smtpCode ?? ""}</Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{a.detail ?? ""}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}

      {m.resolution && (
        <Stack gap="xs" data-testid="message-resolution">
          <Title order={4}>{t("resolution.title")}</Title>
          <Group gap="xs">
            <Text size="sm" fw={500}>
              {t("resolution.rule")}:
            </Text>
            <Text size="sm">{m.resolution.rule}</Text>
          </Group>
          <Group gap="xs">
            <Text size="sm" fw={500}>
              {t("field.transport")}:
            </Text>
            <Text size="sm">{t(`common:transport.${m.resolution.transport}`)}</Text>
          </Group>
          {m.resolution.grantedBy && (
            <Group gap="xs">
              <Text size="sm" fw={500}>
                {t("resolution.grantedBy")}:
              </Text>
              <Text size="sm">{m.resolution.grantedBy}</Text>
              {m.resolution.grant && (
                <Text size="xs" c="dimmed">
                  {t("resolution.grantAt", { at: when(t, m.resolution.grant.at, i18n.language), position: m.resolution.grant.position })}
                </Text>
              )}
            </Group>
          )}
          {m.resolution.skipped.length > 0 && (
            <>
              <Text size="sm" fw={500}>
                {t("resolution.skipped")}
              </Text>
              <List size="sm">
                {m.resolution.skipped.map((s, i) => (
                  <List.Item key={i}>
                    {s.candidate}: {s.reason}
                  </List.Item>
                ))}
              </List>
            </>
          )}
        </Stack>
      )}
    </Stack>
  );
}

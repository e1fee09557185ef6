import { Alert, Button, CopyButton, Group, Modal, Stack, Table, TextInput } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../../gql";
import { fieldError, formErrors } from "../../lib/errors";
import { Empty, ErrorAlert, Loading } from "../../lib/ui";
import { mayIssueToken, mayRevokeToken } from "./rules";
import { useViewer, type UserRow } from "./viewer";

const ApiTokens = graphql(`
  query ApiTokens($userId: ID!) {
    apiTokens(userId: $userId) { id name userId createdAt lastUsedAt }
  }
`);

const IssueApiToken = graphql(`
  mutation IssueApiToken($userId: ID!, $name: String!) {
    issueApiToken(userId: $userId, name: $name)
  }
`);

const RevokeApiToken = graphql(`
  mutation RevokeApiToken($tokenId: ID!) {
    revokeApiToken(tokenId: $tokenId)
  }
`);

// A user's API tokens (R21): listed without secrets; issued and revoked
// where the viewer may. A new token is shown once, with a copy button.
export function TokensModal({ user, onClose }: { user: UserRow; onClose: () => void }) {
  const { t, i18n } = useTranslation("users");
  const viewer = useViewer();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ApiTokens, variables: { userId: user.id }, requestPolicy: "network-only" });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [name, setName] = useState("");
  const [issued, setIssued] = useState<string | null>(null);
  const [issueState, issue] = useMutation(IssueApiToken);
  const [revokeState, revoke] = useMutation(RevokeApiToken);
  const mayIssue = mayIssueToken(viewer, user);
  const mayRevoke = mayRevokeToken(viewer, user);
  const issueErrs = formErrors(t, issueState.error);
  const when = (s: string | null | undefined) => (s ? new Date(s).toLocaleString(i18n.language) : t("token.never"));

  if (issued) {
    return (
      <Modal opened onClose={() => setIssued(null)} title={t("token.newTitle")} closeOnClickOutside={false}>
        <Stack gap="sm">
          <Alert color="yellow" role="alert">
            {t("token.shownOnce")}
          </Alert>
          <TextInput label={t("token.newToken")} value={issued} readOnly onFocus={(e) => e.currentTarget.select()} styles={{ input: { fontFamily: "monospace" } }} />
          <Group justify="flex-end">
            <CopyButton value={issued}>
              {({ copied, copy }) => (
                <Button variant="light" color={copied ? "teal" : undefined} onClick={copy}>
                  {copied ? t("token.copied") : t("token.copy")}
                </Button>
              )}
            </CopyButton>
            <Button onClick={() => setIssued(null)}>{t("token.done")}</Button>
          </Group>
        </Stack>
      </Modal>
    );
  }

  return (
    <Modal opened onClose={onClose} title={t("token.title", { name: user.displayName })} size="lg">
      <Stack gap="sm">
        <ErrorAlert error={error} />
        <ErrorAlert error={revokeState.error} />
        {fetching && !data ? (
          <Loading />
        ) : !data?.apiTokens.length ? (
          <Empty>{t("token.none")}</Empty>
        ) : (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("token.name")}</Table.Th>
                <Table.Th>{t("token.createdAt")}</Table.Th>
                <Table.Th>{t("token.lastUsedAt")}</Table.Th>
                {mayRevoke && <Table.Th>{t("user.actions")}</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.apiTokens.map((tok) => (
                <Table.Tr key={tok.id}>
                  <Table.Td>{tok.name}</Table.Td>
                  <Table.Td>{when(tok.createdAt)}</Table.Td>
                  <Table.Td>{when(tok.lastUsedAt)}</Table.Td>
                  {mayRevoke && (
                    <Table.Td>
                      <Button
                        size="compact-sm"
                        variant="subtle"
                        color="red"
                        aria-label={t("token.revokeLabel", { name: tok.name })}
                        loading={revokeState.fetching && revokeState.operation?.variables.tokenId === tok.id}
                        onClick={() => void revoke({ tokenId: tok.id }).then((r) => !r.error && reload())}
                      >
                        {t("token.revoke")}
                      </Button>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {mayIssue && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void issue({ userId: user.id, name: name.trim() }).then((r) => {
                if (r.data?.issueApiToken) {
                  setIssued(r.data.issueApiToken);
                  setName("");
                  reload();
                }
              });
            }}
          >
            <Group align="end">
              <TextInput label={t("token.name")} value={name} onChange={(e) => setName(e.currentTarget.value)} required error={fieldError(issueErrs, "name")} />
              <Button type="submit" loading={issueState.fetching} disabled={!name.trim()}>
                {t("token.issue")}
              </Button>
            </Group>
            <ErrorAlert messages={issueErrs.general} />
          </form>
        )}
      </Stack>
    </Modal>
  );
}

import { Alert, Button, Group, List, Select, Stack, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { ErrorAlert, Loading } from "../lib/ui";

// Who may use a mailbox (R11): restricted or not, the users and groups it
// is granted to, and — for administrators — grant, revoke, restrict and
// open (which revokes the remaining grants in the same step).

const MailboxAccessQuery = graphql(`
  query MailboxAccess($id: ID!) {
    mailbox(id: $id) {
      id
      address
      restricted
      grantedUsers { id loginName displayName }
      grantedGroups { id name }
    }
  }
`);

const UsersForGrant = graphql(`
  query UsersForGrant($tenantId: ID!, $search: String) {
    tenant(id: $tenantId) {
      id
      users(first: 50, search: $search) { edges { node { id loginName displayName } } }
    }
  }
`);

const GroupsForGrant = graphql(`
  query GroupsForGrant($tenantId: ID!, $search: String) {
    tenant(id: $tenantId) {
      id
      groups(first: 50, search: $search) { edges { node { id name } } }
    }
  }
`);

const GrantUser = graphql(`
  mutation GrantUser($mailboxId: ID!, $userId: ID!) {
    grantUser(mailboxId: $mailboxId, userId: $userId) { id restricted grantedUsers { id loginName displayName } grantedGroups { id name } }
  }
`);
const RevokeUser = graphql(`
  mutation RevokeUser($mailboxId: ID!, $userId: ID!) {
    revokeUser(mailboxId: $mailboxId, userId: $userId) { id restricted grantedUsers { id loginName displayName } grantedGroups { id name } }
  }
`);
const GrantGroup = graphql(`
  mutation GrantGroup($mailboxId: ID!, $groupId: ID!) {
    grantGroup(mailboxId: $mailboxId, groupId: $groupId) { id restricted grantedUsers { id loginName displayName } grantedGroups { id name } }
  }
`);
const RevokeGroup = graphql(`
  mutation RevokeGroup($mailboxId: ID!, $groupId: ID!) {
    revokeGroup(mailboxId: $mailboxId, groupId: $groupId) { id restricted grantedUsers { id loginName displayName } grantedGroups { id name } }
  }
`);
const SetRestricted = graphql(`
  mutation SetMailboxRestricted($id: ID!, $restricted: Boolean!) {
    setMailboxRestricted(id: $id, restricted: $restricted) { id restricted grantedUsers { id loginName displayName } grantedGroups { id name } }
  }
`);

export function MailboxAccess({ mailboxId, tenantId, canEdit }: { mailboxId: string; tenantId: string; canEdit: boolean }) {
  const { t } = useTranslation("mailboxes");
  const [{ data, fetching, error }, refetch] = useQuery({ query: MailboxAccessQuery, variables: { id: mailboxId } });
  const [grantU, grantUser] = useMutation(GrantUser);
  const [revokeU, revokeUser] = useMutation(RevokeUser);
  const [grantG, grantGroup] = useMutation(GrantGroup);
  const [revokeG, revokeGroup] = useMutation(RevokeGroup);
  const [restrict, setRestricted] = useMutation(SetRestricted);
  const [confirmOpen, setConfirmOpen] = useState(false);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const after = <T,>(p: Promise<T>) => void p.then(reload);

  if (fetching && !data) return <Loading />;
  const m = data?.mailbox;
  if (!m) return <ErrorAlert error={error} />;
  const grants = m.grantedUsers.length + m.grantedGroups.length;
  const opError = grantU.error ?? revokeU.error ?? grantG.error ?? revokeG.error ?? restrict.error;

  return (
    <Stack>
      <Alert color={m.restricted ? "yellow" : "blue"} role="status" data-testid="access-state">
        {!m.restricted ? t("accessOpen") : grants > 0 ? t("accessRestricted") : t("accessRestrictedNone")}
      </Alert>
      <ErrorAlert error={opError} />
      {canEdit && !m.restricted && (
        <Group>
          <Button variant="default" loading={restrict.fetching} onClick={() => after(setRestricted({ id: m.id, restricted: true }))}>
            {t("restrict")}
          </Button>
          <Text size="sm" c="dimmed">
            {t("restrictText")}
          </Text>
        </Group>
      )}
      {canEdit && m.restricted && !confirmOpen && (
        <Group>
          <Button variant="default" onClick={() => setConfirmOpen(true)}>
            {t("open")}
          </Button>
        </Group>
      )}
      {canEdit && m.restricted && confirmOpen && (
        <Alert color="orange" title={t("openTitle")} role="alertdialog" aria-label={t("openTitle")}>
          <Stack>
            <Text size="sm">{t("openText", { count: grants })}</Text>
            <Group>
              <Button
                color="orange"
                loading={restrict.fetching}
                onClick={() => {
                  setConfirmOpen(false);
                  after(setRestricted({ id: m.id, restricted: false }));
                }}
              >
                {t("open")}
              </Button>
              <Button variant="default" onClick={() => setConfirmOpen(false)}>
                {t("common:cancel")}
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}

      <Title order={4}>{t("grantedUsers")}</Title>
      {m.grantedUsers.length === 0 ? (
        <Text c="dimmed" size="sm">
          {t("noUsers")}
        </Text>
      ) : (
        <List aria-label={t("grantedUsers")} listStyleType="none" spacing="xs">
          {m.grantedUsers.map((u) => (
            <List.Item key={u.id}>
              <Group gap="sm">
                <Text>
                  {u.displayName} ({u.loginName})
                </Text>
                {canEdit && (
                  <Button size="compact-xs" variant="subtle" color="red" aria-label={t("revokeUser", { name: u.loginName })}
                    onClick={() => after(revokeUser({ mailboxId: m.id, userId: u.id }))}>
                    {t("revoke")}
                  </Button>
                )}
              </Group>
            </List.Item>
          ))}
        </List>
      )}
      {canEdit && <GrantPicker kind="user" tenantId={tenantId} busy={grantU.fetching} onGrant={(id) => after(grantUser({ mailboxId: m.id, userId: id }))} />}

      <Title order={4}>{t("grantedGroups")}</Title>
      {m.grantedGroups.length === 0 ? (
        <Text c="dimmed" size="sm">
          {t("noGroups")}
        </Text>
      ) : (
        <List aria-label={t("grantedGroups")} listStyleType="none" spacing="xs">
          {m.grantedGroups.map((g) => (
            <List.Item key={g.id}>
              <Group gap="sm">
                <Text>{g.name}</Text>
                {canEdit && (
                  <Button size="compact-xs" variant="subtle" color="red" aria-label={t("revokeGroup", { name: g.name })}
                    onClick={() => after(revokeGroup({ mailboxId: m.id, groupId: g.id }))}>
                    {t("revoke")}
                  </Button>
                )}
              </Group>
            </List.Item>
          ))}
        </List>
      )}
      {canEdit && <GrantPicker kind="group" tenantId={tenantId} busy={grantG.fetching} onGrant={(id) => after(grantGroup({ mailboxId: m.id, groupId: id }))} />}
      {canEdit && !m.restricted && (
        <Text size="sm" c="dimmed">
          {t("grantFirstNote")}
        </Text>
      )}
    </Stack>
  );
}

// A searchable select over the tenant's users (by login name) or groups,
// and the button that grants the chosen one.
function GrantPicker({ kind, tenantId, busy, onGrant }: { kind: "user" | "group"; tenantId: string; busy: boolean; onGrant: (id: string) => void }) {
  const { t } = useTranslation("mailboxes");
  const [search, setSearch] = useState("");
  const [picked, setPicked] = useState<{ value: string; label: string } | null>(null);
  // Choosing an option puts its label into the search box; that is not a
  // search, so the list stays as it was.
  const query = picked && picked.label === search ? "" : search.trim();
  const [debounced] = useDebouncedValue(query, 250);
  const vars = { tenantId, search: debounced || null };
  const [users] = useQuery({ query: UsersForGrant, variables: vars, pause: kind !== "user" });
  const [groups] = useQuery({ query: GroupsForGrant, variables: vars, pause: kind !== "group" });
  const options =
    kind === "user"
      ? (users.data?.tenant?.users.edges ?? []).map((e) => ({ value: e.node.id, label: `${e.node.loginName} (${e.node.displayName})` }))
      : (groups.data?.tenant?.groups.edges ?? []).map((e) => ({ value: e.node.id, label: e.node.name }));
  // The chosen one stays among the options while the search narrows them.
  if (picked && !options.some((o) => o.value === picked.value)) options.push(picked);
  const label = kind === "user" ? t("pickUser") : t("pickGroup");
  return (
    <Group align="flex-end">
      <Select
        label={label}
        data={options}
        value={picked?.value ?? null}
        onChange={(_, option) => setPicked(option ? { value: option.value, label: option.label } : null)}
        searchable
        searchValue={search}
        onSearchChange={setSearch}
        filter={({ options }) => options}
        clearable
        nothingFoundMessage={t("common:empty")}
        miw={300}
      />
      <Button
        variant="light"
        disabled={!picked}
        loading={busy}
        onClick={() => {
          if (!picked) return;
          onGrant(picked.value);
          setPicked(null);
          setSearch("");
        }}
      >
        {kind === "user" ? t("addUser") : t("addGroup")}
      </Button>
    </Group>
  );
}

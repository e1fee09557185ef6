import { Button, Group, Modal, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../../gql";
import { fieldError, formErrors } from "../../lib/errors";
import { canAdminister, useSession } from "../../lib/session";
import { Empty, ErrorAlert, Loading } from "../../lib/ui";
import { Pager, pageSize, useCursorPages } from "./paging";

const TenantGroups = graphql(`
  query TenantGroups($tenantId: ID!, $first: Int, $after: String, $search: String) {
    tenant(id: $tenantId) {
      id
      groups(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id name members(first: 0) { totalCount } } }
      }
    }
  }
`);

const GroupMembers = graphql(`
  query GroupMembers($groupId: ID!, $first: Int, $after: String) {
    group(id: $groupId) {
      id
      name
      members(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id loginName displayName } }
      }
    }
  }
`);

const UsersToAdd = graphql(`
  query UsersToAdd($tenantId: ID!, $search: String) {
    tenant(id: $tenantId) {
      id
      users(first: 20, search: $search) { edges { node { id loginName displayName } } }
    }
  }
`);

const CreateGroup = graphql(`
  mutation CreateGroup($tenantId: ID!, $name: String!) {
    createGroup(tenantId: $tenantId, name: $name) { id name }
  }
`);

const DeleteGroup = graphql(`
  mutation DeleteGroup($groupId: ID!) {
    deleteGroup(groupId: $groupId)
  }
`);

const AddGroupMember = graphql(`
  mutation AddGroupMember($groupId: ID!, $userId: ID!) {
    addGroupMember(groupId: $groupId, userId: $userId) { id }
  }
`);

const RemoveGroupMember = graphql(`
  mutation RemoveGroupMember($groupId: ID!, $userId: ID!) {
    removeGroupMember(groupId: $groupId, userId: $userId) { id }
  }
`);

interface GroupRow {
  id: string;
  name: string;
}

// The tenant's groups (R18): administrators create and delete them and
// manage members; auditors read.
export function GroupsTab({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation("users");
  const session = useSession();
  const admin = canAdminister(session.role);
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const pages = useCursorPages();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TenantGroups,
    variables: { tenantId, first: pageSize, after: pages.after, search: debounced || null },
  });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [name, setName] = useState("");
  const [createState, create] = useMutation(CreateGroup);
  const createErrs = formErrors(t, createState.error);
  const [membersOf, setMembersOf] = useState<GroupRow | null>(null);
  const [deleting, setDeleting] = useState<GroupRow | null>(null);
  const conn = data?.tenant?.groups;
  const rows = conn?.edges.map((e) => e.node) ?? [];

  return (
    <Stack gap="sm">
      <Group align="end" justify="space-between">
        <TextInput
          label={t("group.search")}
          type="search"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            pages.reset();
          }}
          w={320}
        />
        {admin && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void create({ tenantId, name: name.trim() }).then((r) => {
                if (!r.error) {
                  setName("");
                  reload();
                }
              });
            }}
          >
            <Group align="end">
              <TextInput label={t("group.name")} value={name} onChange={(e) => setName(e.currentTarget.value)} required error={fieldError(createErrs, "name")} />
              <Button type="submit" loading={createState.fetching} disabled={!name.trim()}>
                {t("group.create")}
              </Button>
            </Group>
          </form>
        )}
      </Group>
      <ErrorAlert messages={createErrs.general} />
      <ErrorAlert error={error} />
      {fetching && !data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty>{t("group.none")}</Empty>
      ) : (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("group.name")}</Table.Th>
              <Table.Th>{t("group.members")}</Table.Th>
              <Table.Th>{t("user.actions")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((g) => (
              <Table.Tr key={g.id} data-testid={`group-${g.name}`}>
                <Table.Td>{g.name}</Table.Td>
                <Table.Td>{g.members.totalCount}</Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    <Button size="compact-sm" variant="default" aria-label={t("group.membersLabel", { name: g.name })} onClick={() => setMembersOf(g)}>
                      {t("group.members")}
                    </Button>
                    {admin && (
                      <Button size="compact-sm" variant="subtle" color="red" aria-label={t("group.deleteLabel", { name: g.name })} onClick={() => setDeleting(g)}>
                        {t("common:delete")}
                      </Button>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {conn && conn.totalCount > 0 && (
        <Pager pages={pages} shown={rows.length} total={conn.totalCount} hasNext={conn.pageInfo.hasNextPage} endCursor={conn.pageInfo.endCursor} />
      )}
      {membersOf && (
        <MembersModal
          tenantId={tenantId}
          group={membersOf}
          admin={admin}
          onClose={() => {
            setMembersOf(null);
            reload();
          }}
        />
      )}
      {deleting && (
        <DeleteGroupModal
          group={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            reload();
          }}
        />
      )}
    </Stack>
  );
}

function MembersModal({ tenantId, group, admin, onClose }: { tenantId: string; group: GroupRow; admin: boolean; onClose: () => void }) {
  const { t } = useTranslation("users");
  const pages = useCursorPages();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: GroupMembers,
    variables: { groupId: group.id, first: pageSize, after: pages.after },
    requestPolicy: "network-only",
  });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const [picked, setPicked] = useState<{ value: string; label: string } | null>(null);
  // The server searches; while the field shows the chosen user's label, the
  // last results stay.
  const query = picked && search === picked.label ? "" : debounced;
  const [candidates] = useQuery({ query: UsersToAdd, variables: { tenantId, search: query || null }, pause: !admin });
  const [addState, add] = useMutation(AddGroupMember);
  const [removeState, remove] = useMutation(RemoveGroupMember);
  const addErrs = formErrors(t, addState.error);
  const conn = data?.group?.members;
  const rows = conn?.edges.map((e) => e.node) ?? [];
  const found = (candidates.data?.tenant?.users.edges ?? []).map((e) => ({ value: e.node.id, label: `${e.node.displayName} (${e.node.loginName})` }));
  // The chosen user stays an option while the search shows its label.
  const options = picked && !found.some((o) => o.value === picked.value) ? [picked, ...found] : found;

  return (
    <Modal opened onClose={onClose} title={t("group.membersTitle", { name: group.name })} size="lg">
      <Stack gap="sm">
        <ErrorAlert error={error} />
        <ErrorAlert error={removeState.error} />
        {fetching && !data ? (
          <Loading />
        ) : rows.length === 0 ? (
          <Empty>{t("group.noMembers")}</Empty>
        ) : (
          <Table aria-label={t("group.membersTitle", { name: group.name })}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("user.displayName")}</Table.Th>
                <Table.Th>{t("user.loginName")}</Table.Th>
                {admin && <Table.Th>{t("user.actions")}</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{m.displayName}</Table.Td>
                  <Table.Td>{m.loginName}</Table.Td>
                  {admin && (
                    <Table.Td>
                      <Button
                        size="compact-sm"
                        variant="subtle"
                        color="red"
                        aria-label={t("group.removeLabel", { name: m.displayName })}
                        onClick={() => void remove({ groupId: group.id, userId: m.id }).then((r) => !r.error && reload())}
                      >
                        {t("group.remove")}
                      </Button>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {conn && conn.totalCount > pageSize && (
          <Pager pages={pages} shown={rows.length} total={conn.totalCount} hasNext={conn.pageInfo.hasNextPage} endCursor={conn.pageInfo.endCursor} />
        )}
        {admin && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!picked) return;
              void add({ groupId: group.id, userId: picked.value }).then((r) => {
                if (!r.error) {
                  setPicked(null);
                  setSearch("");
                  reload();
                }
              });
            }}
          >
            <Group align="end">
              <Select
                label={t("group.addUser")}
                placeholder={t("group.addUserPlaceholder")}
                data={options}
                value={picked?.value ?? null}
                onChange={(_, option) => setPicked(option ? { value: option.value, label: option.label } : null)}
                searchable
                searchValue={search}
                onSearchChange={setSearch}
                filter={({ options }) => options}
                nothingFoundMessage={t("common:empty")}
                error={fieldError(addErrs, "userId")}
                w={320}
              />
              <Button type="submit" loading={addState.fetching} disabled={!picked}>
                {t("group.addMember")}
              </Button>
            </Group>
            <ErrorAlert messages={addErrs.general} />
          </form>
        )}
      </Stack>
    </Modal>
  );
}

function DeleteGroupModal({ group, onClose, onDeleted }: { group: GroupRow; onClose: () => void; onDeleted: () => void }) {
  const { t } = useTranslation("users");
  const [state, del] = useMutation(DeleteGroup);
  return (
    <Modal opened onClose={onClose} title={t("group.deleteTitle")}>
      <Stack gap="sm">
        <Text>{t("group.deleteConfirm", { name: group.name })}</Text>
        <ErrorAlert error={state.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>
            {t("common:cancel")}
          </Button>
          <Button color="red" loading={state.fetching} onClick={() => void del({ groupId: group.id }).then((r) => !r.error && onDeleted())}>
            {t("common:delete")}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

import { Badge, Button, Group, Modal, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../../gql";
import type { Role } from "../../gql/graphql";
import { fieldError, formErrors, noErrors, type FormErrors } from "../../lib/errors";
import { canAdminister } from "../../lib/session";
import { Empty, ErrorAlert, Loading } from "../../lib/ui";
import { Pager, pageSize, useCursorPages } from "./paging";
import {
  assignableRoles,
  editableRoles,
  emptyUserForm,
  hasChanges,
  mayBlockOrDelete,
  mayListTokens,
  mayManageUser,
  toCreateUserVariables,
  toUpdateUserVariables,
  userToForm,
  validateUserForm,
  type UserForm,
} from "./rules";
import { TokensModal } from "./TokensModal";
import { useViewer, type UserRow } from "./viewer";

const TenantUsers = graphql(`
  query TenantUsers($tenantId: ID!, $first: Int, $after: String, $search: String) {
    tenant(id: $tenantId) {
      id
      users(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id tenantId loginName displayName email role blocked groups { id name } } }
      }
    }
  }
`);

const CreateUser = graphql(`
  mutation CreateUser($tenantId: ID!, $loginName: String!, $displayName: String!, $email: String!, $role: Role!) {
    createUser(tenantId: $tenantId, loginName: $loginName, displayName: $displayName, email: $email, role: $role) { id }
  }
`);

const UpdateUser = graphql(`
  mutation UpdateUser($userId: ID!, $displayName: String, $email: String, $role: Role) {
    updateUser(userId: $userId, displayName: $displayName, email: $email, role: $role) { id displayName email role }
  }
`);

const SetUserBlocked = graphql(`
  mutation SetUserBlocked($userId: ID!, $blocked: Boolean!) {
    setUserBlocked(userId: $userId, blocked: $blocked) { id blocked }
  }
`);

const DeleteUser = graphql(`
  mutation DeleteUser($userId: ID!) {
    deleteUser(userId: $userId)
  }
`);

export function UsersTab({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation("users");
  const viewer = useViewer();
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const pages = useCursorPages();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TenantUsers,
    variables: { tenantId, first: pageSize, after: pages.after, search: debounced || null },
  });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [editing, setEditing] = useState<UserRow | "new" | null>(null);
  const [deleting, setDeleting] = useState<UserRow | null>(null);
  const [tokensOf, setTokensOf] = useState<UserRow | null>(null);
  const [blockState, setBlocked] = useMutation(SetUserBlocked);
  const mayCreate = canAdminister(viewer.role) && assignableRoles(viewer.role).length > 0;
  const conn = data?.tenant?.users;
  const rows: UserRow[] = conn?.edges.map((e) => e.node) ?? [];

  return (
    <Stack gap="sm">
      <Group align="end" justify="space-between">
        <TextInput
          label={t("user.search")}
          type="search"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            pages.reset();
          }}
          w={320}
        />
        {mayCreate && <Button onClick={() => setEditing("new")}>{t("user.create")}</Button>}
      </Group>
      <ErrorAlert error={error} />
      <ErrorAlert error={blockState.error} />
      {fetching && !data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty>{t("user.none")}</Empty>
      ) : (
        <Table.ScrollContainer minWidth={800}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("user.loginName")}</Table.Th>
                <Table.Th>{t("user.displayName")}</Table.Th>
                <Table.Th>{t("user.email")}</Table.Th>
                <Table.Th>{t("user.role")}</Table.Th>
                <Table.Th>{t("user.status")}</Table.Th>
                <Table.Th>{t("user.groups")}</Table.Th>
                <Table.Th>{t("user.actions")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((u) => (
                <Table.Tr key={u.id} data-testid={`user-${u.loginName}`}>
                  <Table.Td>{u.loginName}</Table.Td>
                  <Table.Td>{u.displayName}</Table.Td>
                  <Table.Td>{u.email}</Table.Td>
                  <Table.Td>{t(`common:role.${u.role}`)}</Table.Td>
                  <Table.Td>
                    <Badge color={u.blocked ? "red" : "green"} variant="light">
                      {u.blocked ? t("user.blocked") : t("user.active")}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{u.groups.map((g) => g.name).join(", ")}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      {mayManageUser(viewer, u) && (
                        <Button size="compact-sm" variant="default" aria-label={t("user.editLabel", { name: u.displayName })} onClick={() => setEditing(u)}>
                          {t("common:edit")}
                        </Button>
                      )}
                      {mayBlockOrDelete(viewer, u) && (
                        <Button
                          size="compact-sm"
                          variant="default"
                          color={u.blocked ? undefined : "red"}
                          aria-label={t(u.blocked ? "user.unblockLabel" : "user.blockLabel", { name: u.displayName })}
                          loading={blockState.fetching && blockState.operation?.variables.userId === u.id}
                          onClick={() => void setBlocked({ userId: u.id, blocked: !u.blocked }).then((r) => !r.error && reload())}
                        >
                          {u.blocked ? t("user.unblock") : t("user.block")}
                        </Button>
                      )}
                      {mayListTokens(viewer, u) && (
                        <Button size="compact-sm" variant="default" aria-label={t("user.tokensLabel", { name: u.displayName })} onClick={() => setTokensOf(u)}>
                          {t("user.tokens")}
                        </Button>
                      )}
                      {mayBlockOrDelete(viewer, u) && (
                        <Button size="compact-sm" variant="subtle" color="red" aria-label={t("user.deleteLabel", { name: u.displayName })} onClick={() => setDeleting(u)}>
                          {t("common:delete")}
                        </Button>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {conn && conn.totalCount > 0 && (
        <Pager pages={pages} shown={rows.length} total={conn.totalCount} hasNext={conn.pageInfo.hasNextPage} endCursor={conn.pageInfo.endCursor} />
      )}
      {editing && (
        <UserFormModal
          tenantId={tenantId}
          user={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      {deleting && (
        <DeleteUserModal
          user={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            reload();
          }}
        />
      )}
      {tokensOf && <TokensModal user={tokensOf} onClose={() => setTokensOf(null)} />}
    </Stack>
  );
}

// Create (user null) or edit a user. Field errors sit under their fields:
// the server's extensions.field, or an empty required field.
function UserFormModal({ tenantId, user, onClose, onSaved }: { tenantId: string; user: UserRow | null; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation("users");
  const viewer = useViewer();
  const before = user ? userToForm(user) : null;
  const [form, setForm] = useState<UserForm>(before ?? emptyUserForm(viewer.role));
  const [local, setLocal] = useState<Record<string, string>>({});
  const [createState, create] = useMutation(CreateUser);
  const [updateState, update] = useMutation(UpdateUser);
  const state = user ? updateState : createState;
  const errs: FormErrors = state.error ? formErrors(t, state.error) : noErrors;
  const err = (f: string) => (local[f] ? t(local[f]) : fieldError(errs, f));
  const roles = user ? editableRoles(viewer.role, user.role) : assignableRoles(viewer.role);
  const set = <K extends keyof UserForm>(k: K, v: UserForm[K]) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const problems = validateUserForm(form, user ? "edit" : "create");
    setLocal(problems);
    if (Object.keys(problems).length) return;
    if (user && before) {
      const vars = toUpdateUserVariables(user.id, before, form);
      if (!hasChanges(vars)) return onClose();
      const r = await update(vars);
      if (!r.error) onSaved();
    } else {
      const r = await create(toCreateUserVariables(tenantId, form));
      if (!r.error) onSaved();
    }
  };

  return (
    <Modal opened onClose={onClose} title={user ? t("user.editTitle", { name: user.displayName }) : t("user.createTitle")}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <TextInput
            label={t("user.loginName")}
            description={user ? undefined : t("user.loginNameHint")}
            value={form.loginName}
            onChange={(e) => set("loginName", e.currentTarget.value)}
            readOnly={!!user}
            disabled={!!user}
            required={!user}
            error={err("loginName")}
            data-autofocus
          />
          <TextInput label={t("user.displayName")} value={form.displayName} onChange={(e) => set("displayName", e.currentTarget.value)} required error={err("displayName")} />
          <TextInput label={t("user.email")} type="email" value={form.email} onChange={(e) => set("email", e.currentTarget.value)} required error={err("email")} />
          <Select
            label={t("user.role")}
            data={roles.map((r) => ({ value: r, label: t(`common:role.${r}`) }))}
            value={form.role}
            onChange={(v) => set("role", v as Role | null)}
            allowDeselect={false}
            required
            error={err("role")}
          />
          <ErrorAlert messages={errs.general} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t("common:cancel")}
            </Button>
            <Button type="submit" loading={state.fetching}>
              {t("common:save")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteUserModal({ user, onClose, onDeleted }: { user: UserRow; onClose: () => void; onDeleted: () => void }) {
  const { t } = useTranslation("users");
  const [state, del] = useMutation(DeleteUser);
  return (
    <Modal opened onClose={onClose} title={t("user.deleteTitle")}>
      <Stack gap="sm">
        <Text>{t("user.deleteConfirm", { name: user.displayName, login: user.loginName })}</Text>
        <ErrorAlert error={state.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>
            {t("common:cancel")}
          </Button>
          <Button color="red" loading={state.fetching} onClick={() => void del({ userId: user.id }).then((r) => !r.error && onDeleted())}>
            {t("common:delete")}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

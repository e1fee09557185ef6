import { Button, Group, NumberInput, Select, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { DuplicatePolicy } from "../gql/graphql";
import { fieldError } from "../lib/errors";
import { useSession } from "../lib/session";
import { useTenantId } from "../lib/TenantPicker";
import { Empty, ErrorAlert, Loading, SaveOutcome } from "../lib/ui";
import { policyState, policyVariables, problemErrors, serverProblem, type FormProblem, type PolicyState, type StoredPolicy } from "./mailServerForms";
import { Section, TenantServerSection, TenantSupportSection, TransportBadge } from "./mailServerParts";

// Tenants (SPEC §6): system administrators list, search and create
// tenants and set each one's policy, server and support address; auditors
// read the same. The chosen tenant is ?tenant=ID (useTenantId), so other
// pages link here.
const PAGE = 20;

const TenantsList = graphql(`
  query TenantsList($first: Int, $after: String, $search: String) {
    tenants(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id
          name
          effectiveTransport
          policy { mailboxQuota allowOwnServer allowSystemServer }
          server { auth }
        }
      }
    }
  }
`);

const CreateTenant = graphql(`
  mutation CreateTenant($name: String!) {
    createTenant(name: $name) { id name }
  }
`);

export function TenantsPage() {
  const { t } = useTranslation("tenants");
  const session = useSession();
  const canEdit = session.role === "SYSTEM_ADMIN";
  const [tenantId, setTenantId] = useTenantId();
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      {!canEdit && <Text c="dimmed">{t("common:readOnly")}</Text>}
      {canEdit && <CreateTenantForm onCreated={setTenantId} />}
      <TenantList selected={tenantId} onSelect={setTenantId} />
      {tenantId && <TenantDetail key={tenantId} id={tenantId} canEdit={canEdit} onClose={() => setTenantId(null)} />}
    </Stack>
  );
}

function CreateTenantForm({ onCreated }: { onCreated: (id: string) => void }) {
  const { t } = useTranslation("tenants");
  const [name, setName] = useState("");
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [res, create] = useMutation(CreateTenant);
  const onSubmit = async (e: React.FormEvent) => {
    e.preventDefault();
    const r = await create({ name: name.trim() });
    setErrs(serverProblem(r.error));
    if (!r.error && r.data) {
      setName("");
      onCreated(r.data.createTenant.id);
    }
  };
  return (
    <form onSubmit={onSubmit}>
      <Group align="flex-start">
        <TextInput label={t("newName")} value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(errs, "name")} w={320} />
        <Button type="submit" mt={25} loading={res.fetching} disabled={name.trim() === ""}>
          {t("create")}
        </Button>
      </Group>
      <ErrorAlert messages={errs.general} />
    </form>
  );
}

function TenantList({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const { t } = useTranslation("tenants");
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 250);
  // The cursors of the pages walked so far; the last one is shown.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1];
  // urql's document cache refetches a query after a mutation only when its
  // cached result held a type the mutation returned: an empty (or
  // non-matching) page holds no Tenant, so createTenant would not refresh it.
  const context = useMemo(() => ({ additionalTypenames: ["Tenant"] }), []);
  const [{ data, fetching, error }] = useQuery({ query: TenantsList, variables: { first: PAGE, after, search: debounced || null }, context });
  const conn = data?.tenants;
  return (
    <Stack gap="sm">
      <TextInput
        label={t("common:search")}
        placeholder={t("searchHint")}
        value={search}
        onChange={(e) => (setSearch(e.currentTarget.value), setCursors([null]))}
        maw={420}
        type="search"
      />
      <ErrorAlert error={error} />
      {!conn ? (
        fetching ? <Loading /> : null
      ) : conn.edges.length === 0 ? (
        <Empty />
      ) : (
        <>
          <Table striped highlightOnHover aria-label={t("title")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("name")}</Table.Th>
                <Table.Th>{t("effectiveTransport")}</Table.Th>
                <Table.Th>{t("ownServer")}</Table.Th>
                <Table.Th>{t("policy.mailboxQuota")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {conn.edges.map(({ node }) => (
                <Table.Tr key={node.id} bg={node.id === selected ? "var(--mantine-color-blue-light)" : undefined}>
                  <Table.Td>
                    <Button variant="subtle" size="compact-sm" onClick={() => onSelect(node.id)} aria-current={node.id === selected ? "true" : undefined}>
                      {node.name}
                    </Button>
                  </Table.Td>
                  <Table.Td>
                    <TransportBadge kind={node.effectiveTransport} />
                  </Table.Td>
                  <Table.Td>{node.server ? (node.policy.allowOwnServer ? t("common:yes") : t("ownServerIgnored")) : t("common:no")}</Table.Td>
                  <Table.Td data-testid="quota">{node.policy.mailboxQuota}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group>
            <Text size="sm" aria-live="polite">
              {t("page", { page: cursors.length, shown: conn.edges.length, total: conn.totalCount })}
            </Text>
            <Button variant="default" size="xs" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              {t("previous")}
            </Button>
            <Button variant="default" size="xs" disabled={!conn.pageInfo.hasNextPage} onClick={() => conn.pageInfo.endCursor && setCursors([...cursors, conn.pageInfo.endCursor])}>
              {t("next")}
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}

const TenantDetailQuery = graphql(`
  query TenantDetail($id: ID!) {
    tenant(id: $id) {
      id
      name
      policy { allowSystemServer allowOwnServer mailboxQuota userAddressAsSender duplicatePolicy }
      server { ...ServerSettingsFields }
      effectiveTransport
      supportAddress
    }
    systemMailServer { support { allowTenantAddress } }
  }
`);

function TenantDetail({ id, canEdit, onClose }: { id: string; canEdit: boolean; onClose: () => void }) {
  const { t } = useTranslation("tenants");
  const [{ data, fetching, error }] = useQuery({ query: TenantDetailQuery, variables: { id } });
  if (!data) return fetching ? <Loading /> : <ErrorAlert error={error} />;
  const tenant = data.tenant;
  if (!tenant) return <ErrorAlert error={error} />;
  return (
    <Stack component="section" aria-label={t("detail", { name: tenant.name })}>
      <Group justify="space-between">
        <Title order={3}>{t("detail", { name: tenant.name })}</Title>
        <Button variant="default" size="xs" onClick={onClose}>
          {t("common:close")}
        </Button>
      </Group>
      <Group gap="xs">
        <Text>{t("effectiveTransport")}:</Text>
        <TransportBadge kind={tenant.effectiveTransport} />
      </Group>
      <Section title={t("policy.title")}>
        <PolicyForm tenantId={tenant.id} stored={tenant.policy} canEdit={canEdit} />
      </Section>
      <Section title={t("server")}>
        <TenantServerSection key={`${tenant.id}:${tenant.policy.allowOwnServer}`} tenant={tenant} canEdit={canEdit} />
      </Section>
      <Section title={t("support")}>
        <TenantSupportSection key={tenant.id} tenant={tenant} allowed={data.systemMailServer.support.allowTenantAddress} canEdit={canEdit} />
      </Section>
    </Stack>
  );
}

const SetTenantPolicy = graphql(`
  mutation SetTenantPolicy(
    $tenantId: ID!
    $allowSystemServer: Boolean
    $allowOwnServer: Boolean
    $mailboxQuota: Int
    $userAddressAsSender: Boolean
    $duplicatePolicy: DuplicatePolicy
  ) {
    setTenantPolicy(
      tenantId: $tenantId
      allowSystemServer: $allowSystemServer
      allowOwnServer: $allowOwnServer
      mailboxQuota: $mailboxQuota
      userAddressAsSender: $userAddressAsSender
      duplicatePolicy: $duplicatePolicy
    ) {
      id
      effectiveTransport
      policy { allowSystemServer allowOwnServer mailboxQuota userAddressAsSender duplicatePolicy }
    }
  }
`);

// The tenant's policy (R3, R10, R13, R15); only system administrators change it.
function PolicyForm({ tenantId, stored, canEdit }: { tenantId: string; stored: StoredPolicy; canEdit: boolean }) {
  const { t } = useTranslation("tenants");
  const [value, setValue] = useState<PolicyState>(() => policyState(stored));
  const [problem, setErrs] = useState<FormProblem>(null);
  const errs = problemErrors(t, problem);
  const [saved, setSaved] = useState(false);
  const [res, run] = useMutation(SetTenantPolicy);
  const set = <K extends keyof PolicyState>(k: K, v: PolicyState[K]) => (setValue({ ...value, [k]: v }), setSaved(false));
  const onSave = async () => {
    setSaved(false);
    const p = policyVariables(tenantId, stored, value);
    if (!p.ok) return setErrs({ kind: "local", field: p.field, key: "tenants:invalidQuota" });
    if (!p.changed) return setErrs(null), setSaved(true);
    const r = await run(p.variables);
    setErrs(serverProblem(r.error));
    if (!r.error) setSaved(true);
  };
  const duplicatePolicies: DuplicatePolicy[] = ["PREFER_USER", "SHOW_BOTH", "PREFER_MAILBOX"];
  return (
    <Stack gap="sm">
      <Switch label={t("policy.allowSystemServer")} checked={value.allowSystemServer} onChange={(e) => set("allowSystemServer", e.currentTarget.checked)} disabled={!canEdit} />
      <Switch label={t("policy.allowOwnServer")} checked={value.allowOwnServer} onChange={(e) => set("allowOwnServer", e.currentTarget.checked)} disabled={!canEdit} />
      <Switch
        label={t("policy.userAddressAsSender")}
        checked={value.userAddressAsSender}
        onChange={(e) => set("userAddressAsSender", e.currentTarget.checked)}
        disabled={!canEdit}
      />
      <Group align="flex-start">
        <NumberInput
          label={t("policy.mailboxQuota")}
          value={value.mailboxQuota}
          onChange={(v) => set("mailboxQuota", String(v))}
          min={0}
          allowDecimal={false}
          allowNegative={false}
          readOnly={!canEdit}
          error={fieldError(errs, "mailboxQuota")}
          w={200}
        />
        <Select
          label={t("policy.duplicatePolicy")}
          data={duplicatePolicies.map((d) => ({ value: d, label: t(`policy.duplicate.${d}`) }))}
          value={value.duplicatePolicy}
          onChange={(v) => v && set("duplicatePolicy", v as DuplicatePolicy)}
          allowDeselect={false}
          disabled={!canEdit}
          error={fieldError(errs, "duplicatePolicy")}
          w={320}
        />
      </Group>
      {canEdit && (
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

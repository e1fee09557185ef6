import { Select } from "@mantine/core";
import { useState } from "react";
import { useDebouncedValue } from "@mantine/hooks";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { useSession, isSystemRole } from "./session";
import { useSearchParams } from "react-router";

const ChosenTenant = graphql(`
  query ChosenTenant($id: ID!) {
    tenant(id: $id) { id name }
  }
`);

const TenantsForPicker = graphql(`
  query TenantsForPicker($search: String) {
    tenants(first: 100, search: $search) {
      totalCount
      edges { node { id name } }
    }
  }
`);

// The tenant a page works on: a tenant user's own, or — for system
// administrators and auditors — the one chosen here, kept in the URL
// (?tenant=ID) so a page can be linked and reloaded.
export function useTenantId(): [string | null, (id: string | null) => void] {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  if (!isSystemRole(session.role)) return [session.tenantId, () => {}];
  const id = params.get("tenant");
  return [
    id,
    (next) =>
      setParams(
        (p) => {
          if (next) p.set("tenant", next);
          else p.delete("tenant");
          return p;
        },
        { replace: true },
      ),
  ];
}

export function TenantPicker({ label }: { label?: string }) {
  const { t } = useTranslation();
  const session = useSession();
  const [tenantId, setTenantId] = useTenantId();
  const [search, setSearch] = useState("");
  // One request per pause in typing, not per key.
  const [debounced] = useDebouncedValue(search, 250);
  const system = isSystemRole(session.role);
  const [{ data }] = useQuery({ query: TenantsForPicker, variables: { search: debounced || null }, pause: !system });
  // The chosen tenant (e.g. from ?tenant=) stays shown when it is not among
  // the first matches.
  const [{ data: chosen }] = useQuery({ query: ChosenTenant, variables: { id: tenantId ?? "" }, pause: !system || !tenantId });
  if (!system) return null;
  const options = (data?.tenants.edges ?? []).map((e) => ({ value: e.node.id, label: e.node.name }));
  if (chosen?.tenant && !options.some((o) => o.value === chosen.tenant!.id)) {
    options.unshift({ value: chosen.tenant.id, label: chosen.tenant.name });
  }
  return (
    <Select
      label={label ?? t("tenant")}
      placeholder={t("chooseTenant")}
      data={options}
      value={tenantId}
      onChange={setTenantId}
      searchable
      onSearchChange={setSearch}
      searchValue={search}
      clearable
      nothingFoundMessage={t("empty")}
      maw={420}
    />
  );
}

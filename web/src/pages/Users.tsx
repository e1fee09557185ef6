import { Stack, Tabs, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { TenantPicker, useTenantId } from "../lib/TenantPicker";
import { Empty } from "../lib/ui";
import { GroupsTab } from "./users/GroupsTab";
import { UsersTab } from "./users/UsersTab";

// Users and groups (SPEC §6, R18–R21): the tenant's users with roles,
// blocking and API tokens (shown once), and its groups with members.
// System administrators and auditors pick the tenant; auditors read only.
export function UsersPage() {
  const { t } = useTranslation("users");
  const [tenantId] = useTenantId();
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <TenantPicker />
      {!tenantId ? (
        <Empty>{t("chooseTenantFirst")}</Empty>
      ) : (
        <Tabs defaultValue="users" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="users">{t("tabs.users")}</Tabs.Tab>
            <Tabs.Tab value="groups">{t("tabs.groups")}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="users" pt="md">
            <UsersTab key={tenantId} tenantId={tenantId} />
          </Tabs.Panel>
          <Tabs.Panel value="groups" pt="md">
            <GroupsTab key={tenantId} tenantId={tenantId} />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}

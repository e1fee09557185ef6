import { Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function TenantsPage() {
  const { t } = useTranslation("tenants");
  return <Title order={2}>{t("title")}</Title>;
}

import { Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function AuditPage() {
  const { t } = useTranslation("audit");
  return <Title order={2}>{t("title")}</Title>;
}

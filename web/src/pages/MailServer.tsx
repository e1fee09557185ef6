import { Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function MailServerPage() {
  const { t } = useTranslation("mailServer");
  return <Title order={2}>{t("title")}</Title>;
}

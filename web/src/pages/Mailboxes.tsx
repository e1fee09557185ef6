import { Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function MailboxesPage() {
  const { t } = useTranslation("mailboxes");
  return <Title order={2}>{t("title")}</Title>;
}

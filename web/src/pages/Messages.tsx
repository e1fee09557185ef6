import { Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function MessagesPage() {
  const { t } = useTranslation("messages");
  return <Title order={2}>{t("title")}</Title>;
}

import { Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function ComposePage() {
  const { t } = useTranslation("compose");
  return <Title order={2}>{t("title")}</Title>;
}

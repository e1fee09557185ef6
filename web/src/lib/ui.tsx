import { Alert, Center, Loader, Text } from "@mantine/core";
import type { CombinedError } from "urql";
import { useTranslation } from "react-i18next";
import { formErrors } from "./errors";

// The loading, empty and error states every page shows the same way.
export function Loading() {
  const { t } = useTranslation();
  return (
    <Center py="lg" role="status" aria-live="polite">
      <Loader size="sm" mr="sm" />
      <Text>{t("loading")}</Text>
    </Center>
  );
}

export function Empty({ children }: { children?: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <Text c="dimmed" py="md" role="status">
      {children ?? t("empty")}
    </Text>
  );
}

// Errors that belong to no field of a form (a field's error is shown next
// to that field instead).
export function ErrorAlert({ error, messages }: { error?: CombinedError | null; messages?: string[] }) {
  const { t } = useTranslation();
  const list = messages ?? formErrors(t, error).general;
  if (list.length === 0) return null;
  return (
    <Alert color="red" role="alert" my="sm">
      {list.map((m, i) => (
        <div key={i}>{m}</div>
      ))}
    </Alert>
  );
}

// The outcome of saving a form: "Saved." as a status, and the errors that
// belong to no field of it (a field's error stands under that field).
export function SaveOutcome({ saved, errors }: { saved: boolean; errors: string[] }) {
  const { t } = useTranslation();
  return (
    <>
      {saved && (
        <Text role="status" c="green">
          {t("common:saved")}
        </Text>
      )}
      <ErrorAlert messages={errors} />
    </>
  );
}

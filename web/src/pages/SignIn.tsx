import { Button, Center, Group, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { LanguageSwitch } from "../App";
import { looksLikeToken } from "../lib/token";

// Sign-in with an API token (SPEC §6). Whether the server accepts it is
// checked by the first query (principal); a refused token signs out again.
export function SignIn({ onSignedIn, refused }: { onSignedIn: (token: string) => void; refused?: boolean }) {
  const { t } = useTranslation();
  const [value, setValue] = useState("");
  // The error as a key, put into words when rendered (so it follows a
  // switch of language).
  const [error, setError] = useState<"invalid" | "refused" | null>(refused ? "refused" : null);
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" w={480} component="main">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const tok = value.trim();
            if (!looksLikeToken(tok)) {
              setError("invalid");
              return;
            }
            onSignedIn(tok);
          }}
        >
          <Stack>
            <Group justify="space-between">
              <Title order={2}>{t("signIn.title")}</Title>
              <LanguageSwitch />
            </Group>
            <Text size="sm">{t("signIn.intro")}</Text>
            <PasswordInput
              label={t("signIn.token")}
              description={t("signIn.tokenHint")}
              value={value}
              onChange={(e) => {
                setValue(e.currentTarget.value);
                setError(null);
              }}
              error={error ? t(`signIn.${error}`) : null}
              autoFocus
              autoComplete="off"
            />
            <Button type="submit">{t("signIn.submit")}</Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

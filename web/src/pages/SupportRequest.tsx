import { Button, Card, Group, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { graphql } from "../gql";
import type { MessageViewFieldsFragment } from "../gql/graphql";
import { fieldError, formErrors } from "../lib/errors";
import { ErrorAlert } from "../lib/ui";

// A support request (R7): to the effective support address, From the
// tenant's system mailbox, Reply-To the viewer; its status then shows like
// any sent message.
const SubmitSupportRequest = graphql(`
  mutation SubmitSupportRequest($subject: String!, $body: String!) {
    submitSupportRequest(subject: $subject, body: $body) { ...MessageViewFields }
  }
`);

export function SupportRequest({ onSent }: { onSent: (m: MessageViewFieldsFragment) => void }) {
  const { t } = useTranslation("compose");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [{ fetching, error }, submit] = useMutation(SubmitSupportRequest);
  const errs = formErrors(t, error);
  // Errors of fields this form does not have (e.g. no support address is
  // configured: supportAddress) show above it.
  const general = [...errs.general, ...Object.entries(errs.fields).filter(([k]) => !/(^|\.)(subject|body)$/.test(k)).map(([, v]) => v)];
  return (
    <Card withBorder component="section" aria-label={t("support.title")}>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          const res = await submit({ subject: subject.trim(), body });
          if (res.data?.submitSupportRequest) {
            onSent(res.data.submitSupportRequest);
            setSubject("");
            setBody("");
          }
        }}
      >
        <Stack gap="sm">
          <Title order={3}>{t("support.title")}</Title>
          <Text size="sm" c="dimmed">
            {t("support.intro")}
          </Text>
          <ErrorAlert messages={general} />
          <TextInput label={t("support.subject")} value={subject} onChange={(e) => setSubject(e.currentTarget.value)} required maxLength={998} error={fieldError(errs, "subject")} />
          <Textarea label={t("support.body")} value={body} onChange={(e) => setBody(e.currentTarget.value)} required autosize minRows={4} error={fieldError(errs, "body")} />
          <Group>
            <Button type="submit" variant="light" loading={fetching} disabled={!subject.trim() || !body.trim()}>
              {t("support.send")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

import { Alert, Button, Card, FileInput, Group, Select, SimpleGrid, Stack, TagsInput, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery, type CombinedError } from "urql";
import { graphql } from "../gql";
import type { MessageViewFieldsFragment, OptionSource, TransportKind } from "../gql/graphql";
import { describe } from "../lib/errors";
import { canAdminister, useSession } from "../lib/session";
import { Empty, ErrorAlert, Loading } from "../lib/ui";
import {
  emptyCompose,
  encodeFile,
  formatBytes,
  limits,
  optionValue,
  placeErrors,
  toSendInput,
  totalSize,
  validateCompose,
  type ComposeField,
  type ComposeState,
  type ServerError,
} from "./composeForm";
import { MessageView, finalStatuses, useLiveMessage } from "./MessageView";
import { SupportRequest } from "./SupportRequest";

// Kommunikationsmanager (seed 001, SPEC §6): compose a message from one of
// the viewer's Absenderadressen (senderOptions, R13) with an optional
// Antwortadresse (replyToOptions, R14), send it, and follow its status live.
const ComposeOptions = graphql(`
  query ComposeOptions {
    viewer {
      id
      senderOptions { address displayName source mailboxId transport }
      replyToOptions { address displayName source mailboxId transport }
    }
  }
`);

const SendMessage = graphql(`
  mutation SendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) { ...MessageViewFields }
  }
`);

interface Option {
  address: string;
  displayName: string;
  source: OptionSource;
  transport: TransportKind;
}

export function ComposePage() {
  const { t } = useTranslation("compose");
  const session = useSession();
  const [{ data, fetching, error }] = useQuery({ query: ComposeOptions, requestPolicy: "cache-and-network" });
  const [sent, setSent] = useState<MessageViewFieldsFragment | null>(null);

  if (fetching && !data) return <Loading />;
  if (error && !data) return <ErrorAlert error={error} />;
  const viewer = data?.viewer;
  return (
    <Stack maw={900}>
      <Title order={2}>{t("title")}</Title>
      <Text c="dimmed" size="sm">
        {t("intro")}
      </Text>
      {!viewer ? (
        <Empty>{t("noUser")}</Empty>
      ) : viewer.senderOptions.length === 0 ? (
        // R1/R2: no server the viewer may send through, or no sender option.
        <Alert color="yellow" role="status" title={t("unavailable.title")}>
          {t("unavailable.body")}
        </Alert>
      ) : (
        <ComposeForm senderOptions={viewer.senderOptions} replyToOptions={viewer.replyToOptions} onSent={setSent} />
      )}
      {sent && <SentMessage key={sent.id} initial={sent} showResolution={canAdminister(session.role)} />}
      {viewer && <SupportRequest onSent={setSent} />}
    </Stack>
  );
}

// The select's entries: one per distinct "Name <address>" (R15 may list an
// address twice, with two names).
function optionData(opts: Option[]) {
  const seen = new Set<string>();
  const out: { value: string; label: string; option: Option }[] = [];
  for (const o of opts) {
    const value = optionValue(o);
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ value, label: value, option: o });
  }
  return out;
}

function OptionDetail({ option }: { option: Option | undefined }) {
  const { t } = useTranslation("compose");
  if (!option) return null;
  return (
    <>
      {t(`source.${option.source}`)} · {t("via", { transport: t(`common:transport.${option.transport}`) })}
    </>
  );
}

function ComposeForm({
  senderOptions,
  replyToOptions,
  onSent,
}: {
  senderOptions: Option[];
  replyToOptions: Option[];
  onSent: (m: MessageViewFieldsFragment) => void;
}) {
  const { t } = useTranslation("compose");
  const [state, setState] = useState<ComposeState>(() => ({ ...emptyCompose(), from: optionValue(senderOptions[0]) }));
  const [files, setFiles] = useState<File[]>([]);
  const [local, setLocal] = useState<Partial<Record<ComposeField, string>>>({});
  const [reading, setReading] = useState(false);
  const [{ fetching, error }, send] = useMutation(SendMessage);
  const set = <K extends keyof ComposeState>(k: K, v: ComposeState[K]) => setState((s) => ({ ...s, [k]: v }));

  const from = useMemo(() => optionData(senderOptions), [senderOptions]);
  const replyTo = useMemo(() => optionData(replyToOptions), [replyToOptions]);
  const server = useMemo(() => placeErrors(serverErrors(t, error)), [t, error]);
  const err = (f: ComposeField) => (local[f] ? t(local[f]!) : server.fields[f]);

  const onFiles = async (next: File[]) => {
    setFiles(next);
    setReading(true);
    try {
      set("attachments", await Promise.all(next.map(encodeFile)));
    } finally {
      setReading(false);
    }
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const problems = validateCompose(state);
    setLocal(problems);
    if (Object.keys(problems).length) return;
    const res = await send({ input: toSendInput(state) });
    if (res.data?.sendMessage) {
      onSent(res.data.sendMessage);
      // A new message gets a new idempotency key (R23); the From stays.
      setState({ ...emptyCompose(), from: state.from, replyTo: state.replyTo });
      setFiles([]);
    }
  };

  const size = totalSize(state);
  return (
    <form onSubmit={submit} noValidate aria-label={t("formLabel")}>
      <Stack gap="sm">
        <ErrorAlert messages={server.general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label={t("from")}
            data={from.map(({ value, label }) => ({ value, label }))}
            value={state.from}
            onChange={(v) => set("from", v)}
            allowDeselect={false}
            required
            searchable
            nothingFoundMessage={t("common:empty")}
            description={<OptionDetail option={from.find((o) => o.value === state.from)?.option} />}
            renderOption={({ option }) => (
              <Stack gap={0}>
                <Text size="sm">{option.label}</Text>
                <Text size="xs" c="dimmed">
                  <OptionDetail option={from.find((o) => o.value === option.value)?.option} />
                </Text>
              </Stack>
            )}
            error={err("from")}
          />
          <Select
            label={t("replyTo")}
            placeholder={replyTo.length ? t("replyToNone") : t("replyToUnavailable")}
            data={replyTo.map(({ value, label }) => ({ value, label }))}
            value={state.replyTo}
            onChange={(v) => set("replyTo", v)}
            clearable
            disabled={replyTo.length === 0}
            description={t("replyToHelp")}
            renderOption={({ option }) => (
              <Stack gap={0}>
                <Text size="sm">{option.label}</Text>
                <Text size="xs" c="dimmed">
                  {(() => {
                    const o = replyTo.find((x) => x.value === option.value)?.option;
                    return o ? t(`source.${o.source}`) : null;
                  })()}
                </Text>
              </Stack>
            )}
            error={err("replyTo")}
          />
        </SimpleGrid>
        <TagsInput
          label={t("to")}
          description={t("recipientsHelp", { max: limits.recipients })}
          value={state.to}
          onChange={(v) => set("to", v)}
          splitChars={[",", ";", " "]}
          acceptValueOnBlur
          clearable
          error={err("to")}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TagsInput label={t("cc")} value={state.cc} onChange={(v) => set("cc", v)} splitChars={[",", ";", " "]} acceptValueOnBlur clearable error={err("cc")} />
          <TagsInput
            label={t("bcc")}
            description={t("bccHelp")}
            value={state.bcc}
            onChange={(v) => set("bcc", v)}
            splitChars={[",", ";", " "]}
            acceptValueOnBlur
            clearable
            error={err("bcc")}
          />
        </SimpleGrid>
        <TextInput label={t("subject")} value={state.subject} onChange={(e) => set("subject", e.currentTarget.value)} maxLength={998} error={err("subject")} />
        <Textarea label={t("text")} value={state.text} onChange={(e) => set("text", e.currentTarget.value)} autosize minRows={8} maxRows={24} error={err("text")} />
        <FileInput
          label={t("attachments")}
          description={t("attachmentsHelp", { total: formatBytes(limits.totalBytes), forbidden: limits.forbidden })}
          placeholder={t("attachmentsPlaceholder")}
          multiple
          clearable
          value={files}
          onChange={(v) => void onFiles(v)}
          error={err("attachments")}
        />
        {state.attachments.length > 0 && (
          <Table withTableBorder aria-label={t("attachments")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("fileName")}</Table.Th>
                <Table.Th>{t("fileType")}</Table.Th>
                <Table.Th>{t("fileSize")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {state.attachments.map((a, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{a.filename}</Table.Td>
                  <Table.Td>{a.contentType}</Table.Td>
                  <Table.Td>{formatBytes(a.size)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <Text size="xs" c={size > limits.totalBytes ? "red" : "dimmed"}>
          {t("totalSize", { size: formatBytes(size), max: formatBytes(limits.totalBytes) })}
        </Text>
        <Group>
          <Button type="submit" loading={fetching || reading}>
            {t("send")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function serverErrors(t: (k: string, o?: Record<string, unknown>) => string, err: CombinedError | undefined): ServerError[] {
  if (!err) return [];
  if (err.networkError && err.graphQLErrors.length === 0) return [{ text: t("common:networkError") }];
  return err.graphQLErrors.map((e) => {
    const code = e.extensions?.code as string | undefined;
    return { code, field: e.extensions?.field as string | undefined, text: describe(t, code, e.message) };
  });
}

// The message just sent, live until final (messageStatus).
function SentMessage({ initial, showResolution }: { initial: MessageViewFieldsFragment; showResolution: boolean }) {
  const { t } = useTranslation("compose");
  const { message, error } = useLiveMessage(initial.id, initial);
  if (!message) return <ErrorAlert error={error} />;
  const live = !finalStatuses.includes(message.status);
  return (
    <Card withBorder aria-live="polite" aria-label={t("sentTitle")} component="section">
      <Stack gap="sm">
        <Title order={3}>{t("sentTitle")}</Title>
        {live && (
          <Text size="sm" c="dimmed">
            {t("live")}
          </Text>
        )}
        <MessageView message={showResolution ? message : { ...message, resolution: null }} />
      </Stack>
    </Card>
  );
}

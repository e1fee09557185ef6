import { Checkbox, Group, NumberInput, PasswordInput, Select, SimpleGrid, Stack, Table, Text, TextInput, Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { fieldError, type FormErrors } from "./errors";
import { defaultPorts, type Encryption, type ServerAuth, type SettingsState, type StoredSettings } from "./serverSettings";

// The mail server settings (R4), as the E-Mail-Server page, a tenant's
// server and an authenticated mailbox edit them. Each field shows the
// server's error for it (extensions.field) below it. Secrets are never
// shown: a stored one is announced and kept unless a new one is typed.
export function ServerSettingsForm({
  value,
  onChange,
  stored,
  errors,
  readOnly,
}: {
  value: SettingsState;
  onChange: (next: SettingsState) => void;
  stored?: StoredSettings | null;
  errors: FormErrors;
  readOnly?: boolean;
}) {
  const { t } = useTranslation("common");
  const set = <K extends keyof SettingsState>(k: K, v: SettingsState[K]) => onChange({ ...value, [k]: v });
  const graph = value.auth === "MICROSOFT_GRAPH";
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Select
          label={t("settings.auth")}
          data={(["NONE", "PASSWORD", "MICROSOFT_GRAPH"] as ServerAuth[]).map((a) => ({ value: a, label: t(`settings.authKind.${a}`) }))}
          value={value.auth}
          onChange={(v) => v && set("auth", v as ServerAuth)}
          allowDeselect={false}
          disabled={readOnly}
          error={fieldError(errors, "auth")}
        />
        {!graph && (
          <Select
            label={t("settings.encryption")}
            data={(["NONE", "STARTTLS", "TLS"] as Encryption[]).map((e) => ({ value: e, label: t(`settings.encryptionKind.${e}`) }))}
            value={value.encryption}
            onChange={(v) => v && set("encryption", v as Encryption)}
            allowDeselect={false}
            disabled={readOnly}
            error={fieldError(errors, "encryption")}
          />
        )}
        {!graph && (
          <TextInput
            label={t("settings.host")}
            value={value.host}
            onChange={(e) => set("host", e.currentTarget.value)}
            readOnly={readOnly}
            required
            error={fieldError(errors, "host")}
          />
        )}
        {!graph && (
          <NumberInput
            label={t("settings.port")}
            description={t("settings.portDefault", { port: defaultPorts[value.encryption] })}
            value={value.port}
            onChange={(v) => set("port", String(v))}
            min={1}
            max={65535}
            allowDecimal={false}
            allowNegative={false}
            hideControls
            readOnly={readOnly}
            error={fieldError(errors, "port")}
          />
        )}
        {value.auth === "PASSWORD" && (
          <TextInput
            label={t("settings.username")}
            value={value.username}
            onChange={(e) => set("username", e.currentTarget.value)}
            readOnly={readOnly}
            required
            autoComplete="off"
            error={fieldError(errors, "username")}
          />
        )}
        {value.auth === "PASSWORD" && !readOnly && (
          <PasswordInput
            label={t("settings.password")}
            description={stored?.hasPassword ? t("settings.secretStored") : undefined}
            value={value.password}
            onChange={(e) => set("password", e.currentTarget.value)}
            autoComplete="new-password"
            error={fieldError(errors, "password")}
          />
        )}
        {graph && (
          <TextInput
            label={t("settings.graphTenantId")}
            value={value.graphTenantId}
            onChange={(e) => set("graphTenantId", e.currentTarget.value)}
            readOnly={readOnly}
            required
            error={fieldError(errors, "graphTenantId")}
          />
        )}
        {graph && (
          <TextInput
            label={t("settings.graphClientId")}
            value={value.graphClientId}
            onChange={(e) => set("graphClientId", e.currentTarget.value)}
            readOnly={readOnly}
            required
            error={fieldError(errors, "graphClientId")}
          />
        )}
        {graph && !readOnly && (
          <PasswordInput
            label={t("settings.graphClientSecret")}
            description={stored?.hasGraphClientSecret ? t("settings.secretStored") : undefined}
            value={value.graphClientSecret}
            onChange={(e) => set("graphClientSecret", e.currentTarget.value)}
            autoComplete="new-password"
            error={fieldError(errors, "graphClientSecret")}
          />
        )}
        <TextInput
          label={t("settings.senderAddress")}
          value={value.senderAddress}
          onChange={(e) => set("senderAddress", e.currentTarget.value)}
          readOnly={readOnly}
          required
          error={fieldError(errors, "senderAddress")}
        />
        <TextInput
          label={t("settings.senderName")}
          value={value.senderName}
          onChange={(e) => set("senderName", e.currentTarget.value)}
          readOnly={readOnly}
          error={fieldError(errors, "senderName")}
        />
      </SimpleGrid>
      <Checkbox
        label={t("settings.smtpUtf8")}
        checked={value.smtpUtf8}
        onChange={(e) => set("smtpUtf8", e.currentTarget.checked)}
        disabled={readOnly}
        error={fieldError(errors, "smtpUtf8")}
      />
    </Stack>
  );
}

// The steps of a connection check (DNS, connect, TLS, AUTH or token), in
// order, each with its outcome and time.
export function CheckResult({ ok, steps }: { ok: boolean; steps: { name: string; ok: boolean; detail: string; millis: number }[] }) {
  const { t } = useTranslation("common");
  return (
    <Stack gap="xs" role="status" aria-live="polite" data-testid="check-result">
      <Group>
        <Badge color={ok ? "green" : "red"}>{ok ? t("settings.checkOk") : t("settings.checkFailed")}</Badge>
      </Group>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("settings.step")}</Table.Th>
            <Table.Th>{t("settings.outcome")}</Table.Th>
            <Table.Th>{t("settings.detail")}</Table.Th>
            <Table.Th>ms</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {steps.map((s) => (
            <Table.Tr key={s.name}>
              <Table.Td>{s.name}</Table.Td>
              <Table.Td>{s.ok ? "✓" : "✗"}</Table.Td>
              <Table.Td>
                <Text size="sm">{s.detail}</Text>
              </Table.Td>
              <Table.Td>{s.millis}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

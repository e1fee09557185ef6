import type { ServerSettingsInput } from "../gql/graphql";
import { graphql } from "../gql";

// The mail server settings form's state (R4) and how it becomes a
// ServerSettingsInput. Kept apart from the component so its rules are
// tested on their own (serverSettings.test.ts).
export type Encryption = "NONE" | "STARTTLS" | "TLS";
export type ServerAuth = "NONE" | "PASSWORD" | "MICROSOFT_GRAPH";

export interface SettingsState {
  host: string;
  port: string; // as typed; empty means the default for the encryption
  encryption: Encryption;
  auth: ServerAuth;
  username: string;
  password: string; // empty keeps the stored one (R4)
  graphTenantId: string;
  graphClientId: string;
  graphClientSecret: string; // empty keeps the stored one (R4)
  senderAddress: string;
  senderName: string;
  smtpUtf8: boolean;
}

// What the API returns of stored settings (never a secret: hasPassword
// and hasGraphClientSecret say whether one is stored).
export interface StoredSettings {
  host?: string | null;
  port?: number | null;
  encryption: Encryption;
  auth: ServerAuth;
  username?: string | null;
  hasPassword: boolean;
  graphTenantId?: string | null;
  graphClientId?: string | null;
  hasGraphClientSecret: boolean;
  senderAddress: string;
  senderName?: string | null;
  smtpUtf8: boolean;
}

export const defaultPorts: Record<Encryption, number> = { NONE: 25, STARTTLS: 587, TLS: 465 };

export function initialSettings(stored?: StoredSettings | null): SettingsState {
  return {
    host: stored?.host ?? "",
    port: stored?.port != null ? String(stored.port) : "",
    encryption: stored?.encryption ?? "STARTTLS",
    auth: stored?.auth ?? "NONE",
    username: stored?.username ?? "",
    password: "",
    graphTenantId: stored?.graphTenantId ?? "",
    graphClientId: stored?.graphClientId ?? "",
    graphClientSecret: "",
    senderAddress: stored?.senderAddress ?? "",
    senderName: stored?.senderName ?? "",
    smtpUtf8: stored?.smtpUtf8 ?? false,
  };
}

// A port as typed: an integer, or undefined for "the default"; anything
// else is left to the server, which names the field (a string the API
// cannot take becomes NaN → the form shows its own error instead).
export function parsePort(s: string): number | undefined | "invalid" {
  const t = s.trim();
  if (t === "") return undefined;
  if (!/^\d{1,5}$/.test(t)) return "invalid";
  return Number(t);
}

// toInput builds the mutation's input: only the fields the chosen
// authentication uses (changing auth drops the others' secrets on the
// server, R4), an empty secret omitted so the stored one is kept, host and
// port omitted for Microsoft Graph (unused there).
export function toInput(s: SettingsState): ServerSettingsInput {
  const input: ServerSettingsInput = {
    encryption: s.encryption,
    auth: s.auth,
    senderAddress: s.senderAddress.trim(),
    senderName: s.senderName.trim() === "" ? null : s.senderName.trim(),
    smtpUtf8: s.smtpUtf8,
  };
  if (s.auth !== "MICROSOFT_GRAPH") {
    input.host = s.host.trim();
    const port = parsePort(s.port);
    if (typeof port === "number") input.port = port;
  }
  if (s.auth === "PASSWORD") {
    input.username = s.username.trim();
    if (s.password !== "") input.password = s.password;
  }
  if (s.auth === "MICROSOFT_GRAPH") {
    input.graphTenantId = s.graphTenantId.trim();
    input.graphClientId = s.graphClientId.trim();
    if (s.graphClientSecret !== "") input.graphClientSecret = s.graphClientSecret;
  }
  return input;
}

// The stored settings as every page reads them.
export const ServerSettingsFields = graphql(`
  fragment ServerSettingsFields on ServerSettings {
    host
    port
    encryption
    auth
    username
    hasPassword
    graphTenantId
    graphClientId
    hasGraphClientSecret
    senderAddress
    senderName
    smtpUtf8
  }
`);

// "Check connection" (checkMailServer): the system server (no ids), a
// tenant's or an authenticated mailbox's; with input, the unsaved settings.
export const CheckMailServer = graphql(`
  mutation CheckMailServer($tenantId: ID, $mailboxId: ID, $input: ServerSettingsInput) {
    checkMailServer(tenantId: $tenantId, mailboxId: $mailboxId, input: $input) {
      ok
      steps { name ok detail millis }
    }
  }
`);

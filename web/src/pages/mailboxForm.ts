import { initialSettings, toInput, type SettingsState, type StoredSettings } from "../lib/serverSettings";
import type { ServerSettingsInput } from "../gql/graphql";
import type { FormErrors } from "../lib/errors";

// The mailbox form's state (R9) and how it becomes addMailbox /
// updateMailbox variables. Kept apart from the page so its rules are
// tested on their own (mailboxForm.test.ts); the server checks them again.
export interface MailboxFormState {
  address: string;
  displayName: string;
  sender: boolean; // "Absender"
  replyTo: boolean; // "Antwort"
  global: boolean; // "Global" (R12: system administrators only)
  authenticated: boolean; // "mit Authentifizierung": own server settings
  settings: SettingsState;
}

// What the page reads of a mailbox to edit it.
export interface StoredMailbox {
  address: string;
  displayName: string;
  sender: boolean;
  replyTo: boolean;
  global: boolean;
  authenticated: boolean;
  settings?: StoredSettings | null;
}

export function emptyMailbox(): MailboxFormState {
  return {
    address: "",
    displayName: "",
    sender: true,
    replyTo: false,
    global: false,
    authenticated: false,
    settings: initialSettings(),
  };
}

export function fromMailbox(m: StoredMailbox): MailboxFormState {
  return {
    address: m.address,
    displayName: m.displayName,
    sender: m.sender,
    replyTo: m.replyTo,
    global: m.global,
    authenticated: m.authenticated,
    settings: initialSettings(m.settings),
  };
}

export interface AddMailboxVariables {
  tenantId: string;
  address: string;
  displayName: string;
  sender: boolean;
  replyTo: boolean;
  global?: boolean;
  settings?: ServerSettingsInput;
}

// addMailbox's variables: settings present exactly when "mit
// Authentifizierung" is ticked (the API's sign of an authenticated
// mailbox); global only from a system administrator, and only when set,
// so nobody else sends an argument that can only be refused (R12).
export function toAddVariables(tenantId: string, s: MailboxFormState, systemAdmin: boolean): AddMailboxVariables {
  const v: AddMailboxVariables = {
    tenantId,
    address: s.address.trim(),
    displayName: s.displayName.trim(),
    sender: s.sender,
    replyTo: s.replyTo,
  };
  if (systemAdmin && s.global) v.global = true;
  if (s.authenticated) v.settings = toInput(s.settings);
  return v;
}

export interface UpdateMailboxVariables {
  id: string;
  displayName?: string;
  sender?: boolean;
  replyTo?: boolean;
  global?: boolean;
  settings?: ServerSettingsInput;
  removeSettings?: boolean;
}

// updateMailbox's variables: only what changed (omitted arguments stay).
// Unticking "mit Authentifizierung" removes the own settings; ticking it
// sends them; an authenticated mailbox whose settings were not touched
// sends none, so the stored ones (and secrets) stay as they are. Global
// only from a system administrator (R12).
export function toUpdateVariables(id: string, before: MailboxFormState, s: MailboxFormState, systemAdmin: boolean): UpdateMailboxVariables {
  const v: UpdateMailboxVariables = { id };
  const name = s.displayName.trim();
  if (name !== before.displayName.trim()) v.displayName = name;
  if (s.sender !== before.sender) v.sender = s.sender;
  if (s.replyTo !== before.replyTo) v.replyTo = s.replyTo;
  if (systemAdmin && s.global !== before.global) v.global = s.global;
  if (!s.authenticated) {
    if (before.authenticated) v.removeSettings = true;
  } else if (!before.authenticated || settingsChanged(before.settings, s.settings)) {
    v.settings = toInput(s.settings);
  }
  return v;
}

// Whether the update changes anything at all.
export function hasChanges(v: UpdateMailboxVariables): boolean {
  return Object.keys(v).some((k) => k !== "id");
}

export function settingsChanged(a: SettingsState, b: SettingsState): boolean {
  return (Object.keys(a) as (keyof SettingsState)[]).some((k) => a[k] !== b[k]);
}

// The form's own checks before anything is sent: what the server would
// refuse without naming a field the form shows (it names the rest).
// Returns messages by field, as keys of the "mailboxes" catalogue.
export function validate(s: MailboxFormState): Record<string, string> {
  const errs: Record<string, string> = {};
  if (s.address.trim() === "") errs.address = "required";
  if (s.displayName.trim() === "") errs.displayName = "required";
  return errs;
}

// The fields of this form; a server error naming another field goes to
// the alert at the top, so no error is lost. Settings fields may come
// with a prefix (settings.host); ServerSettingsForm finds them either way.
const formFields = ["address", "displayName", "sender", "replyTo", "global"];
const settingsFields = ["host", "port", "encryption", "auth", "username", "password", "graphTenantId", "graphClientId", "graphClientSecret", "senderAddress", "senderName", "smtpUtf8"];

export function unshownErrors(errs: FormErrors, withSettings: boolean): string[] {
  const general = [...errs.general];
  for (const [k, v] of Object.entries(errs.fields)) {
    const last = k.split(".").pop() ?? k;
    const shown = formFields.includes(k) || (withSettings && settingsFields.includes(last) && (k === last || k.startsWith("settings.") || k.startsWith("input.")));
    if (!shown) general.push(v);
  }
  return general;
}

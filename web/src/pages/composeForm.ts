// The Kommunikationsmanager's form logic, kept apart from the page so it can
// be tested without a browser: the form's state → SendMessageInput, and the
// server's errors → the field they belong to. The rules themselves (R17,
// R22) stay in the server; the form only shapes what it sends.
import type { AttachmentInput, SendMessageInput } from "../gql/graphql";

// R22's limits, shown as help next to the fields (the server enforces them).
export const limits = {
  recipients: 100,
  totalBytes: 25 << 20,
  bodyBytes: 5 << 20,
  forbidden: ".exe .com .cmd .cpl .hta .scf .sct .lnk .bat .js .jse .wsh .ws .wsf .wsc .vbe .vb .vbs .shs .pif .scr",
};

export interface EncodedFile {
  filename: string;
  contentType: string;
  contentBase64: string;
  size: number;
}

export interface ComposeState {
  from: string | null;
  replyTo: string | null;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string;
  attachments: EncodedFile[];
  // One per composed message (R23): a second click on Send, or a resend
  // after a lost answer, returns the message already queued.
  idempotencyKey: string;
}

export function emptyCompose(newKey: () => string = () => crypto.randomUUID()): ComposeState {
  return { from: null, replyTo: null, to: [], cc: [], bcc: [], subject: "", text: "", attachments: [], idempotencyKey: newKey() };
}

export interface AddressOption {
  address: string;
  displayName: string;
}

// The value the form sends as From or Reply-To for an option: "Name <address>"
// so that two options with one address and different names (SHOW_BOTH, R15)
// stay apart; the bare address when there is no name.
export function optionValue(o: AddressOption): string {
  const name = o.displayName.trim();
  return name ? `${name} <${o.address}>` : o.address;
}

// Recipients trimmed, empty entries dropped, and each address once across
// to, cc and bcc (compared case-insensitively), keeping its first place:
// what the server counts (R22) is what the form shows as sent.
export function cleanRecipients(to: string[], cc: string[], bcc: string[]): { to: string[]; cc: string[]; bcc: string[] } {
  const seen = new Set<string>();
  const clean = (list: string[]) => {
    const out: string[] = [];
    for (const raw of list) {
      const a = raw.trim();
      if (!a) continue;
      const key = a.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(a);
    }
    return out;
  };
  const t = clean(to);
  const c = clean(cc);
  const b = clean(bcc);
  return { to: t, cc: c, bcc: b };
}

// Splits what a user pasted into a tag input ("a@x, b@y; c@z") into addresses.
export function splitAddresses(s: string): string[] {
  return s
    .split(/[,;\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

// The form's state as sendMessage's input: an empty Reply-To, Cc, Bcc,
// text or attachment list is left out rather than sent empty.
export function toSendInput(s: ComposeState): SendMessageInput {
  const r = cleanRecipients(s.to, s.cc, s.bcc);
  const input: SendMessageInput = { from: s.from ?? "", to: r.to, subject: s.subject.trim(), idempotencyKey: s.idempotencyKey };
  if (s.replyTo && s.replyTo.trim()) input.replyTo = s.replyTo;
  if (r.cc.length) input.cc = r.cc;
  if (r.bcc.length) input.bcc = r.bcc;
  if (s.text !== "") input.text = s.text;
  if (s.attachments.length) {
    input.attachments = s.attachments.map(
      (a): AttachmentInput => ({ filename: a.filename, contentType: a.contentType || "application/octet-stream", contentBase64: a.contentBase64 }),
    );
  }
  return input;
}

export type ComposeField = "from" | "replyTo" | "to" | "cc" | "bcc" | "subject" | "text" | "attachments";
const composeFields: ComposeField[] = ["from", "replyTo", "to", "cc", "bcc", "subject", "text", "attachments"];

// What the form checks before it asks the server: a From is chosen and
// there is at least one recipient, at most R22's 100. Values are catalogue
// keys of the compose namespace.
export function validateCompose(s: ComposeState): Partial<Record<ComposeField, string>> {
  const out: Partial<Record<ComposeField, string>> = {};
  if (!s.from) out.from = "error.fromRequired";
  const r = cleanRecipients(s.to, s.cc, s.bcc);
  const n = r.to.length + r.cc.length + r.bcc.length;
  if (n === 0) out.to = "error.recipientRequired";
  else if (n > limits.recipients) out.to = "error.tooManyRecipients";
  if (totalSize(s) > limits.totalBytes) out.attachments = "error.tooLarge";
  return out;
}

export function totalSize(s: Pick<ComposeState, "subject" | "text" | "attachments">): number {
  const enc = new TextEncoder();
  return enc.encode(s.subject).length + enc.encode(s.text).length + s.attachments.reduce((n, a) => n + a.size, 0);
}

export interface ServerError {
  code?: string;
  field?: string;
  text: string;
}

// Where each of sendMessage's errors shows: under the field that
// extensions.field names ("to", "input.to", "attachments[2]" …), else by
// code (FROM_NOT_ALLOWED under From, REPLY_TO_NOT_ALLOWED under Reply-To,
// ATTACHMENT_FORBIDDEN under the attachments); the rest — SENDING_DISABLED,
// CONFLICT, a field the form does not have — above the form.
export function placeErrors(errors: ServerError[]): { fields: Partial<Record<ComposeField, string>>; general: string[] } {
  const fields: Partial<Record<ComposeField, string>> = {};
  const general: string[] = [];
  for (const e of errors) {
    let f = e.field ? fieldName(e.field) : undefined;
    if (!f && e.code === "FROM_NOT_ALLOWED") f = "from";
    if (!f && e.code === "REPLY_TO_NOT_ALLOWED") f = "replyTo";
    if (!f && e.code === "ATTACHMENT_FORBIDDEN") f = "attachments";
    if (e.code === "SENDING_DISABLED") f = undefined;
    if (f && fields[f] === undefined) fields[f] = e.text;
    else general.push(e.text);
  }
  return { fields, general };
}

function fieldName(raw: string): ComposeField | undefined {
  const last = raw.replace(/^input\./, "").split(".")[0].replace(/\[\d+\]$/, "");
  const f = last === "html" ? "text" : last;
  return (composeFields as string[]).includes(f) ? (f as ComposeField) : undefined;
}

// A file's bytes as base64 (AttachmentInput.contentBase64), in chunks so a
// 25 MiB file does not overflow the call stack.
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(bin);
}

export async function encodeFile(f: File): Promise<EncodedFile> {
  const bytes = new Uint8Array(await f.arrayBuffer());
  return { filename: f.name, contentType: f.type || "application/octet-stream", contentBase64: bytesToBase64(bytes), size: bytes.length };
}

// A size in words: 812 B, 12.3 KiB, 4.0 MiB.
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

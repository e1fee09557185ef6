// The audit page's form logic, kept apart from the page so Vitest can
// prove it: a datetime-local value (the browser's local time) to an RFC
// 3339 time with the browser's offset at that moment, and the filter form
// to auditLog's variables.

// A datetime-local value: YYYY-MM-DDTHH:MM, optionally :SS and a fraction.
const localPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");

// localToRFC3339 turns "2026-12-08T14:30" (local time, as <input
// type="datetime-local"> gives it) into "2026-12-08T14:30:00+01:00", with
// the offset the browser's time zone has at that date (summer time
// included). Empty means no time (null: the argument is omitted). A value
// that is not a local date and time is passed on as typed, so the server
// refuses it with INVALID_INPUT naming the argument, shown at the field.
export function localToRFC3339(value: string): string | null {
  const v = value.trim();
  if (v === "") return null;
  const m = localPattern.exec(v);
  if (!m) return v;
  const [y, mo, d, h, mi, s, ms] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0", (m[7] ?? "0").padEnd(3, "0")].map(Number);
  const date = new Date(y, mo - 1, d, h, mi, s, ms);
  // new Date rolls 2026-02-31 over to March, and a wall-clock time skipped
  // by a summer-time change to the hour after: such a value is not a local
  // time; let the server say so.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d || date.getHours() !== h || date.getMinutes() !== mi) {
    return v;
  }
  const offset = -date.getTimezoneOffset(); // minutes east of UTC
  const sign = offset >= 0 ? "+" : "-";
  const frac = ms ? `.${pad(ms, 3)}` : "";
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

// toLocalInput is the other way: a moment as a datetime-local value in the
// browser's time zone, to the second ("2026-12-08T14:30:05").
export function toLocalInput(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The audit log's filter as the form holds it.
export interface AuditFilter {
  tenantId: string | null;
  since: string; // datetime-local
  until: string; // datetime-local
  streamId: string;
}

export const emptyFilter: AuditFilter = { tenantId: null, since: "", until: "", streamId: "" };

export const auditPageSize = 50;

export interface AuditLogVariables {
  tenantId: string | null;
  streamId: string | null;
  since: string | null;
  until: string | null;
  first: number;
  after: string | null;
  newestFirst: true;
}

// auditVariables is auditLog's arguments for the filter: newest first,
// one page of auditPageSize after the cursor (null: the newest page).
// Empty fields are omitted (null), not sent as "".
export function auditVariables(f: AuditFilter, after: string | null = null): AuditLogVariables {
  return {
    tenantId: f.tenantId || null,
    streamId: f.streamId.trim() || null,
    since: localToRFC3339(f.since),
    until: localToRFC3339(f.until),
    first: auditPageSize,
    after,
    newestFirst: true,
  };
}

// A field change in words: "from → to", with "—" for no value.
export function changeText(from: string | null | undefined, to: string | null | undefined, none = "—"): string {
  return `${from ?? none} → ${to ?? none}`;
}

import type { DuplicatePolicy, MessageStatus } from "../gql/graphql";
import { parsePort, type SettingsState } from "../lib/serverSettings";

// The E-Mail-Server and Tenants pages' form logic, apart from the
// components so it is tested on its own (mailServerForms.test.ts).

// A message's status is final once the saga stops driving it (the
// messageStatus subscription ends there).
export const finalStatuses: MessageStatus[] = ["SENT", "FAILED", "REJECTED", "CANCELLED"];

export function isFinal(status: MessageStatus): boolean {
  return finalStatuses.includes(status);
}

export function statusColor(status: MessageStatus): string {
  switch (status) {
    case "SENT":
      return "green";
    case "FAILED":
    case "REJECTED":
      return "red";
    case "CANCELLED":
      return "gray";
    default:
      return "blue";
  }
}

// Where a test mail goes through (R6): the system server, the tenant's own
// server, or one of the tenant's authenticated mailboxes.
export type TestMailTarget = { kind: "system" } | { kind: "tenant"; tenantId: string } | { kind: "mailbox"; mailboxId: string };

export function testMailVariables(target: TestMailTarget, to: string): { to: string; tenantId?: string; mailboxId?: string } {
  const v: { to: string; tenantId?: string; mailboxId?: string } = { to: to.trim() };
  if (target.kind === "tenant") v.tenantId = target.tenantId;
  if (target.kind === "mailbox") v.mailboxId = target.mailboxId;
  return v;
}

// The "send through" choice of a tenant administrator's test mail: "tenant"
// or "mailbox:<id>".
export function parseTestMailTarget(choice: string, tenantId: string): TestMailTarget {
  if (choice.startsWith("mailbox:")) return { kind: "mailbox", mailboxId: choice.slice("mailbox:".length) };
  return { kind: "tenant", tenantId };
}

// Support settings (R7): an empty address removes it.
export interface SupportState {
  address: string;
  allowTenantAddress: boolean;
  attachSystemInfo: boolean;
}

export function supportState(s?: { address?: string | null; allowTenantAddress: boolean; attachSystemInfo: boolean } | null): SupportState {
  return { address: s?.address ?? "", allowTenantAddress: s?.allowTenantAddress ?? false, attachSystemInfo: s?.attachSystemInfo ?? false };
}

export function supportVariables(s: SupportState): { address: string | null; allowTenantAddress: boolean; attachSystemInfo: boolean } {
  const a = s.address.trim();
  return { address: a === "" ? null : a, allowTenantAddress: s.allowTenantAddress, attachSystemInfo: s.attachSystemInfo };
}

// A tenant's support address: empty removes it (null).
export function tenantSupportAddress(s: string): string | null {
  const a = s.trim();
  return a === "" ? null : a;
}

// A tenant's policy as the form edits it (R3, R10, R13, R15).
export interface PolicyState {
  allowSystemServer: boolean;
  allowOwnServer: boolean;
  mailboxQuota: string; // as typed
  userAddressAsSender: boolean;
  duplicatePolicy: DuplicatePolicy;
}

export interface StoredPolicy {
  allowSystemServer: boolean;
  allowOwnServer: boolean;
  mailboxQuota: number;
  userAddressAsSender: boolean;
  duplicatePolicy: DuplicatePolicy;
}

export function policyState(p: StoredPolicy): PolicyState {
  return {
    allowSystemServer: p.allowSystemServer,
    allowOwnServer: p.allowOwnServer,
    mailboxQuota: String(p.mailboxQuota),
    userAddressAsSender: p.userAddressAsSender,
    duplicatePolicy: p.duplicatePolicy,
  };
}

export interface PolicyVariables {
  tenantId: string;
  allowSystemServer?: boolean;
  allowOwnServer?: boolean;
  mailboxQuota?: number;
  userAddressAsSender?: boolean;
  duplicatePolicy?: DuplicatePolicy;
}

// setTenantPolicy's variables: only what changed against the stored
// policy (omitted arguments stay, so a concurrent change of another field
// is not overwritten). A quota that is not a whole number ≥ 0 is the
// form's own error on mailboxQuota.
export function policyVariables(tenantId: string, stored: StoredPolicy, s: PolicyState): { ok: true; variables: PolicyVariables; changed: boolean } | { ok: false; field: "mailboxQuota" } {
  const q = s.mailboxQuota.trim();
  if (!/^\d{1,9}$/.test(q)) return { ok: false, field: "mailboxQuota" };
  const quota = Number(q);
  const v: PolicyVariables = { tenantId };
  if (s.allowSystemServer !== stored.allowSystemServer) v.allowSystemServer = s.allowSystemServer;
  if (s.allowOwnServer !== stored.allowOwnServer) v.allowOwnServer = s.allowOwnServer;
  if (quota !== stored.mailboxQuota) v.mailboxQuota = quota;
  if (s.userAddressAsSender !== stored.userAddressAsSender) v.userAddressAsSender = s.userAddressAsSender;
  if (s.duplicatePolicy !== stored.duplicatePolicy) v.duplicatePolicy = s.duplicatePolicy;
  return { ok: true, variables: v, changed: Object.keys(v).length > 1 };
}

// The settings form's own check before anything is sent: a port that is
// not a whole number would be dropped by toInput (and so silently become
// the default); the server checks the rest and names the field (R4).
export function settingsFieldProblem(s: SettingsState): "port" | null {
  if (s.auth !== "MICROSOFT_GRAPH" && parsePort(s.port) === "invalid") return "port";
  return null;
}

import { describe, expect, it } from "vitest";
import { initialSettings } from "../lib/serverSettings";
import { isFinal, parseTestMailTarget, settingsFieldProblem, policyState, policyVariables, supportVariables, tenantSupportAddress, testMailVariables, type StoredPolicy } from "./mailServerForms";

const stored: StoredPolicy = { allowSystemServer: true, allowOwnServer: true, mailboxQuota: 1, userAddressAsSender: false, duplicatePolicy: "PREFER_USER" };

describe("tenant policy form → setTenantPolicy (R3, R10, R13, R15)", () => {
  it("sends only what changed", () => {
    const r = policyVariables("t1", stored, { ...policyState(stored), mailboxQuota: "3" });
    expect(r).toEqual({ ok: true, changed: true, variables: { tenantId: "t1", mailboxQuota: 3 } });
  });
  it("sends every changed field, false included", () => {
    const r = policyVariables("t1", stored, { ...policyState(stored), allowOwnServer: false, allowSystemServer: false, userAddressAsSender: true, duplicatePolicy: "SHOW_BOTH" });
    expect(r).toEqual({
      ok: true,
      changed: true,
      variables: { tenantId: "t1", allowOwnServer: false, allowSystemServer: false, userAddressAsSender: true, duplicatePolicy: "SHOW_BOTH" },
    });
  });
  it("says when nothing changed", () => {
    const r = policyVariables("t1", stored, policyState(stored));
    expect(r).toEqual({ ok: true, changed: false, variables: { tenantId: "t1" } });
  });
  it("accepts a quota of 0 and refuses what is not a whole number ≥ 0 (R10)", () => {
    expect(policyVariables("t1", stored, { ...policyState(stored), mailboxQuota: "0" })).toMatchObject({ ok: true, variables: { mailboxQuota: 0 } });
    for (const bad of ["", "-1", "1.5", "x"]) {
      expect(policyVariables("t1", stored, { ...policyState(stored), mailboxQuota: bad })).toEqual({ ok: false, field: "mailboxQuota" });
    }
  });
  it("round-trips the stored policy", () => {
    expect(policyState(stored)).toEqual({ ...stored, mailboxQuota: "1" });
  });
});

describe("test mail (R6)", () => {
  it("goes through the system server with neither id", () => {
    expect(testMailVariables({ kind: "system" }, " a@example.com ")).toEqual({ to: "a@example.com" });
  });
  it("goes through the tenant server or an authenticated mailbox", () => {
    expect(testMailVariables(parseTestMailTarget("tenant", "t1"), "a@example.com")).toEqual({ to: "a@example.com", tenantId: "t1" });
    expect(testMailVariables(parseTestMailTarget("mailbox:m9", "t1"), "a@example.com")).toEqual({ to: "a@example.com", mailboxId: "m9" });
  });
  it("knows which statuses are final", () => {
    expect(isFinal("SENT")).toBe(true);
    expect(isFinal("FAILED")).toBe(true);
    expect(isFinal("REJECTED")).toBe(true);
    expect(isFinal("CANCELLED")).toBe(true);
    expect(isFinal("QUEUED")).toBe(false);
    expect(isFinal("SENDING")).toBe(false);
    expect(isFinal("RETRYING")).toBe(false);
  });
});

describe("support settings (R7)", () => {
  it("removes an empty address and trims", () => {
    expect(supportVariables({ address: "  ", allowTenantAddress: true, attachSystemInfo: false })).toEqual({ address: null, allowTenantAddress: true, attachSystemInfo: false });
    expect(supportVariables({ address: " help@example.com ", allowTenantAddress: false, attachSystemInfo: true })).toEqual({ address: "help@example.com", allowTenantAddress: false, attachSystemInfo: true });
    expect(tenantSupportAddress(" ")).toBeNull();
    expect(tenantSupportAddress(" s@t.example ")).toBe("s@t.example");
  });
});

describe("server settings checked before sending (R4)", () => {
  it("refuses a port that is not a whole number, unless Graph does not use it", () => {
    const s = { ...initialSettings(), host: "smtp.example.com", senderAddress: "a@example.com" };
    expect(settingsFieldProblem(s)).toBeNull();
    expect(settingsFieldProblem({ ...s, port: "2525" })).toBeNull();
    expect(settingsFieldProblem({ ...s, port: "25x" })).toBe("port");
    expect(settingsFieldProblem({ ...s, port: "25x", auth: "MICROSOFT_GRAPH" })).toBeNull();
  });
});

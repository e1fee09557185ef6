import { describe, expect, it } from "vitest";
import {
  assignableRoles,
  editableRoles,
  emptyUserForm,
  hasChanges,
  mayBlockOrDelete,
  mayIssueToken,
  mayListTokens,
  mayManageUser,
  toCreateUserVariables,
  toUpdateUserVariables,
  userToForm,
  validateUserForm,
  type Subject,
  type Viewer,
} from "./rules";

const T = "tenant-1";
const sysAdmin: Viewer = { role: "SYSTEM_ADMIN", tenantId: null, userId: null };
const auditor: Viewer = { role: "AUDITOR", tenantId: null, userId: null };
const owner: Viewer = { role: "LEGAL_REPRESENTATIVE", tenantId: T, userId: "owner" };
const admin: Viewer = { role: "ADMINISTRATOR", tenantId: T, userId: "admin" };
const employee: Viewer = { role: "EMPLOYEE", tenantId: T, userId: "emp" };
const user = (id: string, role: Subject["role"], tenantId = T): Subject => ({ id, role, tenantId });

describe("roles a viewer may give (R18, R21)", () => {
  it("offers tenant roles only, never a system role", () => {
    expect(assignableRoles("SYSTEM_ADMIN")).toEqual(["LEGAL_REPRESENTATIVE", "ADMINISTRATOR", "EMPLOYEE", "EXTERNAL"]);
    expect(assignableRoles("SYSTEM_ADMIN")).not.toContain("SYSTEM_ADMIN");
    expect(assignableRoles("SYSTEM_ADMIN")).not.toContain("AUDITOR");
  });
  it("lets the owner give every tenant role, an administrator only EMPLOYEE and EXTERNAL", () => {
    expect(assignableRoles("LEGAL_REPRESENTATIVE")).toHaveLength(4);
    expect(assignableRoles("ADMINISTRATOR")).toEqual(["EMPLOYEE", "EXTERNAL"]);
  });
  it("gives auditors and users no roles to give", () => {
    expect(assignableRoles("AUDITOR")).toEqual([]);
    expect(assignableRoles("EMPLOYEE")).toEqual([]);
    expect(assignableRoles("EXTERNAL")).toEqual([]);
  });
  it("keeps the current role selectable when editing", () => {
    expect(editableRoles("ADMINISTRATOR", "ADMINISTRATOR")).toEqual(["ADMINISTRATOR", "EMPLOYEE", "EXTERNAL"]);
    expect(editableRoles("ADMINISTRATOR", "EMPLOYEE")).toEqual(["EMPLOYEE", "EXTERNAL"]);
  });
});

describe("who may issue a token for whom (R21)", () => {
  const cases: [string, Viewer, Subject, boolean][] = [
    ["a user for itself", employee, user("emp", "EMPLOYEE"), true],
    ["an employee for another employee", employee, user("emp2", "EMPLOYEE"), false],
    ["an administrator for itself", admin, user("admin", "ADMINISTRATOR"), true],
    ["an administrator for an employee", admin, user("e", "EMPLOYEE"), true],
    ["an administrator for an external", admin, user("x", "EXTERNAL"), true],
    ["an administrator for another administrator", admin, user("a2", "ADMINISTRATOR"), false],
    ["an administrator for the owner", admin, user("owner", "LEGAL_REPRESENTATIVE"), false],
    ["the owner for an administrator", owner, user("a2", "ADMINISTRATOR"), true],
    ["the owner for another owner", owner, user("o2", "LEGAL_REPRESENTATIVE"), true],
    ["the owner for an employee", owner, user("e", "EMPLOYEE"), true],
    ["the owner for another tenant's employee", owner, user("e", "EMPLOYEE", "tenant-2"), false],
    ["an administrator for another tenant's employee", admin, user("e", "EMPLOYEE", "tenant-2"), false],
    ["a system administrator for an owner", sysAdmin, user("o", "LEGAL_REPRESENTATIVE"), true],
    ["an auditor for anyone", auditor, user("e", "EMPLOYEE"), false],
  ];
  for (const [name, viewer, subject, want] of cases) {
    it(`${name}: ${want}`, () => {
      expect(mayIssueToken(viewer, subject)).toBe(want);
    });
  }
  it("lets auditors list tokens but not manage users", () => {
    expect(mayListTokens(auditor, user("e", "EMPLOYEE"))).toBe(true);
    expect(mayManageUser(auditor, user("e", "EMPLOYEE"))).toBe(false);
    expect(mayListTokens(admin, user("o", "LEGAL_REPRESENTATIVE"))).toBe(false);
  });
  it("lets administrators manage their subordinates but not block or delete themselves", () => {
    expect(mayManageUser(admin, user("e", "EMPLOYEE"))).toBe(true);
    expect(mayManageUser(admin, user("a2", "ADMINISTRATOR"))).toBe(false);
    expect(mayManageUser(admin, user("admin", "ADMINISTRATOR"))).toBe(true);
    expect(mayBlockOrDelete(admin, user("admin", "ADMINISTRATOR"))).toBe(false);
    expect(mayManageUser(employee, user("emp", "EMPLOYEE"))).toBe(false);
  });
});

describe("user form → createUser / updateUser variables", () => {
  it("starts with EMPLOYEE where the viewer may give it", () => {
    expect(emptyUserForm("ADMINISTRATOR").role).toBe("EMPLOYEE");
    expect(emptyUserForm("AUDITOR").role).toBeNull();
  });
  it("trims what was typed for createUser", () => {
    const v = toCreateUserVariables(T, { loginName: " erika ", displayName: " Erika Muster ", email: " erika@example.com ", role: "EXTERNAL" });
    expect(v).toEqual({ tenantId: T, loginName: "erika", displayName: "Erika Muster", email: "erika@example.com", role: "EXTERNAL" });
  });
  it("names every empty required field", () => {
    expect(validateUserForm({ loginName: " ", displayName: "", email: "", role: null }, "create")).toEqual({
      loginName: "required",
      displayName: "required",
      email: "required",
      role: "required",
    });
    expect(validateUserForm({ loginName: "", displayName: "E", email: "e@example.com", role: "EMPLOYEE" }, "edit")).toEqual({});
  });
  it("sends only what changed to updateUser, never an unchanged role", () => {
    const before = userToForm({ loginName: "erika", displayName: "Erika", email: "erika@example.com", role: "ADMINISTRATOR" });
    const same = toUpdateUserVariables("u1", before, { ...before });
    expect(same).toEqual({ userId: "u1" });
    expect(hasChanges(same)).toBe(false);
    const renamed = toUpdateUserVariables("u1", before, { ...before, displayName: " Erika M. " });
    expect(renamed).toEqual({ userId: "u1", displayName: "Erika M." });
    expect(renamed).not.toHaveProperty("role");
    expect(toUpdateUserVariables("u1", before, { ...before, role: "EMPLOYEE", email: "e@example.com" })).toEqual({
      userId: "u1",
      email: "e@example.com",
      role: "EMPLOYEE",
    });
  });
});

import type { Role } from "../../gql/graphql";

// The users page's rules as pure functions: which roles the viewer may
// give, whom the viewer may manage or issue tokens for (R18, R19, R21),
// and the user form turned into createUser / updateUser variables. The
// server decides again; these only keep the page from offering what can
// only fail.

export const tenantRoles: Role[] = ["LEGAL_REPRESENTATIVE", "ADMINISTRATOR", "EMPLOYEE", "EXTERNAL"];

export interface Viewer {
  role: Role;
  tenantId: string | null;
  userId: string | null;
}

export interface Subject {
  id: string;
  tenantId: string;
  role: Role;
}

const isTenantAdminRole = (r: Role) => r === "LEGAL_REPRESENTATIVE" || r === "ADMINISTRATOR";

// R18, R21: a user gets a tenant role only; the owner and system
// administrators give any of them, an administrator only EMPLOYEE or
// EXTERNAL; nobody else creates users.
export function assignableRoles(viewer: Role): Role[] {
  switch (viewer) {
    case "SYSTEM_ADMIN":
    case "LEGAL_REPRESENTATIVE":
      return tenantRoles;
    case "ADMINISTRATOR":
      return ["EMPLOYEE", "EXTERNAL"];
    default:
      return [];
  }
}

// R21 (as token.CanIssue on the server): users for themselves; system
// administrators for anyone; the tenant's owner for its owner and
// administrators; the tenant's owner and administrators for its EMPLOYEE
// and EXTERNAL users.
export function mayIssueToken(viewer: Viewer, subject: Subject): boolean {
  if (viewer.userId && viewer.userId === subject.id) return true;
  if (viewer.role === "SYSTEM_ADMIN") return true;
  if (!viewer.tenantId || viewer.tenantId !== subject.tenantId) return false;
  if (isTenantAdminRole(subject.role)) return viewer.role === "LEGAL_REPRESENTATIVE";
  return isTenantAdminRole(viewer.role);
}

// Revoking follows issuing (R21).
export const mayRevokeToken = mayIssueToken;

// Who sees a user's tokens (without secrets): system administrators and
// auditors everyone's, the others whom they may issue for.
export function mayListTokens(viewer: Viewer, subject: Subject): boolean {
  return viewer.role === "SYSTEM_ADMIN" || viewer.role === "AUDITOR" || mayIssueToken(viewer, subject);
}

// updateUser, setUserBlocked and deleteUser: administrators of the tenant
// within R21's hierarchy (the server's Subordinates scope).
export function mayManageUser(viewer: Viewer, subject: Subject): boolean {
  const admin = viewer.role === "SYSTEM_ADMIN" || isTenantAdminRole(viewer.role);
  return admin && mayIssueToken(viewer, subject);
}

// Blocking or deleting oneself would lock the viewer out: not offered.
export function mayBlockOrDelete(viewer: Viewer, subject: Subject): boolean {
  return mayManageUser(viewer, subject) && viewer.userId !== subject.id;
}

// The roles the edit form offers for subject: those the viewer may give,
// plus the current one (kept unless changed; an administrator editing
// itself keeps ADMINISTRATOR this way).
export function editableRoles(viewer: Role, current: Role): Role[] {
  const roles = assignableRoles(viewer);
  return roles.includes(current) ? roles : [current, ...roles];
}

export interface UserForm {
  loginName: string;
  displayName: string;
  email: string;
  role: Role | null;
}

export function emptyUserForm(viewer: Role): UserForm {
  const roles = assignableRoles(viewer);
  return { loginName: "", displayName: "", email: "", role: roles.includes("EMPLOYEE") ? "EMPLOYEE" : (roles[0] ?? null) };
}

export function userToForm(u: { loginName: string; displayName: string; email: string; role: Role }): UserForm {
  return { loginName: u.loginName, displayName: u.displayName, email: u.email, role: u.role };
}

// Empty required fields, by argument name (the server's extensions.field),
// as keys of the users catalogue.
export function validateUserForm(f: UserForm, mode: "create" | "edit"): Record<string, string> {
  const out: Record<string, string> = {};
  if (mode === "create" && !f.loginName.trim()) out.loginName = "required";
  if (!f.displayName.trim()) out.displayName = "required";
  if (!f.email.trim()) out.email = "required";
  if (!f.role) out.role = "required";
  return out;
}

export function toCreateUserVariables(tenantId: string, f: UserForm) {
  if (!f.role) throw new Error("role required");
  return { tenantId, loginName: f.loginName.trim(), displayName: f.displayName.trim(), email: f.email.trim(), role: f.role };
}

// Only what changed goes to updateUser (omitted arguments stay): an
// unchanged role is not sent, so an administrator may edit its own name
// without giving a role it may not give.
export function toUpdateUserVariables(userId: string, before: UserForm, f: UserForm) {
  const v: { userId: string; displayName?: string; email?: string; role?: Role } = { userId };
  const displayName = f.displayName.trim();
  const email = f.email.trim();
  if (displayName !== before.displayName) v.displayName = displayName;
  if (email !== before.email) v.email = email;
  if (f.role && f.role !== before.role) v.role = f.role;
  return v;
}

export function hasChanges(v: ReturnType<typeof toUpdateUserVariables>): boolean {
  return Object.keys(v).length > 1;
}

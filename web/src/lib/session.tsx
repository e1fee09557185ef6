import { createContext, useContext } from "react";
import { graphql } from "../gql";
import type { Role } from "../gql/graphql";

// Who is signed in (Query.principal) and what the role may see: the
// console shows only what the viewer's role may do (SPEC §6).
export const PrincipalQuery = graphql(`
  query Principal {
    principal {
      role
      tenantId
      tokenName
      user { id displayName loginName email tenantId }
    }
  }
`);

export interface Session {
  token: string;
  role: Role;
  tenantId: string | null;
  tokenName: string;
  user: { id: string; displayName: string; loginName: string; email: string } | null;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in console");
  return s;
}

export type Page = "mailServer" | "tenants" | "mailboxes" | "users" | "compose" | "messages" | "audit";

// The pages each role sees. System administrators see everything; auditors
// read everything but change nothing (the pages hide their buttons);
// tenant owners and administrators manage their tenant; employees and
// externals write messages and read their own.
export function pagesFor(role: Role, hasUser: boolean): Page[] {
  switch (role) {
    case "SYSTEM_ADMIN":
      return ["mailServer", "tenants", "mailboxes", "users", "messages", "audit"];
    case "AUDITOR":
      return ["mailServer", "tenants", "mailboxes", "users", "messages", "audit"];
    case "LEGAL_REPRESENTATIVE":
    case "ADMINISTRATOR":
      return ["mailServer", "mailboxes", "users", ...(hasUser ? (["compose"] as Page[]) : []), "messages", "audit"];
    case "EMPLOYEE":
    case "EXTERNAL":
      return ["compose", "messages"];
    default:
      return [];
  }
}

// May the role change things in a tenant (configure, add, grant)?
export function canAdminister(role: Role): boolean {
  return role === "SYSTEM_ADMIN" || role === "LEGAL_REPRESENTATIVE" || role === "ADMINISTRATOR";
}

export function isSystemRole(role: Role): boolean {
  return role === "SYSTEM_ADMIN" || role === "AUDITOR";
}

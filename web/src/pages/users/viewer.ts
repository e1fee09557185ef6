import type { Role } from "../../gql/graphql";
import { useSession } from "../../lib/session";
import type { Viewer } from "./rules";

// A row of the users table, as the tokens dialog also gets it.
export interface UserRow {
  id: string;
  tenantId: string;
  loginName: string;
  displayName: string;
  email: string;
  role: Role;
  blocked: boolean;
  groups: { id: string; name: string }[];
}

// The signed-in viewer, as the rules in rules.ts take it.
export function useViewer(): Viewer {
  const s = useSession();
  return { role: s.role, tenantId: s.tenantId, userId: s.user?.id ?? null };
}

import type { MessageStatus, Role } from "../gql/graphql";
import { canAdminister } from "../lib/session";

export type MessageAction = "cancel" | "retry" | "purge";

// The actions a message's detail offers (R23, R25): cancel a QUEUED or
// RETRYING message, make a RETRYING one due now — administrators of the
// tenant, system administrators, and the sender for its own message (a
// sender's list holds only its own) — and purge the content, administrators
// only. Auditors change nothing, so they get no buttons.
export function actionsFor(role: Role, status: MessageStatus): MessageAction[] {
  if (role === "AUDITOR" || role === "MAIL_SERVER") return [];
  const out: MessageAction[] = [];
  if (status === "QUEUED" || status === "RETRYING") out.push("cancel");
  if (status === "RETRYING") out.push("retry");
  if (canAdminister(role)) out.push("purge");
  return out;
}

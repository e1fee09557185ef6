// Package authz decides who may run which GraphQL operation on what: R19's
// permissions and error precedence, R12's cross-tenant visibility of global
// mailboxes, R20's blocked users and R21's token hierarchy, in one table of
// roles × operations (rules.go) and one function, Check, that every resolver
// calls before it does anything else.
//
// A resolver builds the Target from what it knows before the command runs,
// usually after one read-model lookup: the tenant owning the object, the
// user it is about, that user's role. If the object does not exist, the
// resolver answers NOT_FOUND itself — after p.Err(), so UNAUTHENTICATED
// still comes first (R19). Where an optional tenantId is omitted, a resolver
// passes the caller's own tenant, cmp.Or(tenantID, p.TenantID): system
// principals have none and so ask system-wide.
//
// Lists that a role sees only in part (tenants; messages for EMPLOYEE and
// EXTERNAL; events and auditLog for tenant administrators) call ScopeOf and
// filter accordingly: Tenant means the caller's tenant only, Own means the
// caller's own objects only; then Check with the filtered target.
//
// The domain keeps the rules that depend on the object's state (R3's policy,
// R12's global flag, quotas); authz only knows who asks and where the object
// lives.
package authz

import (
	"errors"
	"fmt"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/token"
)

// Principal is who calls, taken from the request's token. A user principal
// has a tenant role, a UserID and a TenantID; a system principal has a
// system role (SYSTEM_ADMIN, AUDITOR, MAIL_SERVER) and no tenant. The zero
// Principal is a request without a token.
type Principal struct {
	TokenID  string
	UserID   string
	TenantID string
	Role     domain.Role
	// Blocked: the token's user is blocked (R20).
	Blocked bool
}

// Err returns an UNAUTHENTICATED error when there is no valid principal — no
// token, a principal of inconsistent shape, or a blocked user (R20) — and nil
// otherwise.
func (p Principal) Err() error {
	switch {
	case p.Role.IsSystemRole() && p.TenantID == "":
	case p.Role.IsTenantRole() && p.TenantID != "" && p.UserID != "":
	default:
		return domain.Unauthenticated("missing or invalid token")
	}
	if p.Blocked {
		return domain.Unauthenticated("the user is blocked") // R20
	}
	return nil
}

// Authenticated reports whether p may call anything at all (Err is nil).
func (p Principal) Authenticated() bool { return p.Err() == nil }

// Actor is p as the domain sees it, for commands and events.
func (p Principal) Actor() domain.Actor {
	return domain.Actor{UserID: p.UserID, TenantID: p.TenantID, Role: p.Role}
}

// Self is the caller as a target: for viewer, sendMessage,
// submitSupportRequest and apiTokens without a userId.
func (p Principal) Self() Target {
	return Target{TenantID: p.TenantID, UserID: p.UserID, SubjectRole: p.Role}
}

// Target is what an operation touches, as far as it is known before the
// command runs. Set every field that applies: a missing TenantID turns a
// foreign object's NOT_FOUND into FORBIDDEN, and missing fields never widen
// access.
type Target struct {
	// TenantID owns the object: the tenant itself, the user's, group's,
	// mailbox's, message's or mail domain's tenant. Empty for system-wide
	// objects (system server, support, createTenant, a test mail through
	// the system server, system tokens).
	TenantID string
	// UserID is the user the operation is about: the user read or changed,
	// the owner of the options, the tokens' user, a message's sender.
	UserID string
	// SubjectRole is UserID's role, for R21's hierarchy (token operations,
	// updateUser, deleteUser, setUserBlocked). When unknown it counts as an
	// administrator's, which only the owner and system administrators reach.
	SubjectRole domain.Role
	// NewRole is the role createUser or updateUser would give (R21's
	// hierarchy: an administrator gives only EMPLOYEE or EXTERNAL).
	NewRole domain.Role
	// Member: the caller is a member of the group (group query).
	Member bool
	// GlobalMailbox: the object is a global mailbox, readable with the
	// mailbox query outside its tenant (R12).
	GlobalMailbox bool
}

// Check reports whether p may run op on t: nil, or a *domain.Error in R19's
// precedence — UNAUTHENTICATED (no token, or a blocked user, R20), NOT_FOUND
// (a tenant user naming another tenant's object, also for mutations, so
// existence does not leak; a global mailbox is the one exception, R12),
// FORBIDDEN (outside the role's scope in rules). An unknown op is FORBIDDEN.
func Check(p Principal, op Op, t Target) error {
	if err := p.Err(); err != nil {
		return err
	}
	rule, ok := rules[op]
	if !ok {
		return domain.Forbidden(fmt.Sprintf("unknown operation %q", op))
	}
	if p.Role.IsTenantRole() && t.TenantID != "" && t.TenantID != p.TenantID && !readsGlobalMailbox(op, t) {
		return domain.NotFound(rule.Object) // R19
	}
	switch rule.Scope(p.Role) {
	case All:
		return nil
	case Tenant:
		if t.TenantID != "" && (t.TenantID == p.TenantID || readsGlobalMailbox(op, t)) {
			return nil
		}
	case Own:
		if (t.UserID != "" && t.UserID == p.UserID) || t.Member {
			return nil
		}
	case Subordinates:
		return subordinate(p, rule, t)
	}
	return domain.Forbidden(fmt.Sprintf("%s may not use %s here", p.Role, op))
}

// readsGlobalMailbox: a global mailbox is visible outside its tenant, with
// address, display name and flags only (R12; see CanSeeDetails).
func readsGlobalMailbox(op Op, t Target) bool {
	return op == OpMailbox && t.GlobalMailbox && t.TenantID != ""
}

// subordinate is the Subordinates scope: R21's issuance rule, token.CanIssue,
// for the user the operation is about and for the role it would give.
func subordinate(p Principal, rule Rule, t Target) error {
	actor := p.Actor()
	check := func(subject domain.Actor) error {
		err := token.CanIssue(actor, subject)
		if errors.Is(err, domain.ErrNotFound) {
			return domain.NotFound(rule.Object)
		}
		return err
	}
	if t.UserID != "" || t.NewRole.IsZero() {
		role := t.SubjectRole
		if role.IsZero() && t.UserID != p.UserID {
			role = domain.RoleAdministrator // unknown: the strictest
		}
		if err := check(domain.Actor{UserID: t.UserID, TenantID: t.TenantID, Role: role}); err != nil {
			return err
		}
	}
	if !t.NewRole.IsZero() {
		return check(domain.Actor{TenantID: t.TenantID, Role: t.NewRole})
	}
	return nil
}

// ScopeOf is how far p reaches with op, for resolvers of lists that filter
// what they return; Denied without a valid principal (Err) or for an unknown
// op.
func ScopeOf(p Principal, op Op) Scope {
	if !p.Authenticated() {
		return Denied
	}
	return rules[op].Scope(p.Role)
}

// CanSeeDetails reports whether p sees the administrative details of an
// object of tenantID ("" for system-wide objects): system administrators,
// auditors and the tenant's own owner and administrators do. It decides
// R12's grants and settings of a mailbox (a global mailbox shows others
// address, display name and flags only), a message's resolution (SPEC §4),
// and a tenant's or the system's server settings (never secrets).
func CanSeeDetails(p Principal, tenantID string) bool {
	if !p.Authenticated() {
		return false
	}
	return p.Role == domain.RoleSystemAdmin || p.Role == domain.RoleAuditor || p.Actor().IsTenantAdminOf(tenantID)
}

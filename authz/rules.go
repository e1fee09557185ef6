package authz

import (
	"maps"

	"github.com/absender/absender/domain"
)

// Op is one GraphQL operation field, named exactly like the field (SPEC §4).
type Op string

// Queries.
const (
	OpViewer           Op = "viewer"
	OpPrincipal        Op = "principal"
	OpSystemMailServer Op = "systemMailServer"
	OpTenants          Op = "tenants"
	OpTenant           Op = "tenant"
	OpUser             Op = "user"
	OpGroup            Op = "group"
	OpMailbox          Op = "mailbox"
	OpSenderOptions    Op = "senderOptions"
	OpReplyToOptions   Op = "replyToOptions"
	OpMailboxAccess    Op = "mailboxAccess"
	OpApiTokens        Op = "apiTokens"
	OpMessage          Op = "message"
	OpMessages         Op = "messages"
	OpAuditLog         Op = "auditLog"
	OpRouteInbound     Op = "routeInbound"
	OpParkedEvents     Op = "parkedEvents"
)

// Mutations.
const (
	OpConfigureSystemServer   Op = "configureSystemServer"
	OpSetSystemServerEnabled  Op = "setSystemServerEnabled"
	OpConfigureSupport        Op = "configureSupport"
	OpCreateTenant            Op = "createTenant"
	OpSetTenantPolicy         Op = "setTenantPolicy"
	OpSetBulkLimitLifted      Op = "setBulkLimitLifted"
	OpConfigureTenantServer   Op = "configureTenantServer"
	OpRemoveTenantServer      Op = "removeTenantServer"
	OpSetTenantSupportAddress Op = "setTenantSupportAddress"
	OpCreateUser              Op = "createUser"
	OpUpdateUser              Op = "updateUser"
	OpDeleteUser              Op = "deleteUser"
	OpSetUserBlocked          Op = "setUserBlocked"
	OpIssueApiToken           Op = "issueApiToken"
	OpRevokeApiToken          Op = "revokeApiToken"
	OpCreateGroup             Op = "createGroup"
	OpDeleteGroup             Op = "deleteGroup"
	OpAddGroupMember          Op = "addGroupMember"
	OpRemoveGroupMember       Op = "removeGroupMember"
	OpAddMailbox              Op = "addMailbox"
	OpUpdateMailbox           Op = "updateMailbox"
	OpRemoveMailbox           Op = "removeMailbox"
	OpGrantUser               Op = "grantUser"
	OpRevokeUser              Op = "revokeUser"
	OpGrantGroup              Op = "grantGroup"
	OpRevokeGroup             Op = "revokeGroup"
	OpSetMailboxRestricted    Op = "setMailboxRestricted"
	OpSendMessage             Op = "sendMessage"
	OpSendTestMail            Op = "sendTestMail"
	OpCheckMailServer         Op = "checkMailServer"
	OpSubmitSupportRequest    Op = "submitSupportRequest"
	OpPurgeMessageContent     Op = "purgeMessageContent"
	OpCancelMessage           Op = "cancelMessage"
	OpRetryMessageNow         Op = "retryMessageNow"
	OpInboundReceived         Op = "inboundReceived"
)

// Subscriptions.
const (
	OpEvents        Op = "events"
	OpMessageStatus Op = "messageStatus"
)

// Kind is the GraphQL operation type an Op belongs to.
type Kind string

// The operation types.
const (
	Query        Kind = "query"
	Mutation     Kind = "mutation"
	Subscription Kind = "subscription"
)

// Scope is how far a role reaches with an operation, from nothing to every
// tenant. A target beyond the scope is FORBIDDEN, or NOT_FOUND when it
// belongs to another tenant than a tenant user's own (R19).
type Scope uint8

// The scopes, narrowest first.
const (
	// Denied: never (FORBIDDEN).
	Denied Scope = iota
	// Own: the caller's own objects — Target.UserID is the caller, or
	// Target.Member says the caller belongs to the group.
	Own
	// Subordinates: users of the caller's own tenant that R21's issuance rule
	// (token.CanIssue) lets the caller issue tokens for: the caller, EMPLOYEE
	// and EXTERNAL users for an administrator, everyone for the owner. Also
	// the role given to a user (Target.NewRole) must be such a role.
	Subordinates
	// Tenant: every object of the caller's own tenant.
	Tenant
	// All: every object of every tenant, and system-wide ones.
	All
)

func (s Scope) String() string {
	switch s {
	case Denied:
		return "denied"
	case Own:
		return "own"
	case Subordinates:
		return "subordinates"
	case Tenant:
		return "tenant"
	case All:
		return "all"
	}
	return "unknown"
}

// Rule is one row of the permission table: the operation type, the object a
// NOT_FOUND names, and each role's scope.
type Rule struct {
	Kind Kind
	// Object names what NOT_FOUND reports as missing ("user", "mailbox").
	Object string
	scopes [7]Scope // indexed like domain.Roles()
}

// Scope returns role's scope; Denied for the zero or an unknown role.
func (r Rule) Scope(role domain.Role) Scope {
	for i, x := range domain.Roles() {
		if x == role {
			return r.scopes[i]
		}
	}
	return Denied
}

func row(k Kind, object string, sysAdmin, auditor, mailServer, owner, admin, employee, external Scope) Rule {
	return Rule{Kind: k, Object: object, scopes: [7]Scope{sysAdmin, auditor, mailServer, owner, admin, employee, external}}
}

func query(object string, sysAdmin, auditor, mailServer, owner, admin, employee, external Scope) Rule {
	return row(Query, object, sysAdmin, auditor, mailServer, owner, admin, employee, external)
}

func mutation(object string, sysAdmin, auditor, mailServer, owner, admin, employee, external Scope) Rule {
	return row(Mutation, object, sysAdmin, auditor, mailServer, owner, admin, employee, external)
}

func subscription(object string, sysAdmin, auditor, mailServer, owner, admin, employee, external Scope) Rule {
	return row(Subscription, object, sysAdmin, auditor, mailServer, owner, admin, employee, external)
}

// rules is R19 (with R12 and R21) as one table: roles × operations. Whether
// a target lies in the caller's tenant is decided by Check.
//
// Auditors read everything and change nothing; MAIL_SERVER reaches only
// routeInbound and inboundReceived; sending acts as the caller's user, so
// principals without a user (system roles) cannot send.
//
// Each row: the object a NOT_FOUND names, then the scope of SYSTEM_ADMIN,
// AUDITOR, MAIL_SERVER, LEGAL_REPRESENTATIVE, ADMINISTRATOR, EMPLOYEE and
// EXTERNAL, in that order.
var rules = map[Op]Rule{
	OpViewer: query("user", All, All, Denied, Own, Own, Own, Own),
	// Every authenticated caller reads who its own token is (SPEC §4).
	OpPrincipal:        query("principal", All, All, All, All, All, All, All),
	OpSystemMailServer: query("system mail server", All, All, Denied, All, All, All, All),
	OpTenants:          query("tenant", All, All, Denied, Tenant, Tenant, Tenant, Tenant),
	OpTenant:           query("tenant", All, All, Denied, Tenant, Tenant, Tenant, Tenant),
	OpUser:             query("user", All, All, Denied, Tenant, Tenant, Own, Own),
	OpGroup:            query("group", All, All, Denied, Tenant, Tenant, Own, Own),
	OpMailbox:          query("mailbox", All, All, Denied, Tenant, Tenant, Denied, Denied),
	OpSenderOptions:    query("user", All, All, Denied, Tenant, Tenant, Own, Own),
	OpReplyToOptions:   query("user", All, All, Denied, Tenant, Tenant, Own, Own),
	OpMailboxAccess:    query("mailbox", All, All, Denied, Tenant, Tenant, Denied, Denied),
	OpApiTokens:        query("user", All, All, Denied, Subordinates, Subordinates, Subordinates, Subordinates),
	OpMessage:          query("message", All, All, Denied, Tenant, Tenant, Own, Own),
	OpMessages:         query("tenant", All, All, Denied, Tenant, Tenant, Own, Own),
	OpAuditLog:         query("tenant", All, All, Denied, Tenant, Tenant, Denied, Denied),
	OpRouteInbound:     query("mail domain", All, All, All, Tenant, Tenant, Denied, Denied),
	OpParkedEvents:     query("", All, All, Denied, Denied, Denied, Denied, Denied), // R35

	OpConfigureSystemServer:   mutation("", All, Denied, Denied, Denied, Denied, Denied, Denied),
	OpSetSystemServerEnabled:  mutation("", All, Denied, Denied, Denied, Denied, Denied, Denied),
	OpConfigureSupport:        mutation("", All, Denied, Denied, Denied, Denied, Denied, Denied),
	OpCreateTenant:            mutation("", All, Denied, Denied, Denied, Denied, Denied, Denied),
	OpSetTenantPolicy:         mutation("tenant", All, Denied, Denied, Denied, Denied, Denied, Denied),
	OpSetBulkLimitLifted:      mutation("tenant", All, Denied, Denied, Denied, Denied, Denied, Denied),
	OpConfigureTenantServer:   mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpRemoveTenantServer:      mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpSetTenantSupportAddress: mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpCreateUser:              mutation("tenant", All, Denied, Denied, Subordinates, Subordinates, Denied, Denied),
	OpUpdateUser:              mutation("user", All, Denied, Denied, Subordinates, Subordinates, Denied, Denied),
	OpDeleteUser:              mutation("user", All, Denied, Denied, Subordinates, Subordinates, Denied, Denied),
	OpSetUserBlocked:          mutation("user", All, Denied, Denied, Subordinates, Subordinates, Denied, Denied),
	OpIssueApiToken:           mutation("user", All, Denied, Denied, Subordinates, Subordinates, Subordinates, Subordinates),
	OpRevokeApiToken:          mutation("token", All, Denied, Denied, Subordinates, Subordinates, Subordinates, Subordinates),
	OpCreateGroup:             mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpDeleteGroup:             mutation("group", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpAddGroupMember:          mutation("group", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpRemoveGroupMember:       mutation("group", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpAddMailbox:              mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpUpdateMailbox:           mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpRemoveMailbox:           mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpGrantUser:               mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpRevokeUser:              mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpGrantGroup:              mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpRevokeGroup:             mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpSetMailboxRestricted:    mutation("mailbox", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpSendMessage:             mutation("user", Denied, Denied, Denied, Own, Own, Own, Own),
	OpSendTestMail:            mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	// Whoever may configure the settings checked: the system server
	// system administrators, a tenant's server and mailboxes also the
	// tenant's legal representative and administrators (issue 11).
	OpCheckMailServer:      mutation("tenant", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	OpSubmitSupportRequest: mutation("user", Denied, Denied, Denied, Own, Own, Own, Own),
	OpPurgeMessageContent:  mutation("message", All, Denied, Denied, Tenant, Tenant, Denied, Denied),
	// R23: the tenant's administrators, or the sender for its own message.
	OpCancelMessage:   mutation("message", All, Denied, Denied, Tenant, Tenant, Own, Own),
	OpRetryMessageNow: mutation("message", All, Denied, Denied, Tenant, Tenant, Own, Own),
	OpInboundReceived: mutation("mail domain", All, Denied, All, Denied, Denied, Denied, Denied),

	OpEvents:        subscription("tenant", All, All, Denied, Tenant, Tenant, Denied, Denied),
	OpMessageStatus: subscription("message", All, All, Denied, Tenant, Tenant, Own, Own),
}

// Rules returns the permission table, e.g. for a test that walks every
// operation over HTTP. Changing the returned map changes nothing.
func Rules() map[Op]Rule { return maps.Clone(rules) }

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// The principals of the matrix, in its column order. Tenant users belong to
// tenant A, except "user of another tenant", the only user of tenant B (an
// ADMINISTRATOR there, so that everything it is refused in A is refused
// because A is not its tenant, not because of its role).
type permWho int

const (
	permSysAdmin permWho = iota
	permAuditor
	permMailServer
	permOwner
	permAdmin
	permEmployee
	permExternal
	permBlocked
	permOther
	permNoToken
	permWhoCount
)

var permWhoNames = [permWhoCount]string{
	"system admin", "auditor", "mail server", "legal representative", "administrator",
	"employee", "external", "blocked user", "user of another tenant", "no token",
}

// permWhoRoles are the principals' roles, for the cross-check against
// authz.Rules(); the zero Role for those the table cannot judge (blocked
// user, no token: both UNAUTHENTICATED before any rule).
var permWhoRoles = [permWhoCount]domain.Role{
	domain.RoleSystemAdmin, domain.RoleAuditor, domain.RoleMailServer, domain.RoleLegalRepresentative,
	domain.RoleAdministrator, domain.RoleEmployee, domain.RoleExternal, {}, domain.RoleAdministrator, {},
}

// The outcomes of a cell: ok allowed (no UNAUTHENTICATED, FORBIDDEN or
// NOT_FOUND; a domain error such as INVALID_INPUT or ALREADY_EXISTS also
// means permission was granted), F FORBIDDEN, N NOT_FOUND, U
// UNAUTHENTICATED, - not applicable (a "self" row for a principal without a
// user of its own).
var permCodes = map[string]string{"ok": "ALLOW", "F": "FORBIDDEN", "N": "NOT_FOUND", "U": "UNAUTHENTICATED"}

// permKnownBugs are cells ("op/variant/principal") where the implementation
// disagrees with the SPEC. The table keeps the SPEC's expectation; these
// cells are logged instead of failing. Remove an entry once the code is
// fixed (the test logs "FIXED" for it). "served/FIELD" entries are SPEC §4
// contract fields the server does not serve.
var permKnownBugs = map[string]string{}

// permSpecFields are the Query and Mutation fields of SPEC §4's first
// GraphQL block: every one must be served (and then have rows below).
var permSpecFields = []string{
	"viewer", "principal", "systemMailServer", "tenants", "tenant", "user", "group", "mailbox", "senderOptions",
	"replyToOptions", "mailboxAccess", "apiTokens", "message", "messages", "auditLog", "parkedEvents",
	"configureSystemServer", "setSystemServerEnabled", "configureSupport", "createTenant",
	"setTenantPolicy", "configureTenantServer", "removeTenantServer", "setTenantSupportAddress",
	"createUser", "updateUser", "deleteUser", "setUserBlocked", "issueApiToken", "revokeApiToken",
	"createGroup", "deleteGroup", "addGroupMember", "removeGroupMember", "addMailbox",
	"updateMailbox", "removeMailbox", "grantUser", "revokeUser", "grantGroup", "revokeGroup", "setMailboxRestricted",
	"sendMessage", "sendTestMail", "submitSupportRequest", "purgeMessageContent", "checkMailServer", "cancelMessage", "retryMessageNow",
}

// permFixture is the world the matrix runs in. Every object named here
// belongs to tenant A unless its name says otherwise.
type permFixture struct {
	t  *testing.T
	in *servertest.Instance

	tenantA, tenantB string
	user             [permWhoCount]string // each principal's own user ("" without one)
	token            [permWhoCount]string // each principal's token ("" for no token)
	peer             string               // an EMPLOYEE without a token, no member of any group
	admin2           string               // an ADMINISTRATOR without a token
	group            string               // a group the employee and external are not in
	ownGroup         string               // a group with the employee and external as members
	mailbox          string               // a mailbox
	global           string               // a global mailbox (R12)
	peerToken        string               // the peer employee's token, to send as it
	peerMessage      string               // a message of the peer employee
	systemTestMail   string               // a test mail through the system server (no tenant's)
	n                int                  // for unique names
}

var permSettings = map[string]any{
	"host": "smtp.example.com", "encryption": "STARTTLS", "auth": "NONE",
	"senderAddress": "noreply@example.com", "senderName": "Absender",
}

// permCheckSettings are unsaved settings of a port nothing listens on.
var permCheckSettings = map[string]any{
	"host": "127.0.0.1", "port": 9, "encryption": "NONE", "auth": "NONE", "senderAddress": "noreply@example.com",
}

const permSupport = `mutation { configureSupport(address: "support@example.com", allowTenantAddress: true, attachSystemInfo: false) { configured } }`

// do runs an operation as the system administrator and fails on any error.
func (f *permFixture) do(query string, vars map[string]any, out any) {
	f.t.Helper()
	f.in.MustDo(f.t, f.in.Admin, query, vars, out)
}

func (f *permFixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%d", prefix, f.n)
}

func (f *permFixture) newTenant() string {
	f.t.Helper()
	var out struct{ CreateTenant struct{ ID string } }
	f.do(`mutation($n: String!) { createTenant(name: $n) { id } }`, map[string]any{"n": f.unique("Tenant ")}, &out)
	return out.CreateTenant.ID
}

func (f *permFixture) newUser(tenantID string, role domain.Role) string {
	f.t.Helper()
	login := f.unique("perm-" + strings.ToLower(role.String()) + "-")
	var out struct{ CreateUser struct{ ID string } }
	f.do(`mutation($t: ID!, $l: String!, $e: String!, $r: Role!) {
		createUser(tenantId: $t, loginName: $l, displayName: $l, email: $e, role: $r) { id } }`,
		map[string]any{"t": tenantID, "l": login, "e": login + "@a.example", "r": role.String()}, &out)
	return out.CreateUser.ID
}

// newToken issues a token for userID as the system administrator and
// returns it and its id.
func (f *permFixture) newToken(userID string) (tok, id string) {
	f.t.Helper()
	var out struct{ IssueApiToken string }
	f.do(`mutation($u: ID!, $n: String!) { issueApiToken(userId: $u, name: $n) }`,
		map[string]any{"u": userID, "n": f.unique("perm token ")}, &out)
	return out.IssueApiToken, permTokenID(f.t, out.IssueApiToken)
}

// newSystemToken issues an auditor token as `absender token issue` does
// and waits until the read models know it.
func (f *permFixture) newSystemToken() string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli := app.WithRequest(ctx, app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "cli"})
	tok, res, err := f.in.Server.App.Commands.Tokens.IssueForSystem(cli, domain.RoleAuditor, f.unique("perm system token "))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.in.Server.Runner.WaitFor(ctx, res.Position); err != nil {
		f.t.Fatal(err)
	}
	return permTokenID(f.t, tok)
}

func (f *permFixture) newGroup() string {
	f.t.Helper()
	var out struct{ CreateGroup struct{ ID string } }
	f.do(`mutation($t: ID!, $n: String!) { createGroup(tenantId: $t, name: $n) { id } }`,
		map[string]any{"t": f.tenantA, "n": f.unique("Group ")}, &out)
	return out.CreateGroup.ID
}

func (f *permFixture) newMailbox(global bool) string {
	f.t.Helper()
	var out struct{ AddMailbox struct{ ID string } }
	f.do(`mutation($t: ID!, $a: String!, $g: Boolean) {
		addMailbox(tenantId: $t, address: $a, displayName: "Shared", sender: true, replyTo: true, global: $g) { id } }`,
		map[string]any{"t": f.tenantA, "a": f.unique("shared") + "@a.example", "g": global}, &out)
	return out.AddMailbox.ID
}

// self is the user a "self" row names for who: its own, or (no token) the
// employee's.
func (f *permFixture) self(who permWho) string {
	if f.user[who] != "" {
		return f.user[who]
	}
	return f.user[permEmployee]
}

func permTokenID(t *testing.T, tok string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(tok, "abs_")
	id, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || id == "" {
		t.Fatalf("token %q is not abs_<id>_<secret> (R21)", tok)
	}
	return id
}

// permSetup builds the fixture: a configured system server and support
// settings; tenant A (quota raised) with a legal representative, an
// administrator, an employee, an external user, a blocked user whose token
// was issued before blocking, a peer employee, a second administrator, two
// groups, a mailbox and a global mailbox; tenant B with one administrator.
func permSetup(t *testing.T, in *servertest.Instance) *permFixture {
	t.Helper()
	f := &permFixture{t: t, in: in}
	f.token[permSysAdmin], f.token[permAuditor], f.token[permMailServer] = in.Admin, in.Auditor, in.MailServer

	f.do(`mutation($in: ServerSettingsInput!) { configureSystemServer(input: $in) { configured } }`, map[string]any{"in": permSettings}, nil)
	f.do(`mutation { setSystemServerEnabled(enabled: true) { enabled } }`, nil, nil)
	f.do(permSupport, nil, nil)

	f.tenantA, f.tenantB = f.newTenant(), f.newTenant()
	f.do(`mutation($t: ID!) { setTenantPolicy(tenantId: $t, mailboxQuota: 1000) { id } }`, map[string]any{"t": f.tenantA}, nil)

	for who, role := range map[permWho]domain.Role{
		permOwner: domain.RoleLegalRepresentative, permAdmin: domain.RoleAdministrator,
		permEmployee: domain.RoleEmployee, permExternal: domain.RoleExternal, permBlocked: domain.RoleEmployee,
	} {
		f.user[who] = f.newUser(f.tenantA, role)
	}
	f.user[permOther] = f.newUser(f.tenantB, domain.RoleAdministrator)
	for who := permOwner; who <= permOther; who++ {
		f.token[who], _ = f.newToken(f.user[who])
		var v struct{ Viewer struct{ ID string } }
		in.MustDo(t, f.token[who], `query { viewer { id } }`, nil, &v)
		if v.Viewer.ID != f.user[who] {
			t.Fatalf("viewer of %s's token is %q, want %q", permWhoNames[who], v.Viewer.ID, f.user[who])
		}
	}
	f.do(`mutation($u: ID!) { setUserBlocked(userId: $u, blocked: true) { id } }`, map[string]any{"u": f.user[permBlocked]}, nil)

	f.peer = f.newUser(f.tenantA, domain.RoleEmployee)
	f.admin2 = f.newUser(f.tenantA, domain.RoleAdministrator)
	f.group, f.ownGroup = f.newGroup(), f.newGroup()
	for _, who := range []permWho{permEmployee, permExternal} {
		f.do(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`,
			map[string]any{"g": f.ownGroup, "u": f.user[who]}, nil)
	}
	f.mailbox = f.newMailbox(false)
	// The global mailbox has details only some may see (R12): own server
	// settings and a grant to the peer employee.
	var g struct{ AddMailbox struct{ ID string } }
	f.do(`mutation($t: ID!, $a: String!, $s: ServerSettingsInput) {
		addMailbox(tenantId: $t, address: $a, displayName: "Global", sender: true, replyTo: true, global: true, settings: $s) { id } }`,
		map[string]any{"t": f.tenantA, "a": "global@a.example", "s": permSettings}, &g)
	f.global = g.AddMailbox.ID
	f.do(`mutation($m: ID!, $u: ID!) { grantUser(mailboxId: $m, userId: $u) { id } }`, map[string]any{"m": f.global, "u": f.peer}, nil)

	// Messages (R6, R19): one of the peer employee, one test mail through
	// the system server, which belongs to no tenant.
	f.peerToken, _ = f.newToken(f.peer)
	f.peerMessage = f.send(f.peerToken)
	var tm struct{ SendTestMail struct{ ID string } }
	f.do(`mutation { sendTestMail(to: "check@example.com") { id } }`, nil, &tm)
	f.systemTestMail = tm.SendTestMail.ID
	return f
}

const permSendMessage = `mutation($in: SendMessageInput!) { sendMessage(input: $in) { id status } }`

// permDraft is a message every user of tenants A and B may send: From the
// system mailbox.
func permDraft() map[string]any {
	return map[string]any{"from": "noreply@example.com", "to": []string{"someone@example.net"}, "subject": "Permission matrix", "text": "Hello."}
}

// send sends a message as tok and returns its id.
func (f *permFixture) send(tok string) string {
	f.t.Helper()
	var out struct{ SendMessage struct{ ID string } }
	f.in.MustDo(f.t, tok, permSendMessage, map[string]any{"in": permDraft()}, &out)
	return out.SendMessage.ID
}

// ownMessage is a fresh message of who (for a principal without a user of
// its own, or a blocked one: the peer employee's, refused before it matters).
func (f *permFixture) ownMessage(who permWho) string {
	if f.user[who] == "" || who == permBlocked {
		return f.peerMessage
	}
	return f.send(f.token[who])
}

// permRow is one operation with one kind of target, and its expected
// outcome per principal (columns as permWhoNames).
type permRow struct {
	op, name string
	want     string
	query    string
	// vars gives the variables for who; it may create a fresh target as the
	// system administrator so that an allowed destructive operation never
	// touches the shared fixture.
	vars func(f *permFixture, who permWho) map[string]any
}

// permChecks inspect allowed answers of some rows ("op/variant") and
// return what is wrong with them ("" for nothing).
var permChecks = map[string]func(f *permFixture, who permWho, r servertest.Response) string{
	"tenants/own or all":              permCheckTenants,
	"mailbox/R12 global mailbox of A": permCheckGlobalMailbox,
	"messages/tenant A":               permCheckMessages,
}

func permNoVars(*permFixture, permWho) map[string]any { return nil }

// permRows is the matrix: R19 (with R12, R20, R21) for every served query
// and mutation. Columns: sa system admin, au auditor, ms mail server, lr
// legal representative, ad administrator, em employee, ex external, bl
// blocked user, ot user of another tenant, no no token.
func permRows() []permRow {
	const (
		qTenant    = `query($id: ID!) { tenant(id: $id) { id name } }`
		qUser      = `query($id: ID!) { user(id: $id) { id loginName } }`
		qGroup     = `query($id: ID!) { group(id: $id) { id name } }`
		qMailbox   = `query($id: ID!) { mailbox(id: $id) { id address } }`
		qSender    = `query($u: ID!) { senderOptions(userId: $u) { address } }`
		qReplyTo   = `query($u: ID!) { replyToOptions(userId: $u) { address } }`
		qTokens    = `query($u: ID) { apiTokens(userId: $u) { id name } }`
		qAudit     = `query($t: ID) { auditLog(tenantId: $t, first: 1) { edges { cursor } } }`
		qMessage   = `query($id: ID!) { message(id: $id) { id status } }`
		qMessages  = `query($t: ID!) { messages(tenantId: $t, first: 500) { edges { node { id } } } }`
		mTestMail  = `mutation($t: ID, $m: ID, $to: String!) { sendTestMail(tenantId: $t, mailboxId: $m, to: $to) { id } }`
		mCheck     = `mutation($t: ID, $m: ID, $in: ServerSettingsInput) { checkMailServer(tenantId: $t, mailboxId: $m, input: $in) { ok } }`
		mCreateU   = `mutation($t: ID!, $l: String!, $e: String!, $r: Role!) { createUser(tenantId: $t, loginName: $l, displayName: "New user", email: $e, role: $r) { id } }`
		mUpdateU   = `mutation($u: ID!, $r: Role) { updateUser(userId: $u, displayName: "Renamed", role: $r) { id } }`
		mDeleteU   = `mutation($u: ID!) { deleteUser(userId: $u) }`
		mBlock     = `mutation($u: ID!) { setUserBlocked(userId: $u, blocked: true) { id blocked } }`
		mIssue     = `mutation($u: ID!, $n: String!) { issueApiToken(userId: $u, name: $n) }`
		mRevoke    = `mutation($k: ID!) { revokeApiToken(tokenId: $k) }`
		mAddMember = `mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`
		mRemMember = `mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }`
		mAddMbox   = `mutation($t: ID!, $a: String!, $g: Boolean) { addMailbox(tenantId: $t, address: $a, displayName: "New mailbox", sender: true, replyTo: true, global: $g) { id } }`
		mUpdMbox   = `mutation($m: ID!, $g: Boolean) { updateMailbox(id: $m, displayName: "Renamed", global: $g) { id } }`
	)
	id := func(get func(f *permFixture) string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, _ permWho) map[string]any { return map[string]any{"id": get(f)} }
	}
	u := func(get func(f *permFixture, who permWho) string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, who permWho) map[string]any { return map[string]any{"u": get(f, who)} }
	}
	tenantA := func(f *permFixture, _ permWho) map[string]any { return map[string]any{"t": f.tenantA} }
	peer := func(f *permFixture, _ permWho) string { return f.peer }
	admin2 := func(f *permFixture, _ permWho) string { return f.admin2 }
	self := func(f *permFixture, who permWho) string { return f.self(who) }
	freshEmployee := func(f *permFixture, _ permWho) string { return f.newUser(f.tenantA, domain.RoleEmployee) }
	freshAdmin := func(f *permFixture, _ permWho) string { return f.newUser(f.tenantA, domain.RoleAdministrator) }
	createUser := func(role string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, _ permWho) map[string]any {
			l := f.unique("perm-new-")
			return map[string]any{"t": f.tenantA, "l": l, "e": l + "@a.example", "r": role}
		}
	}
	issue := func(get func(f *permFixture, who permWho) string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, who permWho) map[string]any {
			return map[string]any{"u": get(f, who), "n": f.unique("issued ")}
		}
	}
	revoke := func(get func(f *permFixture, who permWho) string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, who permWho) map[string]any {
			_, k := f.newToken(get(f, who))
			return map[string]any{"k": k}
		}
	}
	ownToken := func(f *permFixture, who permWho) string {
		if who == permBlocked || f.user[who] == "" {
			return f.peer // refused as UNAUTHENTICATED before the target matters
		}
		return f.user[who]
	}
	member := func(group func(f *permFixture) string, user func(f *permFixture) string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, _ permWho) map[string]any { return map[string]any{"g": group(f), "u": user(f)} }
	}
	grant := func(key string, mailbox, grantee func(f *permFixture) string) func(*permFixture, permWho) map[string]any {
		return func(f *permFixture, _ permWho) map[string]any {
			return map[string]any{"m": mailbox(f), key: grantee(f)}
		}
	}
	mailboxA := func(f *permFixture) string { return f.mailbox }
	globalA := func(f *permFixture) string { return f.global }
	peerUser := func(f *permFixture) string { return f.peer }
	groupA := func(f *permFixture) string { return f.group }

	return []permRow{
		//                                                             sa au ms lr ad em ex bl ot no
		{"viewer", "self", "ok ok F  ok ok ok ok U  ok U", `query { viewer { id } }`, permNoVars},
		{"principal", "self", "ok ok ok ok ok ok ok U  ok U", `query { principal { role tenantId tokenName user { id } } }`, permNoVars},
		{"systemMailServer", "system", "ok ok F  ok ok ok ok U  ok U", `query { systemMailServer { configured enabled } }`, permNoVars},
		{"tenants", "own or all", "ok ok F  ok ok ok ok U  ok U", `query { tenants { edges { node { id } } } }`, permNoVars},
		{"tenant", "tenant A", "ok ok F  ok ok ok ok U  N  U", qTenant, id(func(f *permFixture) string { return f.tenantA })},
		{"user", "peer employee of A", "ok ok F  ok ok F  F  U  N  U", qUser, id(func(f *permFixture) string { return f.peer })},
		{"user", "self", "-  -  -  ok ok ok ok U  ok U", qUser, func(f *permFixture, who permWho) map[string]any { return map[string]any{"id": f.self(who)} }},
		{"group", "group of A", "ok ok F  ok ok F  F  U  N  U", qGroup, id(groupA)},
		{"group", "own group", "ok ok F  ok ok ok ok U  N  U", qGroup, id(func(f *permFixture) string { return f.ownGroup })},
		{"mailbox", "mailbox of A", "ok ok F  ok ok F  F  U  N  U", qMailbox, id(mailboxA)},
		{"mailbox", "R12 global mailbox of A", "ok ok F  ok ok F  F  U  ok U",
			`query($id: ID!) { mailbox(id: $id) { id address global settings { senderAddress } grantedUsers { id } } }`, id(globalA)},
		{"senderOptions", "peer employee of A", "ok ok F  ok ok F  F  U  N  U", qSender, u(peer)},
		{"senderOptions", "self", "-  -  -  ok ok ok ok U  ok U", qSender, u(self)},
		{"senderOptions", "history: peer employee of A, at a time", "ok ok F  ok ok F  F  U  N  U",
			`query($u: ID!) { senderOptions(userId: $u, at: "2030-01-01T00:00:00Z") { address } }`, u(peer)},
		{"senderOptions", "history: self, at a time", "-  -  -  ok ok ok ok U  ok U",
			`query($u: ID!) { senderOptions(userId: $u, at: "2030-01-01T00:00:00Z") { address } }`, u(self)},
		{"mailboxAccess", "mailbox of A", "ok ok F  ok ok F  F  U  N  U", `query($id: ID!) { mailboxAccess(mailboxId: $id) { edges { node { id } } } }`, id(mailboxA)},
		{"mailboxAccess", "R12 global mailbox of A, at a time", "ok ok F  ok ok F  F  U  N  U",
			`query($id: ID!) { mailboxAccess(mailboxId: $id, at: "2030-01-01T00:00:00Z") { edges { node { id } } } }`, id(globalA)},
		{"replyToOptions", "peer employee of A", "ok ok F  ok ok F  F  U  N  U", qReplyTo, u(peer)},
		{"replyToOptions", "self", "-  -  -  ok ok ok ok U  ok U", qReplyTo, u(self)},
		{"apiTokens", "R21 peer employee of A", "ok ok F  ok ok F  F  U  N  U", qTokens, u(peer)},
		{"apiTokens", "R21 administrator of A", "ok ok F  ok F  F  F  U  N  U", qTokens, u(admin2)},
		{"apiTokens", "R21 self", "-  -  -  ok ok ok ok U  ok U", qTokens, u(self)},
		{"apiTokens", "the caller's (no userId)", "ok ok F  ok ok ok ok U  ok U", qTokens, permNoVars},
		{"message", "R19 message of the peer employee of A", "ok ok F  ok ok F  F  U  N  U", qMessage, id(func(f *permFixture) string { return f.peerMessage })},
		{"message", "self: a message of the caller", "-  -  -  ok ok ok ok U  ok U", qMessage,
			func(f *permFixture, who permWho) map[string]any { return map[string]any{"id": f.ownMessage(who)} }},
		{"message", "R6 R19 a test mail through the system server", "ok ok F  N  N  N  N  U  N  U", qMessage,
			id(func(f *permFixture) string { return f.systemTestMail })},
		{"messages", "tenant A", "ok ok F  ok ok ok ok U  N  U", qMessages, tenantA},
		{"messages", "§4 no tenantId (every message, or the caller's tenant)", "ok ok F  ok ok ok ok U  ok U",
			`query { messages { totalCount edges { node { id kind tenantId } } } }`, permNoVars},
		{"auditLog", "tenant A", "ok ok F  ok ok F  F  U  N  U", qAudit, tenantA},
		{"auditLog", "no tenantId (the caller's tenant or all)", "ok ok F  ok ok F  F  U  ok U", qAudit, permNoVars},
		{"parkedEvents", "R35 system-wide", "ok ok F  F  F  F  F  U  F  U", `query { parkedEvents { position consumer } }`, permNoVars},

		{"configureSystemServer", "system", "ok F  F  F  F  F  F  U  F  U",
			`mutation($in: ServerSettingsInput!) { configureSystemServer(input: $in) { configured } }`,
			func(*permFixture, permWho) map[string]any { return map[string]any{"in": permSettings} }},
		{"setSystemServerEnabled", "system", "ok F  F  F  F  F  F  U  F  U", `mutation { setSystemServerEnabled(enabled: true) { enabled } }`, permNoVars},
		{"configureSupport", "system", "ok F  F  F  F  F  F  U  F  U", permSupport, permNoVars},
		{"createTenant", "system", "ok F  F  F  F  F  F  U  F  U", `mutation($n: String!) { createTenant(name: $n) { id } }`,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"n": f.unique("New tenant ")} }},
		{"setTenantPolicy", "R10 tenant A", "ok F  F  F  F  F  F  U  N  U", `mutation($t: ID!) { setTenantPolicy(tenantId: $t, mailboxQuota: 1000) { id } }`, tenantA},
		{"configureTenantServer", "tenant A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($t: ID!, $in: ServerSettingsInput!) { configureTenantServer(tenantId: $t, input: $in) { id } }`,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"t": f.tenantA, "in": permSettings}
			}},
		{"removeTenantServer", "tenant A (configured first)", "ok F  F  ok ok F  F  U  N  U", `mutation($t: ID!) { removeTenantServer(tenantId: $t) { id } }`,
			func(f *permFixture, _ permWho) map[string]any {
				f.do(`mutation($t: ID!, $in: ServerSettingsInput!) { configureTenantServer(tenantId: $t, input: $in) { id } }`,
					map[string]any{"t": f.tenantA, "in": permSettings}, nil)
				return map[string]any{"t": f.tenantA}
			}},
		{"setTenantSupportAddress", "R7 tenant A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($t: ID!) { setTenantSupportAddress(tenantId: $t, address: "help@a.example") { id } }`, tenantA},

		{"createUser", "R21 employee in A", "ok F  F  ok ok F  F  U  N  U", mCreateU, createUser("EMPLOYEE")},
		{"createUser", "R21 administrator in A", "ok F  F  ok F  F  F  U  N  U", mCreateU, createUser("ADMINISTRATOR")},
		{"updateUser", "R21 peer employee of A", "ok F  F  ok ok F  F  U  N  U", mUpdateU, u(peer)},
		{"updateUser", "R21 administrator of A", "ok F  F  ok F  F  F  U  N  U", mUpdateU, u(admin2)},
		{"updateUser", "R21 promote a fresh employee of A", "ok F  F  ok F  F  F  U  N  U", mUpdateU,
			func(f *permFixture, who permWho) map[string]any {
				return map[string]any{"u": freshEmployee(f, who), "r": "ADMINISTRATOR"}
			}},
		{"updateUser", "self", "-  -  -  ok ok F  F  U  ok U", mUpdateU, u(self)},
		{"deleteUser", "R21 fresh employee of A", "ok F  F  ok ok F  F  U  N  U", mDeleteU, u(freshEmployee)},
		{"deleteUser", "R21 fresh administrator of A", "ok F  F  ok F  F  F  U  N  U", mDeleteU, u(freshAdmin)},
		{"setUserBlocked", "R20 fresh employee of A", "ok F  F  ok ok F  F  U  N  U", mBlock, u(freshEmployee)},
		{"setUserBlocked", "R20 fresh administrator of A", "ok F  F  ok F  F  F  U  N  U", mBlock, u(freshAdmin)},
		{"issueApiToken", "R21 peer employee of A", "ok F  F  ok ok F  F  U  N  U", mIssue, issue(peer)},
		{"issueApiToken", "R21 administrator of A", "ok F  F  ok F  F  F  U  N  U", mIssue, issue(admin2)},
		{"issueApiToken", "R21 self", "-  -  -  ok ok ok ok U  ok U", mIssue, issue(self)},
		{"revokeApiToken", "R21 fresh token of the peer employee", "ok F  F  ok ok F  F  U  N  U", mRevoke, revoke(peer)},
		{"revokeApiToken", "R21 fresh token of an administrator", "ok F  F  ok F  F  F  U  N  U", mRevoke, revoke(admin2)},
		{"revokeApiToken", "R21 a fresh token of the caller", "-  -  -  ok ok ok ok U  ok U", mRevoke, revoke(ownToken)},
		{"revokeApiToken", "R19 a fresh system token", "ok F  F  N  N  N  N  U  N  U", mRevoke,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"k": f.newSystemToken()} }},

		{"createGroup", "tenant A", "ok F  F  ok ok F  F  U  N  U", `mutation($t: ID!) { createGroup(tenantId: $t, name: "New group") { id } }`, tenantA},
		{"deleteGroup", "fresh group of A", "ok F  F  ok ok F  F  U  N  U", `mutation($g: ID!) { deleteGroup(groupId: $g) }`,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"g": f.newGroup()} }},
		{"addGroupMember", "group of A, peer employee", "ok F  F  ok ok F  F  U  N  U", mAddMember, member(groupA, peerUser)},
		{"removeGroupMember", "group of A, peer employee", "ok F  F  ok ok F  F  U  N  U", mRemMember, member(groupA, peerUser)},

		{"addMailbox", "R9 tenant A", "ok F  F  ok ok F  F  U  N  U", mAddMbox,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"t": f.tenantA, "a": f.unique("new") + "@a.example"}
			}},
		{"addMailbox", "R12 global in tenant A", "ok F  F  F  F  F  F  U  N  U", mAddMbox,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"t": f.tenantA, "a": f.unique("newglobal") + "@a.example", "g": true}
			}},
		{"updateMailbox", "mailbox of A", "ok F  F  ok ok F  F  U  N  U", mUpdMbox, func(f *permFixture, _ permWho) map[string]any { return map[string]any{"m": f.mailbox} }},
		{"updateMailbox", "R12 global mailbox of A", "ok F  F  ok ok F  F  U  N  U", mUpdMbox, func(f *permFixture, _ permWho) map[string]any { return map[string]any{"m": f.global} }},
		{"updateMailbox", "R12 make a fresh mailbox of A global", "ok F  F  F  F  F  F  U  N  U", mUpdMbox,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"m": f.newMailbox(false), "g": true}
			}},
		{"removeMailbox", "fresh mailbox of A", "ok F  F  ok ok F  F  U  N  U", `mutation($m: ID!) { removeMailbox(id: $m) }`,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"m": f.newMailbox(false)} }},
		{"sendMessage", "R17 self, From the system mailbox", "F  F  F  ok ok ok ok U  ok U", permSendMessage,
			func(*permFixture, permWho) map[string]any { return map[string]any{"in": permDraft()} }},
		{"sendTestMail", "R6 the system server", "ok F  F  F  F  F  F  U  F  U", mTestMail,
			func(*permFixture, permWho) map[string]any { return map[string]any{"to": "check@example.com"} }},
		{"sendTestMail", "R6 tenant A's server (configured first)", "ok F  F  ok ok F  F  U  N  U", mTestMail,
			func(f *permFixture, _ permWho) map[string]any {
				f.do(`mutation($t: ID!, $in: ServerSettingsInput!) { configureTenantServer(tenantId: $t, input: $in) { id } }`,
					map[string]any{"t": f.tenantA, "in": permSettings}, nil)
				return map[string]any{"t": f.tenantA, "to": "check@example.com"}
			}},
		{"sendTestMail", "R6 R12 the authenticated global mailbox of A", "ok F  F  ok ok F  F  U  N  U", mTestMail,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"m": f.global, "to": "check@example.com"}
			}},
		// Unsaved settings of a closed local port: the check fails fast at
		// CONNECT, which is still an allowed call.
		{"checkMailServer", "the system server", "ok F  F  F  F  F  F  U  F  U", mCheck,
			func(*permFixture, permWho) map[string]any { return map[string]any{"in": permCheckSettings} }},
		{"checkMailServer", "tenant A's server", "ok F  F  ok ok F  F  U  N  U", mCheck,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"t": f.tenantA, "in": permCheckSettings}
			}},
		{"checkMailServer", "the global mailbox of A", "ok F  F  ok ok F  F  U  N  U", mCheck,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"m": f.global, "in": permCheckSettings}
			}},
		{"submitSupportRequest", "R7 self", "F  F  F  ok ok ok ok U  ok U",
			`mutation { submitSupportRequest(subject: "Help", body: "Please.") { id } }`, permNoVars},
		{"purgeMessageContent", "R25 a fresh message of the peer employee of A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($id: ID!) { purgeMessageContent(id: $id) { id } }`,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"id": f.send(f.peerToken)} }},
		// R23: a CONFLICT (the message was sent meanwhile) counts as allowed.
		{"cancelMessage", "R23 a fresh message of the peer employee of A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($id: ID!) { cancelMessage(id: $id) { id } }`,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"id": f.send(f.peerToken)} }},
		{"cancelMessage", "R23 self: a message of the caller", "-  -  -  ok ok ok ok U  ok U",
			`mutation($id: ID!) { cancelMessage(id: $id) { id } }`,
			func(f *permFixture, who permWho) map[string]any { return map[string]any{"id": f.ownMessage(who)} }},
		{"cancelMessage", "R6 R19 a test mail through the system server", "ok F  F  N  N  N  N  U  N  U",
			`mutation($id: ID!) { cancelMessage(id: $id) { id } }`, id(func(f *permFixture) string { return f.systemTestMail })},
		{"retryMessageNow", "R23 a fresh message of the peer employee of A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($id: ID!) { retryMessageNow(id: $id) { id } }`,
			func(f *permFixture, _ permWho) map[string]any { return map[string]any{"id": f.send(f.peerToken)} }},
		{"retryMessageNow", "R23 self: a message of the caller", "-  -  -  ok ok ok ok U  ok U",
			`mutation($id: ID!) { retryMessageNow(id: $id) { id } }`,
			func(f *permFixture, who permWho) map[string]any { return map[string]any{"id": f.ownMessage(who)} }},

		{"grantUser", "R11 mailbox of A to the peer employee", "ok F  F  ok ok F  F  U  N  U",
			`mutation($m: ID!, $u: ID!) { grantUser(mailboxId: $m, userId: $u) { id } }`, grant("u", mailboxA, peerUser)},
		{"grantUser", "global mailbox of A to a user of B", "ok F  F  N  N  N  N  U  N  U",
			`mutation($m: ID!, $u: ID!) { grantUser(mailboxId: $m, userId: $u) { id } }`,
			grant("u", globalA, func(f *permFixture) string { return f.user[permOther] })},
		{"revokeUser", "R11 mailbox of A from the peer employee", "ok F  F  ok ok F  F  U  N  U",
			`mutation($m: ID!, $u: ID!) { revokeUser(mailboxId: $m, userId: $u) { id } }`, grant("u", mailboxA, peerUser)},
		{"grantGroup", "R11 mailbox of A to a group of A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($m: ID!, $g: ID!) { grantGroup(mailboxId: $m, groupId: $g) { id } }`, grant("g", mailboxA, groupA)},
		{"revokeGroup", "R11 mailbox of A from a group of A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($m: ID!, $g: ID!) { revokeGroup(mailboxId: $m, groupId: $g) { id } }`, grant("g", mailboxA, groupA)},
		{"setMailboxRestricted", "R11 restrict a fresh mailbox of A", "ok F  F  ok ok F  F  U  N  U",
			`mutation($m: ID!, $r: Boolean!) { setMailboxRestricted(id: $m, restricted: $r) { id } }`,
			func(f *permFixture, _ permWho) map[string]any {
				return map[string]any{"m": f.newMailbox(false), "r": true}
			}},
	}
}

// permCheckTenants: system administrators and auditors list every tenant,
// everyone else only their own (R19).
func permCheckTenants(f *permFixture, who permWho, r servertest.Response) string {
	var out struct{ Tenants conn[struct{ ID string }] }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return fmt.Sprintf("decode %s: %v", r.Data, err)
	}
	var got []string
	for _, x := range out.Tenants {
		got = append(got, x.ID)
	}
	switch who {
	case permSysAdmin, permAuditor:
		if !slices.Contains(got, f.tenantA) || !slices.Contains(got, f.tenantB) {
			return fmt.Sprintf("tenants %v lack tenant A or B", got)
		}
	default:
		own := f.tenantA
		if who == permOther {
			own = f.tenantB
		}
		if len(got) != 1 || got[0] != own {
			return fmt.Sprintf("tenants %v, want only the caller's own [%s] (R19)", got, own)
		}
	}
	return ""
}

// permCheckGlobalMailbox: outside its tenant a global mailbox shows
// address, display name and flags only; its grants and settings are for its
// own tenant's administrators, system administrators and auditors (R12).
func permCheckGlobalMailbox(f *permFixture, who permWho, r servertest.Response) string {
	var out struct {
		Mailbox struct {
			ID, Address  string
			Global       bool
			Settings     *struct{ SenderAddress string }
			GrantedUsers []struct{ ID string }
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return fmt.Sprintf("decode %s: %v", r.Data, err)
	}
	m := out.Mailbox
	if m.ID != f.global || !m.Global || m.Address == "" {
		return fmt.Sprintf("got mailbox %s, want the global mailbox %s with its address and flags", r.Data, f.global)
	}
	details := m.Settings != nil || len(m.GrantedUsers) > 0
	if who == permOther && details {
		return fmt.Sprintf("R12: got settings or grants %s outside the owning tenant", r.Data)
	}
	if who != permOther && (m.Settings == nil || len(m.GrantedUsers) != 1 || m.GrantedUsers[0].ID != f.peer) {
		return fmt.Sprintf("R12: got %s, want the settings and the grant to the peer employee", r.Data)
	}
	return ""
}

// permCheckMessages: EMPLOYEE and EXTERNAL users list only their own
// messages, administrators and system principals every message of the
// tenant (R19).
func permCheckMessages(f *permFixture, who permWho, r servertest.Response) string {
	var out struct {
		Messages struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return fmt.Sprintf("decode %s: %v", r.Data, err)
	}
	var got []string
	for _, e := range out.Messages.Edges {
		got = append(got, e.Node.ID)
	}
	peers := slices.Contains(got, f.peerMessage)
	switch who {
	case permEmployee, permExternal:
		if peers {
			return fmt.Sprintf("R19: messages %v include the peer employee's %s", got, f.peerMessage)
		}
	default:
		if !peers {
			return fmt.Sprintf("messages %v lack the peer employee's %s", got, f.peerMessage)
		}
	}
	return ""
}

// permServed introspects the served schema over HTTP: field name → "query"
// or "mutation".
func permServed(t *testing.T, in *servertest.Instance) map[string]authz.Kind {
	t.Helper()
	var s struct {
		Schema struct {
			QueryType, MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	in.MustDo(t, in.Admin, `{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil, &s)
	served := map[string]authz.Kind{}
	for _, x := range s.Schema.QueryType.Fields {
		served[x.Name] = authz.Query
	}
	for _, x := range s.Schema.MutationType.Fields {
		served[x.Name] = authz.Mutation
	}
	if len(served) == 0 {
		t.Fatal("introspection returned no Query or Mutation fields")
	}
	return served
}

// permOutcome names a response as the table does; "" for a response that
// proves nothing (a broken operation or an internal error).
func permOutcome(r servertest.Response) string {
	switch c := r.Code(); {
	case len(r.Errors) == 0:
		return "ok"
	case c == string(domain.CodeUnauthenticated):
		return "U"
	case c == string(domain.CodeForbidden):
		return "F"
	case c == string(domain.CodeNotFound):
		return "N"
	case c == string(domain.CodeInternal), c == "", strings.HasPrefix(c, "GRAPHQL_"),
		c == string(domain.CodeInvalidInput) && r.Field() == "query": // a parse or validation error
		return ""
	default: // INVALID_INPUT, ALREADY_EXISTS, QUOTA_EXCEEDED, …: permission was granted
		return "ok"
	}
}

func permCode(outcome string, r servertest.Response) string {
	if c, ok := permCodes[outcome]; ok {
		return c
	}
	return fmt.Sprintf("%s (%v)", r.Code(), r.Errors)
}

// permLeaks reports whether a refused operation still answered data for
// its field.
func permLeaks(r servertest.Response, op string) bool {
	var data map[string]json.RawMessage
	if len(r.Data) == 0 || json.Unmarshal(r.Data, &data) != nil {
		return false
	}
	v, ok := data[op]
	return ok && string(v) != "null"
}

// TestR19_PermissionMatrix tries every served query and mutation as system
// admin, auditor, mail server, legal representative, administrator,
// employee, external, blocked user, a user of another tenant and no token,
// over real HTTP, and compares extensions.code with one table (R19, R12,
// R20, R21).
func TestR19_PermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Now()
		in := servertest.Start(t, db)
		f := permSetup(t, in)
		served := permServed(t, in)
		rows := permRows()
		rules := authz.Rules()

		// Every served field has rows; every row names a served field.
		covered := map[string]bool{}
		for _, r := range rows {
			covered[r.op] = true
			kind, ok := served[r.op]
			if !ok {
				t.Errorf("row %s (%s): the server does not serve %s", r.op, r.name, r.op)
				continue
			}
			rule, ok := rules[authz.Op(r.op)]
			switch {
			case !ok:
				t.Errorf("op %s has no rule in authz.Rules()", r.op)
			case rule.Kind != kind:
				t.Errorf("op %s is a %s field, authz.Rules() says %s", r.op, kind, rule.Kind)
			}
		}
		for name, kind := range served {
			if !covered[name] && !strings.HasPrefix(name, "__") {
				t.Errorf("%s field %s has no row in the permission matrix", kind, name)
			}
		}
		for _, name := range permSpecFields {
			if _, ok := served[name]; !ok {
				key := "served/" + name
				if reason, known := permKnownBugs[key]; known {
					t.Logf("known bug %s: %s", key, reason)
				} else {
					t.Errorf("SPEC §4 field %s is not served", name)
				}
			} else if _, known := permKnownBugs["served/"+name]; known {
				t.Logf("FIXED: %s is served now; remove served/%s from permKnownBugs and add its rows", name, name)
			}
		}

		// Cross-check with authz.Rules(): a cell the SPEC allows must not be
		// Denied there, a cell it forbids must not be All.
		for _, r := range rows {
			rule, ok := rules[authz.Op(r.op)]
			if !ok {
				continue
			}
			for who, w := range strings.Fields(r.want) {
				if who >= len(permWhoRoles) || permWhoRoles[who].IsZero() {
					continue
				}
				role := permWhoRoles[who]
				scope := rule.Scope(role)
				if w == "ok" && scope == authz.Denied || w == "F" && scope == authz.All {
					key := "authz/" + r.op + "/" + r.name + "/" + permWhoNames[who]
					if reason, known := permKnownBugs[key]; known {
						t.Logf("known bug %s: %s", key, reason)
						continue
					}
					t.Errorf("op %s (%s) as %s: authz.Rules() gives scope %s, the SPEC wants %s", r.op, r.name, permWhoNames[who], scope, permCodes[w])
				}
			}
		}

		// The matrix over HTTP.
		cells, known := 0, 0
		for _, r := range rows {
			want := strings.Fields(r.want)
			if len(want) != int(permWhoCount) {
				t.Fatalf("row %s (%s): %d outcomes, want %d", r.op, r.name, len(want), permWhoCount)
			}
			if _, ok := served[r.op]; !ok {
				continue
			}
			for who := range permWhoCount {
				w := want[who]
				if w == "-" {
					continue
				}
				if _, ok := permCodes[w]; !ok {
					t.Fatalf("row %s (%s): unknown outcome %q", r.op, r.name, w)
				}
				resp := in.Do(t, f.token[who], r.query, r.vars(f, who))
				cells++
				got := permOutcome(resp)
				key := r.op + "/" + r.name + "/" + permWhoNames[who]
				reason, isKnown := permKnownBugs[key]
				switch {
				case got == "":
					t.Errorf("op %s (%s) as %s: got %s, want %s", r.op, r.name, permWhoNames[who], permCode(got, resp), permCodes[w])
				case got != w && isKnown:
					known++
					t.Logf("known bug: op %s (%s) as %s: got %s, want %s (%s)", r.op, r.name, permWhoNames[who], permCode(got, resp), permCodes[w], reason)
				case got != w:
					t.Errorf("op %s (%s) as %s: got %s, want %s", r.op, r.name, permWhoNames[who], permCode(got, resp), permCodes[w])
				case isKnown:
					t.Logf("FIXED: op %s (%s) as %s now gives %s: remove %q from permKnownBugs", r.op, r.name, permWhoNames[who], permCodes[w], key)
				case w != "ok" && permLeaks(resp, r.op):
					t.Errorf("op %s (%s) as %s: got %s with data %s, want no data", r.op, r.name, permWhoNames[who], permCodes[w], resp.Data)
				case w == "ok" && permChecks[r.op+"/"+r.name] != nil && len(resp.Errors) == 0:
					if problem := permChecks[r.op+"/"+r.name](f, who, resp); problem != "" {
						t.Errorf("op %s (%s) as %s: %s", r.op, r.name, permWhoNames[who], problem)
					}
				case w == "ok" && len(resp.Errors) > 0 && testing.Verbose():
					t.Logf("op %s (%s) as %s: allowed, answered %s", r.op, r.name, permWhoNames[who], resp.Code())
				}
			}
		}
		ops := map[string]bool{}
		for _, r := range rows {
			ops[r.op] = true
		}
		t.Logf("permission matrix: %d operations (%d rows) × %d principals = %d cells over HTTP (%d known bugs) in %s",
			len(ops), len(rows), permWhoCount, cells, known, time.Since(start).Round(time.Millisecond))
	})
}

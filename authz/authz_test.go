package authz_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
)

// The principals of the table, in its column order. Tenant users belong to
// tenant A, except other, an administrator of tenant B.
var (
	sysAdmin   = authz.Principal{TokenID: "k-sys", Role: domain.RoleSystemAdmin}
	auditor    = authz.Principal{TokenID: "k-aud", Role: domain.RoleAuditor}
	mailServer = authz.Principal{TokenID: "k-mail", Role: domain.RoleMailServer}
	owner      = authz.Principal{TokenID: "k-own", UserID: "u-owner", TenantID: "A", Role: domain.RoleLegalRepresentative}
	admin      = authz.Principal{TokenID: "k-adm", UserID: "u-admin", TenantID: "A", Role: domain.RoleAdministrator}
	employee   = authz.Principal{TokenID: "k-emp", UserID: "u-emp", TenantID: "A", Role: domain.RoleEmployee}
	external   = authz.Principal{TokenID: "k-ext", UserID: "u-ext", TenantID: "A", Role: domain.RoleExternal}
	blocked    = authz.Principal{TokenID: "k-blk", UserID: "u-blocked", TenantID: "A", Role: domain.RoleEmployee, Blocked: true}
	other      = authz.Principal{TokenID: "k-oth", UserID: "u-other", TenantID: "B", Role: domain.RoleAdministrator}
	anonymous  = authz.Principal{}

	principals = []struct {
		name string
		p    authz.Principal
	}{
		{"system admin", sysAdmin}, {"auditor", auditor}, {"mail server", mailServer},
		{"owner", owner}, {"administrator", admin}, {"employee", employee}, {"external", external},
		{"blocked user", blocked}, {"user of another tenant", other}, {"no token", anonymous},
	}
)

// Targets in tenant A (or system-wide); self is the caller itself.
var (
	system    = at(authz.Target{})
	tenantA   = at(authz.Target{TenantID: "A"})
	peer      = at(authz.Target{TenantID: "A", UserID: "u-peer", SubjectRole: domain.RoleEmployee})
	peerAdmin = at(authz.Target{TenantID: "A", UserID: "u-admin2", SubjectRole: domain.RoleAdministrator})
	promotion = at(authz.Target{TenantID: "A", UserID: "u-peer", SubjectRole: domain.RoleEmployee, NewRole: domain.RoleAdministrator})
	newEmp    = at(authz.Target{TenantID: "A", NewRole: domain.RoleEmployee})
	newAdmin  = at(authz.Target{TenantID: "A", NewRole: domain.RoleAdministrator})
	member    = at(authz.Target{TenantID: "A", Member: true})
	globalA   = at(authz.Target{TenantID: "A", GlobalMailbox: true})
	self      = authz.Principal.Self
)

func at(t authz.Target) func(authz.Principal) authz.Target {
	return func(authz.Principal) authz.Target { return t }
}

// TestR19_Permissions is R19 (with R12, R20 and R21) for every operation and
// every kind of caller. Columns, as in principals: sa system admin, au
// auditor, ms mail server, ow owner, ad administrator, em employee, ex
// external, bl blocked user, ot user of another tenant, no no token.
// Outcomes: ok allowed, F FORBIDDEN, N NOT_FOUND, U UNAUTHENTICATED.
func TestR19_Permissions(t *testing.T) {
	tests := []struct {
		want   string
		op     authz.Op
		target func(authz.Principal) authz.Target
		name   string
	}{
		//sa au ms ow ad em ex bl ot no
		{"ok ok F  ok ok ok ok U  ok U", authz.OpViewer, self, "self"},
		{"ok ok ok ok ok ok ok U  ok U", authz.OpPrincipal, self, "self"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpSystemMailServer, system, "system"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpTenants, self, "own tenant"},
		{"ok ok F  ok ok ok ok U  N  U", authz.OpTenant, tenantA, "tenant A"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpUser, peer, "employee of A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpUser, self, "self"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpGroup, tenantA, "group of A"},
		{"ok ok F  ok ok ok ok U  N  U", authz.OpGroup, member, "own group"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpMailbox, tenantA, "mailbox of A"},
		{"ok ok F  ok ok F  F  U  ok U", authz.OpMailbox, globalA, "R12 global mailbox of A"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpSenderOptions, peer, "employee of A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpSenderOptions, self, "self"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpReplyToOptions, peer, "employee of A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpReplyToOptions, self, "self"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpMailboxAccess, tenantA, "mailbox of A"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpMailboxAccess, globalA, "global mailbox"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpApiTokens, peer, "R21 employee of A"},
		{"ok ok F  ok F  F  F  U  N  U", authz.OpApiTokens, peerAdmin, "R21 admin of A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpApiTokens, self, "R21 self"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpMessage, peer, "message of A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpMessage, self, "own message"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpMessages, tenantA, "tenant A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpMessages, self, "own messages"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpAuditLog, tenantA, "tenant A"},
		{"ok ok F  F  F  F  F  U  F  U", authz.OpAuditLog, system, "system-wide"},
		{"ok ok ok ok ok F  F  U  N  U", authz.OpRouteInbound, tenantA, "domain of A"},
		{"ok ok ok F  F  F  F  U  F  U", authz.OpRouteInbound, system, "unhosted domain"},
		{"ok ok F  F  F  F  F  U  F  U", authz.OpParkedEvents, system, "R35 system-wide"},

		{"ok F  F  F  F  F  F  U  F  U", authz.OpConfigureSystemServer, system, "system"},
		{"ok F  F  F  F  F  F  U  F  U", authz.OpSetSystemServerEnabled, system, "system"},
		{"ok F  F  F  F  F  F  U  F  U", authz.OpConfigureSupport, system, "system"},
		{"ok F  F  F  F  F  F  U  F  U", authz.OpCreateTenant, system, "system"},
		{"ok F  F  F  F  F  F  U  N  U", authz.OpSetTenantPolicy, tenantA, "tenant A"},
		{"ok F  F  F  F  F  F  U  N  U", authz.OpSetBulkLimitLifted, tenantA, "tenant A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpConfigureTenantServer, tenantA, "tenant A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRemoveTenantServer, tenantA, "tenant A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpSetTenantSupportAddress, tenantA, "tenant A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpCreateUser, newEmp, "R21 employee"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpCreateUser, newAdmin, "R21 administrator"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpUpdateUser, peer, "R21 employee of A"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpUpdateUser, peerAdmin, "R21 admin of A"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpUpdateUser, promotion, "R21 promotion"},
		{"ok F  F  ok ok F  F  U  ok U", authz.OpUpdateUser, self, "self"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpDeleteUser, peer, "R21 employee of A"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpDeleteUser, peerAdmin, "R21 admin of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpSetUserBlocked, peer, "R21 employee of A"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpSetUserBlocked, peerAdmin, "R21 admin of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpIssueApiToken, peer, "R21 employee of A"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpIssueApiToken, peerAdmin, "R21 admin of A"},
		{"ok F  F  ok ok ok ok U  ok U", authz.OpIssueApiToken, self, "R21 self"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRevokeApiToken, peer, "R21 employee of A"},
		{"ok F  F  ok F  F  F  U  N  U", authz.OpRevokeApiToken, peerAdmin, "R21 admin of A"},
		{"ok F  F  ok ok ok ok U  ok U", authz.OpRevokeApiToken, self, "R21 self"},
		{"ok F  F  N  N  N  N  U  N  U", authz.OpRevokeApiToken, system, "system token"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpCreateGroup, tenantA, "tenant A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpDeleteGroup, tenantA, "group of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpAddGroupMember, tenantA, "group of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRemoveGroupMember, tenantA, "group of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpAddMailbox, tenantA, "tenant A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpUpdateMailbox, tenantA, "mailbox of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpUpdateMailbox, globalA, "global mailbox"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRemoveMailbox, tenantA, "mailbox of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpGrantUser, tenantA, "mailbox of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRevokeUser, tenantA, "mailbox of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpGrantGroup, tenantA, "mailbox of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRevokeGroup, tenantA, "mailbox of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpSetMailboxRestricted, tenantA, "R11 mailbox of A"},
		{"F  F  F  ok ok ok ok U  ok U", authz.OpSendMessage, self, "as self"},
		{"F  F  F  F  F  F  F  U  N  U", authz.OpSendMessage, peer, "as another user"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpSendTestMail, tenantA, "R6 tenant A"},
		{"ok F  F  F  F  F  F  U  F  U", authz.OpSendTestMail, system, "R6 system server"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpCheckMailServer, tenantA, "tenant A's server or mailbox"},
		{"ok F  F  F  F  F  F  U  F  U", authz.OpCheckMailServer, system, "system server"},
		{"F  F  F  ok ok ok ok U  ok U", authz.OpSubmitSupportRequest, self, "R7 as self"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpPurgeMessageContent, peer, "R25 message of A"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpCancelMessage, peer, "R23 message of A"},
		{"ok F  F  ok ok ok ok U  ok U", authz.OpCancelMessage, self, "R23 own message"},
		{"ok F  F  ok ok F  F  U  N  U", authz.OpRetryMessageNow, peer, "R23 message of A"},
		{"ok F  F  ok ok ok ok U  ok U", authz.OpRetryMessageNow, self, "R23 own message"},
		{"ok F  ok F  F  F  F  U  N  U", authz.OpInboundReceived, tenantA, "domain of A"},
		{"ok F  ok F  F  F  F  U  F  U", authz.OpInboundReceived, system, "unhosted domain"},

		{"ok ok F  ok ok F  F  U  N  U", authz.OpEvents, tenantA, "tenant A"},
		{"ok ok F  F  F  F  F  U  F  U", authz.OpEvents, system, "every tenant"},
		{"ok ok F  ok ok F  F  U  N  U", authz.OpMessageStatus, peer, "message of A"},
		{"ok ok F  ok ok ok ok U  ok U", authz.OpMessageStatus, self, "own message"},
	}
	covered := map[authz.Op]bool{}
	for _, tt := range tests {
		covered[tt.op] = true
		want := strings.Fields(tt.want)
		if len(want) != len(principals) {
			t.Fatalf("%s %s: %d outcomes, want %d", tt.op, tt.name, len(want), len(principals))
		}
		for i, pr := range principals {
			t.Run(string(tt.op)+"/"+tt.name+"/"+pr.name, func(t *testing.T) {
				err := authz.Check(pr.p, tt.op, tt.target(pr.p))
				if got := outcome(t, err); got != want[i] {
					t.Fatalf("got %s (%v), want %s", got, err, want[i])
				}
			})
		}
	}
	for op := range authz.Rules() {
		if !covered[op] {
			t.Errorf("operation %s has no row in the permission test", op)
		}
	}
}

// outcome names err as the table does; an error that is not a *domain.Error
// fails the test.
func outcome(t *testing.T, err error) string {
	t.Helper()
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, domain.ErrUnauthenticated):
		return "U"
	case errors.Is(err, domain.ErrNotFound):
		return "N"
	case errors.Is(err, domain.ErrForbidden):
		return "F"
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %T %v, want a *domain.Error", err, err)
	}
	return string(de.Code)
}

// contract is every operation field of SPEC §4's first GraphQL block, plus
// routeInbound, inboundReceived and setBulkLimitLifted.
var contract = []string{
	"viewer", "principal", "systemMailServer", "tenants", "tenant", "user", "group", "mailbox", "senderOptions",
	"replyToOptions", "mailboxAccess", "apiTokens", "message", "messages", "auditLog", "parkedEvents",
	"configureSystemServer", "setSystemServerEnabled", "configureSupport", "createTenant",
	"setTenantPolicy", "configureTenantServer", "removeTenantServer", "setTenantSupportAddress",
	"createUser", "updateUser", "deleteUser", "setUserBlocked", "issueApiToken", "revokeApiToken",
	"createGroup", "deleteGroup", "addGroupMember", "removeGroupMember", "addMailbox",
	"updateMailbox", "removeMailbox", "grantUser", "revokeUser", "grantGroup", "revokeGroup", "setMailboxRestricted",
	"sendMessage", "sendTestMail", "submitSupportRequest", "purgeMessageContent", "checkMailServer", "cancelMessage", "retryMessageNow",
	"events", "messageStatus",
	"routeInbound", "inboundReceived", "setBulkLimitLifted",
}

func TestRulesCoverTheContract(t *testing.T) {
	rules := authz.Rules()
	for _, f := range contract {
		if _, ok := rules[authz.Op(f)]; !ok {
			t.Errorf("field %s has no rule", f)
		}
	}
	if len(rules) != len(contract) {
		t.Errorf("got %d rules, want %d (one per contract field)", len(rules), len(contract))
	}
}

// TestEveryOpConstantHasARule parses the package so that an Op constant
// added without a row in the table fails.
func TestEveryOpConstantHasARule(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	rules := authz.Rules()
	n := 0
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Op" {
					continue
				}
				for i, name := range vs.Names {
					v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
					if err != nil {
						t.Fatal(err)
					}
					n++
					if _, ok := rules[authz.Op(v)]; !ok {
						t.Errorf("constant %s (%q) has no rule", name.Name, v)
					}
					if want := "Op" + strings.ToUpper(v[:1]) + v[1:]; name.Name != want {
						t.Errorf("got constant %s for %q, want %s", name.Name, v, want)
					}
				}
			}
		}
	}
	if n != len(rules) {
		t.Errorf("got %d Op constants, want %d (one per rule)", n, len(rules))
	}
}

func TestR19_AuditorsChangeNothingAndMailServerOnlyRoutes(t *testing.T) {
	for op, r := range authz.Rules() {
		if r.Kind == authz.Mutation && r.Scope(domain.RoleAuditor) != authz.Denied {
			t.Errorf("auditor may run mutation %s (scope %s), want denied", op, r.Scope(domain.RoleAuditor))
		}
		if r.Kind != authz.Mutation && r.Scope(domain.RoleAuditor) != authz.All {
			t.Errorf("auditor reaches %s with scope %s, want all", op, r.Scope(domain.RoleAuditor))
		}
		// The mail server reads who its token is (principal), as every caller may.
		mail := op == authz.OpRouteInbound || op == authz.OpInboundReceived || op == authz.OpPrincipal
		if got := r.Scope(domain.RoleMailServer); mail != (got == authz.All) || !mail && got != authz.Denied {
			t.Errorf("mail server reaches %s with scope %s", op, got)
		}
		sending := op == authz.OpSendMessage || op == authz.OpSubmitSupportRequest
		if got := r.Scope(domain.RoleSystemAdmin); sending != (got == authz.Denied) || !sending && got != authz.All {
			t.Errorf("system admin reaches %s with scope %s", op, got)
		}
	}
}

func TestR19_ErrorPrecedence(t *testing.T) {
	blockedOther := authz.Principal{UserID: "u-b", TenantID: "B", Role: domain.RoleEmployee, Blocked: true}
	employeeOther := authz.Principal{UserID: "u-e", TenantID: "B", Role: domain.RoleEmployee}
	tests := []struct {
		name   string
		p      authz.Principal
		op     authz.Op
		target authz.Target
		want   error
	}{
		{"R20 blocked user of another tenant: UNAUTHENTICATED before NOT_FOUND", blockedOther, authz.OpCreateUser, authz.Target{TenantID: "A", NewRole: domain.RoleEmployee}, domain.ErrUnauthenticated},
		{"employee of another tenant, admin-only op: NOT_FOUND before FORBIDDEN", employeeOther, authz.OpCreateUser, authz.Target{TenantID: "A", NewRole: domain.RoleEmployee}, domain.ErrNotFound},
		{"employee of another tenant, system-only op on A: NOT_FOUND", employeeOther, authz.OpSetTenantPolicy, authz.Target{TenantID: "A"}, domain.ErrNotFound},
		{"no token, unknown op: UNAUTHENTICATED", anonymous, authz.Op("nope"), authz.Target{}, domain.ErrUnauthenticated},
		{"unknown op: FORBIDDEN", sysAdmin, authz.Op("nope"), authz.Target{}, domain.ErrForbidden},
		{"tenant role without tenant: UNAUTHENTICATED", authz.Principal{UserID: "u", Role: domain.RoleAdministrator}, authz.OpTenant, authz.Target{}, domain.ErrUnauthenticated},
		{"system role with tenant: UNAUTHENTICATED", authz.Principal{TenantID: "A", Role: domain.RoleSystemAdmin}, authz.OpTenant, authz.Target{TenantID: "A"}, domain.ErrUnauthenticated},
		{"own-scope op without a user: FORBIDDEN", employee, authz.OpUser, authz.Target{TenantID: "A"}, domain.ErrForbidden},
		{"R21 unknown subject role counts as an administrator's", admin, authz.OpIssueApiToken, authz.Target{TenantID: "A", UserID: "u-x"}, domain.ErrForbidden},
		{"R21 unknown subject role: the owner still reaches it", owner, authz.OpIssueApiToken, authz.Target{TenantID: "A", UserID: "u-x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authz.Check(tt.p, tt.op, tt.target)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestR12_CanSeeDetails(t *testing.T) {
	tests := []struct {
		p        authz.Principal
		tenantID string
		want     bool
	}{
		{sysAdmin, "A", true}, {auditor, "A", true}, {mailServer, "A", false},
		{owner, "A", true}, {admin, "A", true}, {employee, "A", false}, {external, "A", false},
		{blocked, "A", false}, {other, "A", false}, {anonymous, "A", false},
		{sysAdmin, "", true}, {auditor, "", true}, {admin, "", false},
	}
	for _, tt := range tests {
		if got := authz.CanSeeDetails(tt.p, tt.tenantID); got != tt.want {
			t.Errorf("CanSeeDetails(%s of %q, %q) = %v, want %v", tt.p.Role, tt.p.TenantID, tt.tenantID, got, tt.want)
		}
	}
}

func TestScopeOf(t *testing.T) {
	tests := []struct {
		p    authz.Principal
		op   authz.Op
		want authz.Scope
	}{
		{employee, authz.OpMessages, authz.Own},
		{admin, authz.OpMessages, authz.Tenant},
		{auditor, authz.OpEvents, authz.All},
		{employee, authz.OpTenants, authz.Tenant},
		{blocked, authz.OpViewer, authz.Denied},
		{anonymous, authz.OpTenants, authz.Denied},
		{sysAdmin, authz.Op("nope"), authz.Denied},
	}
	for _, tt := range tests {
		if got := authz.ScopeOf(tt.p, tt.op); got != tt.want {
			t.Errorf("ScopeOf(%s, %s) = %s, want %s", tt.p.Role, tt.op, got, tt.want)
		}
	}
}

func TestRulesIsACopy(t *testing.T) {
	authz.Rules()[authz.OpCreateTenant] = authz.Rule{}
	if err := authz.Check(sysAdmin, authz.OpCreateTenant, authz.Target{}); err != nil {
		t.Fatalf("got %v after changing the copy, want nil", err)
	}
}

package e2e_test

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// R19: a subscriber demoted from administrator to employee loses the
// tenant's event stream at the next change, as a blocked one does (R20).
func TestR19_DemotedSubscriberIsClosed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a := e.createTenant(t, e.uniq("Demote"))
		adminID := e.createUser(t, e.Admin, a, e.uniq("adm"), "Admin", "adm@demote.example", "ADMINISTRATOR")
		c := e.mustDialWS(t, e.token(t, adminID))
		c.subscribe(t, "s", map[string]any{"t": a})
		e.must(t, e.Admin, `mutation($u: ID!) { updateUser(userId: $u, role: EMPLOYEE) { id } }`, map[string]any{"u": adminID}, nil)
		ctx, cancel := context.WithTimeout(t.Context(), wsTimeout)
		defer cancel()
		for {
			m, err := c.read(ctx)
			if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("the demoted administrator's subscription is still open after %s", wsTimeout)
			}
			if err != nil || m.Type == "complete" || m.Type == "error" {
				return // closed
			}
		}
	})
}

// R12: who may use a global mailbox includes granted users of other
// tenants — for the system administrator; its own tenant's administrator
// sees only its own users.
func TestR12_MailboxAccessAcrossTenants(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		a, b := e.createTenant(t, e.uniq("Owner")), e.createTenant(t, e.uniq("Other"))
		mine := e.createUser(t, e.Admin, a, e.uniq("mine"), "Mine", "mine@a.example", "EMPLOYEE")
		owner := e.createUser(t, e.Admin, a, e.uniq("own"), "Owner", "own@a.example", "LEGAL_REPRESENTATIVE")
		theirs := e.createUser(t, e.Admin, b, e.uniq("theirs"), "Theirs", "theirs@b.example", "EMPLOYEE")
		box := e.addMailbox(t, e.Admin, a, "shared@a.example", "Shared", true, true, map[string]any{"g": true})
		for _, u := range []string{mine, theirs} {
			e.must(t, e.Admin, `mutation($m: ID!, $u: ID!) { grantUser(mailboxId: $m, userId: $u) { id } }`, map[string]any{"m": box, "u": u}, nil)
		}
		access := func(tok string) []string {
			var r struct{ MailboxAccess conn[struct{ ID string }] }
			e.must(t, tok, `query($m: ID!) { mailboxAccess(mailboxId: $m) { edges { node { id } } } }`, map[string]any{"m": box}, &r)
			var out []string
			for _, u := range r.MailboxAccess {
				out = append(out, u.ID)
			}
			return out
		}
		if got := access(e.Admin); !sameSet(got, []string{mine, theirs}) {
			t.Errorf("system administrator: got %v, want %v", got, []string{mine, theirs})
		}
		if got := access(e.token(t, owner)); !sameSet(got, []string{mine}) {
			t.Errorf("owner of the mailbox's tenant: got %v, want only its own user %s", got, mine)
		}
	})
}

// R4 in the audit log: switching auth from PASSWORD to NONE drops the
// username and the password, and the entry says so (the password shown as
// changed, never as a value).
func TestAuditRecordsDroppedSettings(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		set := func(in map[string]any) {
			e.must(t, e.Admin, `mutation($in: ServerSettingsInput!) { configureSystemServer(input: $in) { configured } }`, map[string]any{"in": in}, nil)
		}
		set(map[string]any{"host": "smtp.example.com", "encryption": "STARTTLS", "auth": "PASSWORD", "username": "u", "password": "hunter2-dropped", "senderAddress": "noreply@example.com"})
		set(map[string]any{"host": "smtp.example.com", "encryption": "STARTTLS", "auth": "NONE", "senderAddress": "noreply@example.com"})
		var r struct {
			AuditLog struct {
				Edges []struct {
					Node struct {
						Action  string
						Changes []struct {
							Field    string
							From, To *string
						}
					}
				}
			}
		}
		e.must(t, e.Auditor, `query { auditLog(streamId: "system", first: 500) { edges { node { action changes { field from to } } } } }`, nil, &r)
		var last []string
		for _, edge := range r.AuditLog.Edges {
			if edge.Node.Action != "SystemServerConfigured" {
				continue
			}
			last = last[:0]
			for _, c := range edge.Node.Changes {
				if c.To == nil {
					last = append(last, c.Field)
				}
				if c.From != nil && strings.Contains(*c.From, "hunter2") || c.To != nil && strings.Contains(*c.To, "hunter2") {
					t.Fatal("the audit log shows the password")
				}
			}
		}
		for _, f := range []string{"settings.password", "settings.username"} {
			found := false
			for _, g := range last {
				found = found || g == f
			}
			if !found {
				t.Errorf("switching to auth NONE: %s not recorded as removed (removed: %v)", f, last)
			}
		}
	})
}

// R21: apiTokens shows when a token was last used.
func TestR21_TokenLastUsedAt(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a := e.createTenant(t, e.uniq("Tok"))
		u := e.createUser(t, e.Admin, a, e.uniq("tok"), "Tok", "tok@tok.example", "EMPLOYEE")
		tok := e.token(t, u)
		var r struct {
			APITokens []struct {
				LastUsedAt *string `json:"lastUsedAt"`
			} `json:"apiTokens"`
		}
		e.must(t, tok, `query { apiTokens { lastUsedAt } }`, nil, &r)
		if len(r.APITokens) != 1 || r.APITokens[0].LastUsedAt == nil {
			t.Fatalf("apiTokens after using the token: %+v, want one with lastUsedAt", r.APITokens)
		}
	})
}

package e2e_test

import (
	"math/big"
	"strings"
	"testing"
)

type auditEntry struct {
	Position, At, Actor, Action, StreamID string
	TenantID                              *string `json:"tenantId"`
	Changes                               []struct {
		Field    string
		From, To *string
	}
}

type auditPage struct {
	Entries     []auditEntry
	Cursors     []string
	HasNextPage bool
	EndCursor   *string
	Raw         string
}

const auditQ = `query($t:ID,$s:String,$f:Int,$a:String){ auditLog(tenantId:$t, streamId:$s, first:$f, after:$a){
	edges{ cursor node{ position at actor tenantId action streamId changes{ field from to } } }
	pageInfo{ hasNextPage endCursor } } }`

// audit reads one page; tenantID, streamID and after may be "", first 0 for the default.
func (e *env) audit(t *testing.T, tok, tenantID, streamID string, first int, after string) auditPage {
	t.Helper()
	vars := map[string]any{}
	if tenantID != "" {
		vars["t"] = tenantID
	}
	if streamID != "" {
		vars["s"] = streamID
	}
	if first != 0 {
		vars["f"] = first
	}
	if after != "" {
		vars["a"] = after
	}
	r := e.do(t, tok, auditQ, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("auditLog(%v): %s", vars, raw(r))
	}
	var v struct {
		AuditLog struct {
			Edges []struct {
				Cursor string
				Node   auditEntry
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	r.Decode(t, &v)
	p := auditPage{HasNextPage: v.AuditLog.PageInfo.HasNextPage, EndCursor: v.AuditLog.PageInfo.EndCursor, Raw: raw(r)}
	for _, e := range v.AuditLog.Edges {
		p.Entries = append(p.Entries, e.Node)
		p.Cursors = append(p.Cursors, e.Cursor)
	}
	return p
}

func position(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("position %q: want a decimal string", s)
	}
	return n
}

func wantAscending(t *testing.T, entries []auditEntry) {
	t.Helper()
	for i := 1; i < len(entries); i++ {
		if position(t, entries[i-1].Position).Cmp(position(t, entries[i].Position)) >= 0 {
			t.Fatalf("audit log order: position %s before %s, want oldest first", entries[i-1].Position, entries[i].Position)
		}
	}
}

func positions(entries []auditEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Position)
	}
	return out
}

// TestAuditLog checks §3/§4: every event with its changes, oldest first,
// filters, Relay pagination (default 50, at most 500) and hidden secrets.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		a := e.createTenant(t, "Audit A GmbH")
		b := e.createTenant(t, "Audit B GmbH")
		for i := 0; i < 55; i++ {
			e.must(t, e.Admin, `mutation($t:ID!,$n:String!){ createGroup(tenantId:$t, name:$n){ id } }`,
				map[string]any{"t": a, "n": e.uniq("group ")}, nil)
		}
		e.user(t, b, "Bert B", "bert@b.example", "EMPLOYEE")

		t.Run("§4 default 50, at most 500, 501 is INVALID_INPUT", func(t *testing.T) {
			p := e.audit(t, e.Admin, a, "", 0, "")
			if len(p.Entries) != 50 || !p.HasNextPage {
				t.Fatalf("default page: got %d entries hasNextPage=%v, want 50 and true", len(p.Entries), p.HasNextPage)
			}
			all := e.audit(t, e.Admin, a, "", 500, "")
			if len(all.Entries) < 56 || all.HasNextPage {
				t.Fatalf("first:500: got %d entries hasNextPage=%v, want ≥ 56 and false", len(all.Entries), all.HasNextPage)
			}
			wantInvalid(t, e.do(t, e.Admin, auditQ, map[string]any{"f": 501}), "first")
		})

		t.Run("§3 oldest first, cursor pagination covers every entry once", func(t *testing.T) {
			all := e.audit(t, e.Admin, a, "", 500, "")
			wantAscending(t, all.Entries)
			var got []auditEntry
			after := ""
			for range 100 {
				p := e.audit(t, e.Admin, a, "", 7, after)
				got = append(got, p.Entries...)
				if !p.HasNextPage {
					break
				}
				if p.EndCursor == nil || *p.EndCursor != p.Cursors[len(p.Cursors)-1] {
					t.Fatalf("endCursor: got %v, want the last edge's cursor %s", p.EndCursor, p.Cursors[len(p.Cursors)-1])
				}
				after = *p.EndCursor
			}
			if g, w := strings.Join(positions(got), ","), strings.Join(positions(all.Entries), ","); g != w {
				t.Fatalf("pages of 7:\ngot  %s\nwant %s", g, w)
			}
		})

		t.Run("§3 filter by tenant", func(t *testing.T) {
			for tenant, other := range map[string]string{a: b, b: a} {
				p := e.audit(t, e.Auditor, tenant, "", 500, "")
				if len(p.Entries) == 0 {
					t.Fatalf("tenant %s: got no entries", tenant)
				}
				for _, x := range p.Entries {
					if x.TenantID == nil || *x.TenantID != tenant {
						t.Fatalf("tenant %s filter: got entry of tenant %v (%+v), not %s", tenant, x.TenantID, x, other)
					}
				}
			}
		})

		t.Run("§3 one entry per event of a stream, with changed fields", func(t *testing.T) {
			mb := e.addMailbox(t, e.Admin, b, "audit@b.example", "Old Name", true, true, nil)
			stream := ""
			for _, x := range e.audit(t, e.Admin, b, "", 500, "").Entries {
				if strings.Contains(x.StreamID, mb) {
					stream = x.StreamID
				}
			}
			if stream == "" {
				t.Fatalf("audit log of tenant %s: no entry with a stream id naming mailbox %s", b, mb)
			}
			e.must(t, e.Admin, `mutation($id:ID!){ updateMailbox(id:$id, displayName:"New Name"){ id } }`, map[string]any{"id": mb}, nil)
			e.must(t, e.Admin, `mutation($id:ID!){ updateMailbox(id:$id, sender:false){ id } }`, map[string]any{"id": mb}, nil)
			p := e.audit(t, e.Admin, "", stream, 0, "")
			if len(p.Entries) != 3 {
				t.Fatalf("auditLog(streamId:%s): got %d entries %s, want 3 (added, renamed, sender cleared)", stream, len(p.Entries), p.Raw)
			}
			wantAscending(t, p.Entries)
			found := false
			for _, c := range p.Entries[1].Changes {
				if c.Field == "displayName" && c.From != nil && *c.From == "Old Name" && c.To != nil && *c.To == "New Name" {
					found = true
				}
			}
			if !found {
				t.Errorf("rename entry changes: got %+v, want displayName Old Name → New Name", p.Entries[1].Changes)
			}
			for _, x := range p.Entries {
				if x.StreamID != stream || x.Actor == "" || x.Action == "" || x.At == "" {
					t.Errorf("entry %+v: want streamId %s, an actor, an action and a time", x, stream)
				}
			}
		})

		t.Run("§3 R4 secrets show as changed, never their value", func(t *testing.T) {
			const pw1, pw2 = "Audit-Secret-1x", "Audit-Secret-2y"
			e.must(t, e.Admin, configureTenantServerQ, map[string]any{"t": b, "i": with(ownServer(), "password", pw1)}, nil)
			e.must(t, e.Admin, configureTenantServerQ, map[string]any{"t": b, "i": with(ownServer(), "password", pw2)}, nil)
			p := e.audit(t, e.Auditor, b, "", 500, "")
			last := p.Entries[len(p.Entries)-1]
			changed := false
			for _, c := range last.Changes {
				if strings.Contains(strings.ToLower(c.Field), "password") {
					changed = true
				}
			}
			if !changed {
				t.Errorf("password change entry: got changes %+v, want a password field", last.Changes)
			}
			for _, s := range []string{pw1, pw2} {
				wantNoSecret(t, "audit log (auditor)", p.Raw, s)
				wantNoSecret(t, "audit log (admin)", e.audit(t, e.Admin, "", "", 500, "").Raw, s)
			}
		})

		t.Run("R19 tenant users never see another tenant's audit log", func(t *testing.T) {
			bAdmin := e.token(t, e.user(t, b, "Berta Admin", "berta@b.example", "ADMINISTRATOR"))
			wantCode(t, e.do(t, bAdmin, auditQ, map[string]any{"t": a}), "NOT_FOUND")
			wantCode(t, e.do(t, "", auditQ, nil), "UNAUTHENTICATED")
		})
	})
}

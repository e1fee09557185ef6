package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/absender/absender/transport/smtptest"
)

// TestR17_R22_SendMessageChecks sends refused messages and checks the
// order of R17's checks: R1/R2, From, Reply-To, then R22 field by field in
// schema order; and that a refused message leaves nothing behind.
func TestR17_R22_SendMessageChecks(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		srv := e.smtpSystemServer(t, smtptest.Config{}, false)
		tn := e.createTenant(t, "Checks GmbH")
		e.addMailbox(t, e.Admin, tn, "info@checks.example", "Checks Info", true, true, nil)
		emp := e.token(t, e.user(t, tn, "Erika Employee", "erika@checks.example", "EMPLOYEE"))
		admin := e.token(t, e.user(t, tn, "Anton Admin", "anton@checks.example", "ADMINISTRATOR"))
		before := e.messageIDs(t, admin, tn)

		exe := attachment("x.exe", "application/octet-stream", []byte("MZ\x90\x00"))
		nested := attachment("outer.zip", "application/zip", zipOf(t, "inner.zip", zipOf(t, "a.js", []byte("alert(1)"))))

		t.Run("R1 R17 SENDING_DISABLED comes before FROM_NOT_ALLOWED", func(t *testing.T) {
			wantCode(t, e.send(t, emp, msgDraft("from", "mallory@evil.example")), "SENDING_DISABLED")
			wantCode(t, e.send(t, emp, msgDraft()), "SENDING_DISABLED")
		})

		e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)

		for _, c := range []struct {
			name  string
			in    map[string]any
			code  string
			field string
		}{
			{"R17 FROM_NOT_ALLOWED: no sender option", msgDraft("from", "mallory@evil.example"), "FROM_NOT_ALLOWED", ""},
			{"R17 FROM_NOT_ALLOWED: a display name no option has", msgDraft("from", "Someone Else <"+sysAddr+">"), "FROM_NOT_ALLOWED", ""},
			{"R17 FROM_NOT_ALLOWED before REPLY_TO_NOT_ALLOWED", msgDraft("from", "mallory@evil.example", "replyTo", "mallory@evil.example"), "FROM_NOT_ALLOWED", ""},
			{"R17 FROM_NOT_ALLOWED before INVALID_INPUT", msgDraft("from", "mallory@evil.example", "subject", "Hi\r\nBcc: x@evil.example"), "FROM_NOT_ALLOWED", ""},
			{"R17 REPLY_TO_NOT_ALLOWED", msgDraft("replyTo", "mallory@evil.example"), "REPLY_TO_NOT_ALLOWED", ""},
			{"R17 REPLY_TO_NOT_ALLOWED before ATTACHMENT_FORBIDDEN", msgDraft("replyTo", "mallory@evil.example", "attachments", []any{exe}), "REPLY_TO_NOT_ALLOWED", ""},
			{"R22 INVALID_INPUT to: not an address", msgDraft("to", []string{"not an address"}), "INVALID_INPUT", "to"},
			{"R22 INVALID_INPUT to: no recipient at all", msgDraft("to", []string{}), "INVALID_INPUT", "to"},
			{"R22 INVALID_INPUT to: more than 100 recipients", msgDraft("to", manyRecipients(101)), "INVALID_INPUT", "to"},
			{"R22 INVALID_INPUT cc", msgDraft("cc", []string{"bad@@dest.example"}), "INVALID_INPUT", "cc"},
			{"R22 INVALID_INPUT bcc", msgDraft("bcc", []string{"nobody"}), "INVALID_INPUT", "bcc"},
			{"R22 INVALID_INPUT subject with CR LF: header injection refused, not stripped", msgDraft("subject", "Hi\r\nBcc: x@evil.example"), "INVALID_INPUT", "subject"},
			{"R22 INVALID_INPUT subject with LF", msgDraft("subject", "Hi\nthere"), "INVALID_INPUT", "subject"},
			{"R22 INVALID_INPUT to before ATTACHMENT_FORBIDDEN (schema order)", msgDraft("to", []string{"not an address"}, "attachments", []any{exe}), "INVALID_INPUT", "to"},
			{"R22 INVALID_INPUT subject before ATTACHMENT_FORBIDDEN (schema order)", msgDraft("subject", "a\r\nb", "attachments", []any{exe}), "INVALID_INPUT", "subject"},
			{"R22 ATTACHMENT_FORBIDDEN x.exe", msgDraft("attachments", []any{exe}), "ATTACHMENT_FORBIDDEN", ""},
			{"R22 ATTACHMENT_FORBIDDEN X.EXE in upper case", msgDraft("attachments", []any{attachment("X.EXE", "application/octet-stream", []byte("MZ"))}), "ATTACHMENT_FORBIDDEN", ""},
			{"R22 ATTACHMENT_FORBIDDEN a.js in a .zip in a .zip", msgDraft("attachments", []any{nested}), "ATTACHMENT_FORBIDDEN", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.send(t, emp, c.in)
				if c.code == "INVALID_INPUT" {
					wantInvalid(t, r, c.field)
				} else {
					wantCode(t, r, c.code)
				}
				if string(r.Data) != "null" && len(r.Data) > 0 {
					t.Errorf("refused sendMessage answered data %s, want null", r.Data)
				}
			})
		}

		t.Run("R17 R22 a refused message leaves nothing behind", func(t *testing.T) {
			wantSame(t, "messages after the refused ones", e.messageIDs(t, admin, tn), before)
			if n := len(srv.Deliveries()); n != 0 {
				t.Errorf("SMTP deliveries: got %d, want none", n)
			}
		})

		t.Run("R22 a harmless file in a .zip is accepted", func(t *testing.T) {
			m := e.mustSend(t, emp, msgDraft("subject", "Harmless zip",
				"attachments", []any{attachment("docs.zip", "application/zip", zipOf(t, "readme.txt", []byte("read me")))}))
			if m.Status != "QUEUED" {
				t.Errorf("status: got %s, want QUEUED", m.Status)
			}
			e.waitFinal(t, emp, m.ID, "SENT")
			oneDelivery(t, srv, "Harmless zip")
		})
	})
}

func manyRecipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%d@dest.example", i)
	}
	return out
}

// TestR22_R23_SendMessageDelivered sends a message through a real SMTP
// server and checks what the server received: the envelope sender is the
// From address, Bcc recipients are in the envelope but not in the headers,
// Reply-To is set (R22); and R23's idempotency key.
func TestR22_R23_SendMessageDelivered(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		srv := e.smtpSystemServer(t, smtptest.Config{}, true)
		tn := e.createTenant(t, "Deliver AG")
		e.addMailbox(t, e.Admin, tn, "info@deliver.example", "Deliver Info", true, true, nil)
		emp := e.token(t, e.user(t, tn, "Dora Deliver", "dora@deliver.example", "EMPLOYEE"))
		peer := e.token(t, e.user(t, tn, "Paul Peer", "paul@deliver.example", "EMPLOYEE"))

		t.Run("R22 R23 queued, then SENT, with envelope, Bcc and Reply-To as R22 says", func(t *testing.T) {
			m := e.mustSend(t, emp, msgDraft("from", "Deliver Info <info@deliver.example>", "replyTo", "info@deliver.example",
				"to", []string{"to1@dest.example"}, "cc", []string{"cc1@dest.example"}, "bcc", []string{"hidden@dest.example"},
				"subject", "Quarterly report", "html", "<p>Hello there.</p>",
				"attachments", []any{attachment("report.txt", "text/plain", []byte("figures"))}))
			if m.Status != "QUEUED" || m.ID == "" {
				t.Fatalf("sendMessage: got %+v, want a QUEUED message", m)
			}
			if m.From != "Deliver Info <info@deliver.example>" || showNil(m.ReplyTo) != "info@deliver.example" ||
				!slices.Equal(m.To, []string{"to1@dest.example"}) || !slices.Equal(m.Cc, []string{"cc1@dest.example"}) || m.Subject != "Quarterly report" {
				t.Errorf("sendMessage: got from %q replyTo %q to %v cc %v subject %q", m.From, showNil(m.ReplyTo), m.To, m.Cc, m.Subject)
			}
			if got := e.mustMessage(t, emp, m.ID); got.ID != m.ID {
				t.Errorf("message(%s) right after sendMessage: got %s (read-your-writes)", m.ID, got.ID)
			}
			sent := e.waitFinal(t, emp, m.ID, "SENT")
			if sent.Attempts != 1 || sent.MessageID == nil || showNil(sent.Transport) != "SYSTEM_SERVER" || len(sent.RejectedRecipients) != 0 {
				t.Errorf("sent message: got attempts %d messageId %s transport %s rejected %v, want 1, set, SYSTEM_SERVER, none",
					sent.Attempts, showNil(sent.MessageID), showNil(sent.Transport), sent.RejectedRecipients)
			}

			d := oneDelivery(t, srv, "Quarterly report")
			if d.From != "info@deliver.example" {
				t.Errorf("envelope sender: got %q, want the From address info@deliver.example", d.From)
			}
			wantSame(t, "envelope recipients", d.Rcpts, []string{"to1@dest.example", "cc1@dest.example", "hidden@dest.example"})
			wantSame(t, "From header", headerAddresses(t, d.Header, "From"), []string{"info@deliver.example"})
			wantSame(t, "To header", headerAddresses(t, d.Header, "To"), []string{"to1@dest.example"})
			wantSame(t, "Cc header", headerAddresses(t, d.Header, "Cc"), []string{"cc1@dest.example"})
			wantSame(t, "Reply-To header", headerAddresses(t, d.Header, "Reply-To"), []string{"info@deliver.example"})
			if d.Header.Get("Bcc") != "" || strings.Contains(d.Head, "hidden@dest.example") {
				t.Errorf("R22: the Bcc recipient appears in the headers:\n%s", d.Head)
			}
			if id := strings.Trim(showNil(sent.MessageID), "<>"); !strings.Contains(d.Header.Get("Message-Id"), id) {
				t.Errorf("Message-ID header %q, want the message's messageId %q", d.Header.Get("Message-Id"), id)
			}
			if strings.Contains(raw(e.do(t, emp, messageQ, map[string]any{"id": m.ID})), "hidden@dest.example") {
				t.Errorf("R22: the message shows its Bcc recipient")
			}
		})

		t.Run("R23 reusing an idempotencyKey returns the same message and sends once", func(t *testing.T) {
			in := msgDraft("subject", "Idempotent", "idempotencyKey", "order-42")
			a := e.mustSend(t, emp, in)
			b := e.mustSend(t, emp, in)
			if b.ID != a.ID {
				t.Fatalf("ids: got %s, %s, want one id", a.ID, b.ID)
			}
			// R23 (issue 11): the key with other content is CONFLICT.
			wantCode(t, e.send(t, emp, with(in, "subject", "Idempotent, changed", "to", []string{"other@dest.example"})), "CONFLICT")
			// The key is scoped to the sending user.
			p := e.mustSend(t, peer, with(in, "subject", "Idempotent, peer"))
			if p.ID == a.ID {
				t.Errorf("another user's message with the same key: got the first user's id %s", a.ID)
			}
			e.waitFinal(t, emp, a.ID, "SENT")
			e.waitFinal(t, peer, p.ID, "SENT")
			if again := e.mustSend(t, emp, in); again.ID != a.ID || again.Status != "SENT" {
				t.Errorf("replay after sending: got %s %s, want %s SENT", again.ID, again.Status, a.ID)
			}
			if n := len(deliveriesWith(t, srv, "Idempotent")); n != 1 {
				t.Errorf("deliveries of the idempotent message: got %d, want 1", n)
			}
			if n := len(deliveriesWith(t, srv, "Idempotent, changed")); n != 0 {
				t.Errorf("deliveries of the replayed content: got %d, want 0", n)
			}
			own := e.messageIDs(t, emp, mustTenantOf(t, e, emp))
			if k := countOf(own, a.ID); k != 1 {
				t.Errorf("messages lists the idempotent message %d times, want once", k)
			}
		})
	})
}

// mustTenantOf is the tenant of tok's user.
func mustTenantOf(t *testing.T, e *env, tok string) string {
	t.Helper()
	var v struct{ Viewer struct{ TenantID string } }
	e.must(t, tok, `{ viewer{ tenantId } }`, nil, &v)
	return v.Viewer.TenantID
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// TestR6_SendTestMail sends test mails through the system server, a tenant
// server and an authenticated mailbox while R1–R3 would not use them.
func TestR6_SendTestMail(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		sys := e.smtpSystemServer(t, smtptest.Config{}, false) // R1: disabled
		tn := e.createTenant(t, "Test Mail GmbH")
		other := e.createTenant(t, "Other KG")
		tAdmin := e.token(t, e.user(t, tn, "Tina Admin", "tina@testmail.example", "ADMINISTRATOR"))
		emp := e.token(t, e.user(t, tn, "Emil Employee", "emil@testmail.example", "EMPLOYEE"))
		oAdmin := e.token(t, e.user(t, other, "Otto Other", "otto@other.example", "ADMINISTRATOR"))

		t.Run("R6 the system server, disabled, delivers a system administrator's test mail", func(t *testing.T) {
			var v struct{ SendTestMail messageView }
			r := e.testMail(t, e.Admin, "", "", "check@dest.example")
			if len(r.Errors) > 0 {
				t.Fatalf("sendTestMail: %s", raw(r))
			}
			r.Decode(t, &v)
			m := e.waitFinal(t, e.Admin, v.SendTestMail.ID, "SENT")
			if showNil(m.Transport) != "SYSTEM_SERVER" || m.Resolution == nil || m.Resolution.Transport != "SYSTEM_SERVER" {
				t.Errorf("test mail: got transport %s resolution %+v, want SYSTEM_SERVER", showNil(m.Transport), m.Resolution)
			}
			if m.Resolution != nil && m.Resolution.Rule == "" {
				t.Errorf("test mail resolution: got no rule")
			}
			ds := sys.Deliveries()
			if len(ds) != 1 || ds[0].From != sysAddr || !slices.Equal(ds[0].Rcpts, []string{"check@dest.example"}) {
				t.Fatalf("deliveries: got %+v, want one from %s to check@dest.example", ds, sysAddr)
			}
			// A test mail through the system server belongs to no tenant.
			r, got := e.message(t, tAdmin, m.ID)
			wantCode(t, r, "NOT_FOUND")
			if got != nil {
				t.Errorf("R19: a tenant administrator reads the system test mail: %s", raw(r))
			}
		})

		t.Run("R6 R19 only a system administrator tests the system server", func(t *testing.T) {
			wantCode(t, e.testMail(t, tAdmin, "", "", "check@dest.example"), "FORBIDDEN")
			wantCode(t, e.testMail(t, emp, "", "", "check@dest.example"), "FORBIDDEN")
			wantCode(t, e.testMail(t, e.Auditor, "", "", "check@dest.example"), "FORBIDDEN")
		})

		t.Run("R6 a tenant without a server: INVALID_INPUT tenantId", func(t *testing.T) {
			wantInvalid(t, e.testMail(t, tAdmin, tn, "", "check@dest.example"), "tenantId")
			wantInvalid(t, e.testMail(t, e.Admin, tn, "", "check@dest.example"), "tenantId")
		})

		t.Run("R6 R3 the tenant's own server, ignored by policy, delivers the tenant administrator's test mail", func(t *testing.T) {
			own := smtptest.Start(t, smtptest.Config{})
			e.must(t, tAdmin, configureTenantServerQ, map[string]any{"t": tn, "i": smtpSettings(own, "system@testmail.example", "Test Mail")}, nil)
			e.setPolicy(t, tn, map[string]any{"allowOwnServer": false})
			wantEffective(t, e, tn, "NONE")
			var v struct{ SendTestMail messageView }
			r := e.testMail(t, tAdmin, tn, "", "own@dest.example")
			if len(r.Errors) > 0 {
				t.Fatalf("sendTestMail(tenantId): %s", raw(r))
			}
			r.Decode(t, &v)
			m := e.waitFinal(t, tAdmin, v.SendTestMail.ID, "SENT")
			if showNil(m.Transport) != "TENANT_SERVER" {
				t.Errorf("transport: got %s, want TENANT_SERVER", showNil(m.Transport))
			}
			ds := own.Deliveries()
			if len(ds) != 1 || ds[0].From != "system@testmail.example" || !slices.Equal(ds[0].Rcpts, []string{"own@dest.example"}) {
				t.Errorf("deliveries of the tenant server: got %+v, want one from system@testmail.example to own@dest.example", ds)
			}
			if ids := e.messageIDs(t, tAdmin, tn); !slices.Contains(ids, m.ID) {
				t.Errorf("R6 the outcome is recorded like any message: messages(%s) %v lacks %s", tn, ids, m.ID)
			}
		})

		t.Run("R6 an authenticated mailbox delivers the tenant administrator's test mail", func(t *testing.T) {
			mbSrv := smtptest.Start(t, smtptest.Config{})
			mb := e.addMailbox(t, tAdmin, tn, "info@testmail.example", "Info", true, true,
				map[string]any{"set": smtpSettings(mbSrv, "info@testmail.example", "")})
			var v struct{ SendTestMail messageView }
			r := e.testMail(t, tAdmin, "", mb, "mailbox@dest.example")
			if len(r.Errors) > 0 {
				t.Fatalf("sendTestMail(mailboxId): %s", raw(r))
			}
			r.Decode(t, &v)
			m := e.waitFinal(t, tAdmin, v.SendTestMail.ID, "SENT")
			if showNil(m.Transport) != "MAILBOX" || m.Resolution == nil || showNil(m.Resolution.MailboxID) != mb {
				t.Errorf("got transport %s resolution %+v, want MAILBOX of %s", showNil(m.Transport), m.Resolution, mb)
			}
			ds := mbSrv.Deliveries()
			if len(ds) != 1 || ds[0].From != "info@testmail.example" {
				t.Errorf("deliveries of the mailbox server: got %+v, want one from info@testmail.example", ds)
			}

			t.Run("R19 another tenant's mailbox or tenant is NOT_FOUND", func(t *testing.T) {
				wantCode(t, e.testMail(t, oAdmin, "", mb, "x@dest.example"), "NOT_FOUND")
				wantCode(t, e.testMail(t, oAdmin, tn, "", "x@dest.example"), "NOT_FOUND")
				wantCode(t, e.testMail(t, oAdmin, other, mb, "x@dest.example"), "NOT_FOUND")
				wantCode(t, e.testMail(t, emp, "", mb, "x@dest.example"), "FORBIDDEN")
			})
		})

		t.Run("R6 an invalid recipient is INVALID_INPUT to", func(t *testing.T) {
			wantInvalid(t, e.testMail(t, e.Admin, "", "", "not an address"), "to")
		})
	})
}

// TestR19_MessageVisibility checks who sees which message (R19) and who
// sees a message's resolution (SPEC §4), and the connection's conventions.
func TestR19_MessageVisibility(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.smtpSystemServer(t, smtptest.Config{}, true)
		a := e.createTenant(t, "Visible A GmbH")
		b := e.createTenant(t, "Visible B GmbH")
		e1ID := e.user(t, a, "Eva One", "eva@a.example", "EMPLOYEE")
		e1 := e.token(t, e1ID)
		e2 := e.token(t, e.user(t, a, "Ede Two", "ede@a.example", "EXTERNAL"))
		aAdmin := e.token(t, e.user(t, a, "Ada Admin", "ada@a.example", "ADMINISTRATOR"))
		aOwner := e.token(t, e.user(t, a, "Olaf Owner", "olaf@a.example", "LEGAL_REPRESENTATIVE"))
		bAdmin := e.token(t, e.user(t, b, "Bert Admin", "bert@b.example", "ADMINISTRATOR"))
		sales := e.addMailbox(t, e.Admin, a, "sales@a.example", "Sales", true, false, nil)
		e.must(t, e.Admin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": sales, "u": e1ID}, nil)

		m1 := e.mustSend(t, e1, msgDraft("from", "sales@a.example", "subject", "From sales")).ID
		m2 := e.mustSend(t, e2, msgDraft("subject", "From the external user")).ID
		mB := e.mustSend(t, bAdmin, msgDraft("subject", "From B")).ID
		e.waitFinal(t, e1, m1, "SENT")
		e.waitFinal(t, e2, m2, "SENT")
		e.waitFinal(t, bAdmin, mB, "SENT")

		t.Run("R19 EMPLOYEE and EXTERNAL list and read only their own messages", func(t *testing.T) {
			wantSame(t, "messages of the employee", e.messageIDs(t, e1, a), []string{m1})
			wantSame(t, "messages of the external user", e.messageIDs(t, e2, a), []string{m2})
			r, m := e.message(t, e1, m2)
			wantCode(t, r, "FORBIDDEN")
			if m != nil {
				t.Errorf("the employee reads another user's message: %s", raw(r))
			}
			wantSame(t, "messages of the administrator", e.messageIDs(t, aAdmin, a), []string{m1, m2})
			wantSame(t, "messages of the auditor", e.messageIDs(t, e.Auditor, a), []string{m1, m2})
		})

		t.Run("R19 another tenant's message is NOT_FOUND and null", func(t *testing.T) {
			for name, c := range map[string]struct{ tok, id string }{
				"B's administrator reads A's message": {bAdmin, m1},
				"A's administrator reads B's message": {aAdmin, mB},
				"A's employee reads B's message":      {e1, mB},
				"a message that does not exist":       {aAdmin, "00000000-0000-0000-0000-000000000000"},
			} {
				r, m := e.message(t, c.tok, c.id)
				wantCode(t, r, "NOT_FOUND")
				if m != nil {
					t.Errorf("%s: got %s, want null", name, raw(r))
				}
			}
			r, _ := e.messages(t, bAdmin, a, nil)
			wantCode(t, r, "NOT_FOUND")
			r, _ = e.messages(t, e1, b, nil)
			wantCode(t, r, "NOT_FOUND")
		})

		t.Run("§4 resolution: null for EMPLOYEE and EXTERNAL, set with rule and grantedBy for administrators and auditors", func(t *testing.T) {
			if m := e.mustMessage(t, e1, m1); m.Resolution != nil {
				t.Errorf("the employee sees the resolution %+v, want null", m.Resolution)
			}
			if m := e.mustMessage(t, e2, m2); m.Resolution != nil {
				t.Errorf("the external user sees the resolution %+v, want null", m.Resolution)
			}
			for name, tok := range map[string]string{"administrator": aAdmin, "legal representative": aOwner, "auditor": e.Auditor, "system administrator": e.Admin} {
				m := e.mustMessage(t, tok, m1)
				res := m.Resolution
				if res == nil {
					t.Errorf("%s: got no resolution, want one", name)
					continue
				}
				if res.Rule == "" || res.Transport != "SYSTEM_SERVER" || res.Skipped == nil {
					t.Errorf("%s: got resolution %+v, want a rule, SYSTEM_SERVER and a skipped list", name, *res)
				}
				// R23: the structured grant names the event; grantedBy says it in words.
				if g := showNil(res.GrantedBy); g != "direct grant to the user" {
					t.Errorf("%s: grantedBy %q, want %q", name, g, "direct grant to the user")
				}
				if g := res.Grant; g == nil || showNil(g.UserID) != e1ID || g.GroupID != nil || g.Position == "" || g.At == "" {
					t.Errorf("%s: grant %+v, want the grant event to the employee", name, g)
				}
			}
			_, p := e.messages(t, aAdmin, a, nil)
			for _, m := range p.Messages {
				if m.Resolution == nil {
					t.Errorf("messages as the administrator: message %s without resolution", m.ID)
				}
			}
			_, p = e.messages(t, e1, a, nil)
			for _, m := range p.Messages {
				if m.Resolution != nil {
					t.Errorf("messages as the employee: message %s with resolution", m.ID)
				}
			}
		})

		t.Run("§4 messages: newest first, paginated by decimal cursors, filtered by status", func(t *testing.T) {
			_, p := e.messages(t, aAdmin, a, map[string]any{"f": 1})
			if len(p.Messages) != 1 || p.Messages[0].ID != m2 || !p.HasNextPage || p.EndCursor == nil {
				t.Fatalf("first page: got %+v, want the newest (%s) and a next page", p, m2)
			}
			if !isDecimal(*p.EndCursor) {
				t.Errorf("cursor %q: want a decimal string", *p.EndCursor)
			}
			_, p = e.messages(t, aAdmin, a, map[string]any{"f": 1, "a": *p.EndCursor})
			if len(p.Messages) != 1 || p.Messages[0].ID != m1 || p.HasNextPage {
				t.Fatalf("second page: got %+v, want %s and no next page", p, m1)
			}
			_, p = e.messages(t, aAdmin, a, map[string]any{"s": "SENT"})
			if len(p.Messages) != 2 {
				t.Errorf("status SENT: got %d messages, want 2", len(p.Messages))
			}
			_, p = e.messages(t, aAdmin, a, map[string]any{"s": "FAILED"})
			if len(p.Messages) != 0 {
				t.Errorf("status FAILED: got %d messages, want none", len(p.Messages))
			}
			r, _ := e.messages(t, aAdmin, a, map[string]any{"f": 501})
			wantInvalid(t, r, "first")
			r, _ = e.messages(t, aAdmin, a, map[string]any{"a": "not-a-cursor"})
			wantInvalid(t, r, "after")
		})
	})
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TestR25_PurgeMessageContent purges a sent message's content: the message
// and its history stay, no content is in the events.
func TestR25_PurgeMessageContent(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.smtpSystemServer(t, smtptest.Config{}, true)
		tn := e.createTenant(t, "Purge GmbH")
		emp := e.token(t, e.user(t, tn, "Petra Purge", "petra@purge.example", "EMPLOYEE"))
		admin := e.token(t, e.user(t, tn, "Paul Admin", "paul@purge.example", "ADMINISTRATOR"))
		const body, secretFile = "Body-Secret-4711", "Attachment-Secret-0815"
		att := attachment("secret.txt", "text/plain", []byte(secretFile))
		m := e.mustSend(t, emp, msgDraft("subject", "To be purged", "text", body, "attachments", []any{att}))
		sent := e.waitFinal(t, emp, m.ID, "SENT")

		t.Run("R19 an employee may not purge", func(t *testing.T) {
			wantCode(t, e.do(t, emp, purgeQ, map[string]any{"id": m.ID}), "FORBIDDEN")
		})

		t.Run("R25 purging keeps the message and what was sent to whom", func(t *testing.T) {
			var v struct{ PurgeMessageContent messageView }
			e.must(t, admin, purgeQ, map[string]any{"id": m.ID}, &v)
			p := v.PurgeMessageContent
			if p.ID != m.ID || p.Status != "SENT" || p.Subject != "To be purged" || !slices.Equal(p.To, sent.To) || showNil(p.MessageID) != showNil(sent.MessageID) {
				t.Errorf("purgeMessageContent: got %+v, want the sent message unchanged", p)
			}
			if got := e.mustMessage(t, emp, m.ID); got.Status != "SENT" || got.From != sent.From {
				t.Errorf("message after purge: got %+v", got)
			}
			if ids := e.messageIDs(t, admin, tn); !slices.Contains(ids, m.ID) {
				t.Errorf("messages after purge: %v lacks %s", ids, m.ID)
			}
			e.must(t, admin, purgeQ, map[string]any{"id": m.ID}, nil) // again: nothing left to purge, no error
		})

		t.Run("R25 the events hold no content, and record the purge", func(t *testing.T) {
			p := e.audit(t, e.Auditor, "", "message-"+m.ID, 500, "")
			for _, secret := range []string{body, secretFile, att["contentBase64"].(string)} {
				wantNoSecret(t, "audit log of the message", p.Raw, secret)
			}
			purged := 0
			for _, a := range p.Entries {
				if strings.Contains(a.Action, "Purged") {
					purged++
				}
			}
			if purged != 1 {
				t.Errorf("audit log of the message: %d purge entries, want 1:\n%s", purged, p.Raw)
			}
		})

		t.Run("R19 another tenant's administrator gets NOT_FOUND", func(t *testing.T) {
			other := e.createTenant(t, "Other Purge KG")
			oAdmin := e.token(t, e.user(t, other, "Olga Other", "olga@otherpurge.example", "ADMINISTRATOR"))
			wantCode(t, e.do(t, oAdmin, purgeQ, map[string]any{"id": m.ID}), "NOT_FOUND")
		})
	})
}

// TestR7_SubmitSupportRequest sends a support request to the support
// address, From the system mailbox, Reply-To the user.
func TestR7_SubmitSupportRequest(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		srv := e.smtpSystemServer(t, smtptest.Config{}, true)
		tn := e.createTenant(t, "Support GmbH")
		emp := e.token(t, e.user(t, tn, "Susi Support", "susi@support.example", "EMPLOYEE"))

		t.Run("R7 without a support address: INVALID_INPUT supportAddress", func(t *testing.T) {
			wantInvalid(t, e.do(t, emp, supportQ, map[string]any{"s": "Help", "b": "Please"}), "supportAddress")
		})

		e.must(t, e.Admin, `mutation{ configureSupport(address:"help@vendor.example", allowTenantAddress:false, attachSystemInfo:true){ configured } }`, nil, nil)

		t.Run("R7 R8 to the support address, From the system mailbox, Reply-To the user", func(t *testing.T) {
			var v struct{ SubmitSupportRequest messageView }
			e.must(t, emp, supportQ, map[string]any{"s": "Cannot log in", "b": "Please help."}, &v)
			e.waitFinal(t, emp, v.SubmitSupportRequest.ID, "SENT")
			d := oneDelivery(t, srv, "Cannot log in")
			if d.From != sysAddr || !slices.Equal(d.Rcpts, []string{"help@vendor.example"}) {
				t.Errorf("envelope: got from %q to %v, want %s to help@vendor.example", d.From, d.Rcpts, sysAddr)
			}
			wantSame(t, "Reply-To header", headerAddresses(t, d.Header, "Reply-To"), []string{"susi@support.example"})
		})

		t.Run("R7 R19 a system principal sends no support request", func(t *testing.T) {
			wantCode(t, e.do(t, e.Admin, supportQ, map[string]any{"s": "Help", "b": "Please"}), "FORBIDDEN")
		})
	})
}

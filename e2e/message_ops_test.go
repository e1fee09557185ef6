package e2e_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
	"github.com/absender/absender/server/servertest"
	"github.com/absender/absender/transport/smtptest"
)

// gate holds one message's workers at a hook until the test releases
// them, so a test can act between a worker's read and its append (or
// send). Every pass of that message waits (a hint and a claim may bring
// two workers); reached closes at the first.
type gate struct {
	mu      sync.Mutex
	id      string
	reached chan struct{}
	once    *sync.Once
	release chan struct{}
}

// hold makes every pass of id's workers through the hook stop there until
// release is closed.
func (g *gate) hold(id string) (reached, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.id, g.reached, g.once, g.release = id, make(chan struct{}), &sync.Once{}, make(chan struct{})
	return g.reached, g.release
}

func (g *gate) pass(id string) {
	g.mu.Lock()
	if g.id == "" || g.id != id {
		g.mu.Unlock()
		return
	}
	reached, once, release := g.reached, g.once, g.release
	g.mu.Unlock()
	once.Do(func() { close(reached) })
	<-release
}

func waitClosed(t *testing.T, c chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not reached within 30s", what)
	}
}

// opsEnv is a server whose retries wait an hour (so only retryMessageNow
// brings them forward) and whose workers can be held before they append
// an attempt (beforeAppend) and before they send (beforeSend).
type opsEnv struct {
	*env
	beforeAppend, beforeSend *gate
	smtp                     *smtptest.Server // the system server, configured and enabled
	// afterStop are checks that run once the server stopped, its workers
	// drained, while the SMTP server still counts sessions.
	afterStop []func()
}

func eachOps(t *testing.T, fn func(t *testing.T, e *opsEnv)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		o := &opsEnv{beforeAppend: &gate{}, beforeSend: &gate{}}
		o.smtp = smtptest.Start(t, smtptest.Config{})
		t.Cleanup(func() {
			for _, f := range o.afterStop {
				f()
			}
		})
		opt := server.Options{
			App: app.Config{Retry: message.RetryPolicy{MaxAttempts: 8, First: time.Hour, Factor: 1},
				BeforeAttemptAppend: func(_ context.Context, id string) { o.beforeAppend.pass(id) }},
			Saga: saga.Options{BeforeSend: func(_ context.Context, d *saga.Delivery) error {
				o.beforeSend.pass(d.Queued.MessageID)
				return nil
			}},
		}
		o.env = &env{Instance: servertest.StartWith(t, db, opt)}
		o.must(t, o.Admin, configureSystemQ, map[string]any{"i": smtpSettings(o.smtp, sysAddr, sysName)}, nil)
		o.must(t, o.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
		fn(t, o)
	})
}

// waitStatus polls a message until it is in status after attempts
// attempts.
func (e *env) waitStatus(t *testing.T, tok, id, status string, attempts int) messageView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := e.mustMessage(t, tok, id)
		if m.Status == status && m.Attempts == attempts {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: got %s after %d attempts, want %s after %d", id, m.Status, m.Attempts, status, attempts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tryLater() error {
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later, says mx.internal.example"}
}

// R23: a cancel that races a due attempt: whichever appends first wins.
// Nothing is sent after CANCELLED, and a cancel that lost is CONFLICT.
func TestR23_CancelRacesADueAttempt(t *testing.T) {
	t.Parallel()
	eachOps(t, func(t *testing.T, e *opsEnv) {
		srv := e.smtp
		a := e.createTenant(t, "Race GmbH")
		senderID := e.user(t, a, "Rita Race", "rita@race.example", "EMPLOYEE")
		sender := e.token(t, senderID)
		admin := e.token(t, e.user(t, a, "Anton Admin", "anton@race.example", "ADMINISTRATOR"))

		t.Run("R23 QUEUED: the cancel appends between the worker's read and its append; nothing is sent", func(t *testing.T) {
			// With an idempotency key the id is known before the message
			// is queued: hold its worker after it read the message QUEUED
			// and decided the first attempt.
			key := e.uniq("race-")
			id := app.IdempotentMessageID(senderID, key)
			reached, release := e.beforeAppend.hold(id)
			e.mustSend(t, sender, msgDraft("subject", "Cancelled while queued", "idempotencyKey", key))
			waitClosed(t, reached, "the worker's first attempt")
			// retryMessageNow of a QUEUED message is CONFLICT.
			wantCode(t, e.do(t, sender, retryNowQ, map[string]any{"id": id}), "CONFLICT")
			var c struct{ CancelMessage messageView }
			e.must(t, sender, cancelQ, map[string]any{"id": id}, &c)
			if c.CancelMessage.Status != "CANCELLED" {
				t.Fatalf("cancelMessage: got %s, want CANCELLED", c.CancelMessage.Status)
			}
			close(release)
			wantCode(t, e.do(t, admin, cancelQ, map[string]any{"id": id}), "CONFLICT")
			// A later message still goes out: the held worker is free again.
			e.waitFinal(t, sender, e.mustSend(t, sender, msgDraft("subject", "After the first race")).ID, "SENT")
			if got := e.mustMessage(t, e.Admin, id); got.Status != "CANCELLED" || got.Attempts != 0 || len(got.AttemptLog) != 0 {
				t.Errorf("cancelled message: got %s after %d attempts (%d logged), want CANCELLED after none", got.Status, got.Attempts, len(got.AttemptLog))
			}
			if n := len(deliveriesWith(t, srv, "Cancelled while queued")); n != 0 {
				t.Errorf("the cancelled message was delivered %d times", n)
			}
			e.afterStop = append(e.afterStop, func() {
				if n := len(deliveriesWith(t, srv, "Cancelled while queued")); n != 0 {
					t.Errorf("after the server stopped: the cancelled message was delivered %d times", n)
				}
			})
		})

		t.Run("R23 RETRYING: retry-now brings the attempt, the cancel wins before it is appended", func(t *testing.T) {
			// A 451 whose reply names a host (the detail senders do not see).
			srv.SetDataReplies(tryLater())
			m := e.mustSend(t, sender, msgDraft("subject", "Cancelled while retrying"))
			m = e.waitStatus(t, sender, m.ID, "RETRYING", 1)
			if m.NextAttemptAt == nil {
				t.Fatalf("RETRYING without nextAttemptAt")
			}
			before := srv.Sessions()
			reached, release := e.beforeAppend.hold(m.ID)
			e.must(t, sender, retryNowQ, map[string]any{"id": m.ID}, nil)
			waitClosed(t, reached, "the worker's attempt after retryMessageNow")
			// The worker read the message RETRYING and decided attempt 2.
			var c struct{ CancelMessage messageView }
			e.must(t, admin, cancelQ, map[string]any{"id": m.ID}, &c)
			if c.CancelMessage.Status != "CANCELLED" || c.CancelMessage.NextAttemptAt != nil {
				t.Fatalf("cancelMessage: got %s (next %v), want CANCELLED without a next attempt", c.CancelMessage.Status, showNil(c.CancelMessage.NextAttemptAt))
			}
			close(release)
			// The worker's append conflicts; it reads the message again and
			// finds it CANCELLED. A retry-now now is CONFLICT, and so is a
			// second cancel.
			wantCode(t, e.do(t, sender, retryNowQ, map[string]any{"id": m.ID}), "CONFLICT")
			wantCode(t, e.do(t, admin, cancelQ, map[string]any{"id": m.ID}), "CONFLICT")
			// A later message still goes out: the held worker is free again.
			e.waitFinal(t, sender, e.mustSend(t, sender, msgDraft("subject", "After the second race")).ID, "SENT")
			if got := e.mustMessage(t, e.Admin, m.ID); got.Status != "CANCELLED" || got.Attempts != 1 || len(got.AttemptLog) != 1 {
				t.Errorf("cancelled message: got %s after %d attempts (%d logged), want CANCELLED after 1", got.Status, got.Attempts, len(got.AttemptLog))
			}
			// Only the one message after the race reached the server since.
			if n := srv.Sessions() - before; n != 1 {
				t.Errorf("the SMTP server had %d sessions after the cancel, want 1 (the later message)", n)
			}
			e.afterStop = append(e.afterStop, func() {
				if n := len(deliveriesWith(t, srv, "Cancelled while retrying")); n != 0 {
					t.Errorf("after the server stopped: the cancelled message was delivered %d times", n)
				}
			})
		})

		t.Run("R23 the attempt wins: a cancel after it was appended is CONFLICT, and it is sent", func(t *testing.T) {
			srv.SetDataReplies(tryLater())
			m := e.mustSend(t, sender, msgDraft("subject", "Attempt wins"))
			m = e.waitStatus(t, sender, m.ID, "RETRYING", 1)
			reached, release := e.beforeSend.hold(m.ID)
			e.must(t, admin, retryNowQ, map[string]any{"id": m.ID}, nil)
			waitClosed(t, reached, "the worker's send after retryMessageNow")
			wantCode(t, e.do(t, sender, cancelQ, map[string]any{"id": m.ID}), "CONFLICT")
			close(release)
			got := e.waitFinal(t, sender, m.ID, "SENT")
			if got.Attempts != 2 || len(deliveriesWith(t, srv, "Attempt wins")) != 1 {
				t.Errorf("got %d attempts, %d deliveries, want 2 and 1", got.Attempts, len(deliveriesWith(t, srv, "Attempt wins")))
			}
		})
	})
}

// R23: retry-now of a RETRYING message is attempted at once and counts as
// the next attempt; the attempt log after 451, 451, 250 has three attempts
// with codes, outcomes and transport, and nextAttemptAt is set between
// them and null once SENT. Retry-now and cancel of QUEUED (above) or SENT
// are CONFLICT.
func TestR23_RetryNowAndAttemptLog(t *testing.T) {
	t.Parallel()
	eachOps(t, func(t *testing.T, e *opsEnv) {
		a := e.createTenant(t, "Retry GmbH")
		sender := e.token(t, e.user(t, a, "Rolf Retry", "rolf@retry.example", "EMPLOYEE"))
		admin := e.token(t, e.user(t, a, "Alma Admin", "alma@retry.example", "ADMINISTRATOR"))
		e.smtp.SetDataReplies(tryLater(), tryLater())

		m := e.mustSend(t, sender, msgDraft("subject", "Third time lucky"))
		first := e.waitStatus(t, sender, m.ID, "RETRYING", 1)
		if first.NextAttemptAt == nil || len(first.AttemptLog) != 1 || parse(t, *first.NextAttemptAt).Before(parse(t, first.AttemptLog[0].At).Add(50*time.Minute)) {
			t.Fatalf("after the first 451: nextAttemptAt %v, log %+v; want about an hour after the attempt", showNil(first.NextAttemptAt), first.AttemptLog)
		}
		var r struct{ RetryMessageNow messageView }
		e.must(t, sender, retryNowQ, map[string]any{"id": m.ID}, &r)
		// (The worker may have made attempt 2 before the answer was built.)
		if got := r.RetryMessageNow; got.Status == "RETRYING" && got.Attempts == 1 && (got.NextAttemptAt == nil || !parse(t, *got.NextAttemptAt).Before(parse(t, *first.NextAttemptAt))) {
			t.Errorf("retryMessageNow: %s, nextAttemptAt %v, want earlier than %s", got.Status, showNil(got.NextAttemptAt), *first.NextAttemptAt)
		}
		second := e.waitStatus(t, sender, m.ID, "RETRYING", 2)
		if second.NextAttemptAt == nil {
			t.Fatal("after the second 451: no nextAttemptAt")
		}
		e.must(t, admin, retryNowQ, map[string]any{"id": m.ID}, nil)
		sent := e.waitFinal(t, sender, m.ID, "SENT")
		if sent.Attempts != 3 || sent.NextAttemptAt != nil {
			t.Fatalf("SENT after %d attempts, nextAttemptAt %v; want 3 and null", sent.Attempts, showNil(sent.NextAttemptAt))
		}

		wantLog := []struct {
			outcome string
			code    int
		}{{"TEMPORARY_FAILURE", 451}, {"TEMPORARY_FAILURE", 451}, {"SENT", 250}}
		full := e.mustMessage(t, admin, m.ID).AttemptLog
		for name, log := range map[string][]attemptView{"sender": sent.AttemptLog, "administrator": full} {
			if len(log) != len(wantLog) {
				t.Fatalf("%s: attempt log %+v, want 3 attempts", name, log)
			}
			for i, w := range wantLog {
				got := log[i]
				if got.Number != i+1 || got.Outcome != w.outcome || got.SMTPCode == nil || *got.SMTPCode != w.code || got.Transport != "SYSTEM_SERVER" || got.Detail == nil {
					t.Errorf("%s: attempt %d = %+v, want number %d, %s, code %d, SYSTEM_SERVER, a detail", name, i+1, got, i+1, w.outcome, w.code)
				}
				if i > 0 && parse(t, got.At).Before(parse(t, log[i-1].At)) {
					t.Errorf("%s: attempt %d at %s before attempt %d at %s", name, i+1, got.At, i, log[i-1].At)
				}
			}
		}
		// Details follow lastError's rule: the sender gets no server reply.
		if d := showNil(full[0].Detail); !strings.Contains(d, "mx.internal.example") {
			t.Errorf("administrator: detail %q, want the server's reply", d)
		}
		for _, a := range sent.AttemptLog {
			if d := showNil(a.Detail); strings.Contains(d, "mx.internal.example") || strings.Contains(d, "451") {
				t.Errorf("sender: detail %q shows the server's reply", d)
			}
		}

		// SENT: neither can be retried nor cancelled.
		wantCode(t, e.do(t, sender, retryNowQ, map[string]any{"id": m.ID}), "CONFLICT")
		wantCode(t, e.do(t, admin, cancelQ, map[string]any{"id": m.ID}), "CONFLICT")
	})
}

func parse(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return at
}

// §4 Message.kind and tenantId; messages without tenantId: every message
// (system test mails too) for system administrators and auditors, the
// caller's tenant for a tenant user; the kind filter and totalCount.
func TestR23_MessageKindsAndMessagesWithoutTenant(t *testing.T) {
	t.Parallel()
	eachOps(t, func(t *testing.T, e *opsEnv) {
		e.must(t, e.Admin, `mutation{ configureSupport(address:"help@vendor.example", allowTenantAddress:false, attachSystemInfo:false){ configured } }`, nil, nil)
		a := e.createTenant(t, "Kinds A GmbH")
		b := e.createTenant(t, "Kinds B GmbH")
		emp := e.token(t, e.user(t, a, "Kim Kind", "kim@kinds.example", "EMPLOYEE"))
		admin := e.token(t, e.user(t, a, "Karl Admin", "karl@kinds.example", "ADMINISTRATOR"))
		other := e.token(t, e.user(t, b, "Bea Other", "bea@kinds.example", "EMPLOYEE"))

		msg := e.mustSend(t, emp, msgDraft("subject", "A message"))
		var sup struct{ SubmitSupportRequest messageView }
		e.must(t, emp, supportQ, map[string]any{"s": "Help", "b": "Please."}, &sup)
		var tm struct{ SendTestMail messageView }
		e.must(t, e.Admin, sendTestMailQ, map[string]any{"to": "check@kinds.example"}, &tm)
		msgB := e.mustSend(t, other, msgDraft("subject", "B's message"))

		for _, c := range []struct {
			m      messageView
			kind   string
			tenant string
		}{{msg, "MESSAGE", a}, {sup.SubmitSupportRequest, "SUPPORT", a}, {tm.SendTestMail, "TEST", ""}, {msgB, "MESSAGE", b}} {
			got := e.mustMessage(t, e.Admin, c.m.ID)
			if got.Kind != c.kind || showNil(got.TenantID) != showNil(optionalString(c.tenant)) || c.m.Kind != c.kind {
				t.Errorf("message %q: kind %s (mutation %s), tenantId %v; want %s, %v", got.Subject, got.Kind, c.m.Kind, showNil(got.TenantID), c.kind, c.tenant)
			}
		}

		all := []string{msg.ID, sup.SubmitSupportRequest.ID, tm.SendTestMail.ID, msgB.ID}
		for name, tok := range map[string]string{"system administrator": e.Admin, "auditor": e.Auditor} {
			r, p := e.messages(t, tok, "", map[string]any{"f": 500})
			if len(r.Errors) > 0 {
				t.Fatalf("%s: messages without tenantId: %s", name, raw(r))
			}
			wantSame(t, name+": messages without tenantId", idsOf(p), all)
			if p.TotalCount != len(all) {
				t.Errorf("%s: totalCount %d, want %d", name, p.TotalCount, len(all))
			}
			_, p = e.messages(t, tok, "", map[string]any{"k": "TEST"})
			wantSame(t, name+": test mails", idsOf(p), []string{tm.SendTestMail.ID})
			// Newest first.
			_, p = e.messages(t, tok, "", map[string]any{"f": 1})
			if len(p.Messages) != 1 || p.Messages[0].ID != msgB.ID || !p.HasNextPage || p.TotalCount != len(all) {
				t.Errorf("%s: first page of 1: %+v, want the newest message and more", name, idsOf(p))
			}
		}
		// A tenant user without tenantId: its own tenant, as with it; no
		// system test mail.
		_, p := e.messages(t, admin, "", nil)
		wantSame(t, "administrator of A without tenantId", idsOf(p), []string{msg.ID, sup.SubmitSupportRequest.ID})
		_, p = e.messages(t, admin, "", map[string]any{"k": "SUPPORT"})
		wantSame(t, "administrator of A, SUPPORT", idsOf(p), []string{sup.SubmitSupportRequest.ID})
		_, p = e.messages(t, other, "", nil)
		wantSame(t, "employee of B without tenantId", idsOf(p), []string{msgB.ID})
		wantCode(t, e.do(t, e.MailServer, messagesQ, nil), "FORBIDDEN")
	})
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func idsOf(p messagePage) []string {
	out := []string{}
	for _, m := range p.Messages {
		out = append(out, m.ID)
	}
	return out
}

// R23: an idempotency key reused with the same content (after
// normalisation) returns the message; with other content it is CONFLICT.
func TestR23_IdempotencyKeyWithOtherContent(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.smtpSystemServer(t, smtptest.Config{}, true)
		a := e.createTenant(t, "Keys GmbH")
		emp := e.token(t, e.user(t, a, "Kai Key", "kai@keys.example", "EMPLOYEE"))
		in := msgDraft("subject", "Once", "to", []string{"Rcpt@Dest.example"}, "idempotencyKey", "order-4711")
		first := e.mustSend(t, emp, in)
		again := e.mustSend(t, emp, with(in, "to", []string{"rcpt@dest.example", "RCPT@dest.example"}))
		if again.ID != first.ID {
			t.Fatalf("the same content again: got message %s, want %s", again.ID, first.ID)
		}
		for name, changed := range map[string]map[string]any{
			"another subject":   with(in, "subject", "Twice"),
			"another body":      with(in, "text", "Other text."),
			"another recipient": with(in, "to", []string{"other@dest.example"}),
			"a cc recipient":    with(in, "cc", []string{"cc@dest.example"}),
		} {
			r := e.send(t, emp, changed)
			if r.Code() != "CONFLICT" {
				t.Errorf("%s: got %s, want CONFLICT", name, raw(r))
			}
		}
	})
}

// R19 R23: who may cancel and retry: the sender its own message, the
// tenant's administrators every message of the tenant, system
// administrators; not another employee (FORBIDDEN), not an auditor
// (FORBIDDEN), not another tenant (NOT_FOUND).
func TestR23_CancelPermissions(t *testing.T) {
	t.Parallel()
	eachOps(t, func(t *testing.T, e *opsEnv) {
		a := e.createTenant(t, "Perm A GmbH")
		b := e.createTenant(t, "Perm B GmbH")
		senderID := e.user(t, a, "Sara Sender", "sara@perm.example", "EMPLOYEE")
		sender := e.token(t, senderID)
		peer := e.token(t, e.user(t, a, "Paul Peer", "paul@perm.example", "EMPLOYEE"))
		otherAdmin := e.token(t, e.user(t, b, "Olga Other", "olga@perm.example", "ADMINISTRATOR"))

		// Messages held QUEUED before their first attempt; released at the
		// end (a held worker would keep the server from stopping).
		var releases []chan struct{}
		defer func() {
			for _, r := range releases {
				close(r)
			}
		}()
		queued := func() string {
			key := e.uniq("perm-")
			id := app.IdempotentMessageID(senderID, key)
			reached, release := e.beforeAppend.hold(id)
			releases = append(releases, release)
			e.mustSend(t, sender, msgDraft("subject", "Held", "idempotencyKey", key))
			waitClosed(t, reached, "the held attempt")
			return id
		}
		id := queued()
		for _, c := range []struct {
			name, tok, code string
		}{{"employee, another's message", peer, "FORBIDDEN"}, {"auditor", e.Auditor, "FORBIDDEN"},
			{"administrator of another tenant", otherAdmin, "NOT_FOUND"}, {"mail server", e.MailServer, "FORBIDDEN"}} {
			for _, q := range []string{cancelQ, retryNowQ} {
				wantCode(t, e.do(t, c.tok, q, map[string]any{"id": id}), c.code)
			}
		}
		var c struct{ CancelMessage messageView }
		e.must(t, sender, cancelQ, map[string]any{"id": id}, &c)
		if c.CancelMessage.Status != "CANCELLED" {
			t.Errorf("the sender cancelled its message: got %s, want CANCELLED", c.CancelMessage.Status)
		}
		e.must(t, e.Admin, cancelQ, map[string]any{"id": queued()}, nil)
	})
}

// R23: resolution.grant names the group grant event that allowed the From
// address; grantedBy says it in words without internal ids.
func TestR23_ResolutionGrantOfAGroup(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.smtpSystemServer(t, smtptest.Config{}, true)
		a := e.createTenant(t, "Grant GmbH")
		empID := e.user(t, a, "Gina Group", "gina@grant.example", "EMPLOYEE")
		emp := e.token(t, empID)
		sales := e.addMailbox(t, e.Admin, a, "sales@grant.example", "Sales", true, false, nil)
		var g struct{ CreateGroup struct{ ID string } }
		e.must(t, e.Admin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Sales team"){ id } }`, map[string]any{"t": a}, &g)
		e.must(t, e.Admin, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`, map[string]any{"g": g.CreateGroup.ID, "u": empID}, nil)
		e.must(t, e.Admin, `mutation($m:ID!,$g:ID!){ grantGroup(mailboxId:$m, groupId:$g){ id } }`, map[string]any{"m": sales, "g": g.CreateGroup.ID}, nil)

		m := e.mustSend(t, emp, msgDraft("from", "sales@grant.example", "subject", "Through the group"))
		e.waitFinal(t, emp, m.ID, "SENT")
		res := e.mustMessage(t, e.Admin, m.ID).Resolution
		if res == nil || res.Grant == nil {
			t.Fatalf("resolution %+v, want one with the grant", res)
		}
		if gr := res.Grant; showNil(gr.GroupID) != g.CreateGroup.ID || gr.UserID != nil || gr.Position == "" || gr.At == "" {
			t.Errorf("grant %+v, want the grant event to group %s", gr, g.CreateGroup.ID)
		}
		if gb := showNil(res.GrantedBy); !strings.Contains(gb, "Sales team") || strings.Contains(gb, g.CreateGroup.ID) || strings.Contains(gb, "Granted") {
			t.Errorf("grantedBy %q, want the group's name in words, without ids or event names", gb)
		}
	})
}

// R23 §4: the messageStatus subscription ends once the message is
// CANCELLED.
func TestR23_MessageStatusEndsOnCancelled(t *testing.T) {
	t.Parallel()
	eachOps(t, func(t *testing.T, e *opsEnv) {
		a := e.createTenant(t, "Watch GmbH")
		senderID := e.user(t, a, "Wanda Watch", "wanda@watch.example", "EMPLOYEE")
		sender := e.token(t, senderID)
		key := e.uniq("watch-")
		id := app.IdempotentMessageID(senderID, key)
		reached, release := e.beforeAppend.hold(id)
		defer close(release)
		e.mustSend(t, sender, msgDraft("subject", "Watched and cancelled", "idempotencyKey", key))
		waitClosed(t, reached, "the held attempt")

		c := e.mustDialWS(t, sender)
		c.subscribeStatus(t, "st", id)
		if u := c.nextStatus(t, "st"); u.Done || u.Errors != "" || u.Message.Status != "QUEUED" {
			t.Fatalf("first update: got %+v, want the message QUEUED", u)
		}
		e.must(t, sender, cancelQ, map[string]any{"id": id}, nil)
		if u := c.nextStatus(t, "st"); u.Done || u.Message.Status != "CANCELLED" {
			t.Fatalf("after the cancel: got %+v, want the message CANCELLED", u)
		}
		if u := c.nextStatus(t, "st"); !u.Done {
			t.Fatalf("after CANCELLED: got %+v, want complete", u)
		}
	})
}

package e2e_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/database/dbtest"
	"github.com/absender/absender/domain/message"
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
			Saga: saga.Options{BeforeSend: func(_ context.Context, d *app.Delivery) error {
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

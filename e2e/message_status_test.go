package e2e_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/absender/absender/transport/smtptest"
)

// TestR23_MessageStatusSubscription follows a message over the
// messageStatus subscription: the current state first, then every change,
// until SENT completes it.
func TestR23_MessageStatusSubscription(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		// The server holds DATA until released, so the message cannot be
		// SENT before the subscription starts.
		hold := make(chan struct{})
		var release sync.Once
		srv := e.smtpSystemServer(t, smtptest.Config{Hang: hold}, true)
		t.Cleanup(func() { release.Do(func() { close(hold) }) })
		tn := e.createTenant(t, "Status GmbH")
		emp := e.token(t, e.user(t, tn, "Stefan Status", "stefan@status.example", "EMPLOYEE"))
		m := e.mustSend(t, emp, msgDraft("subject", "Watched"))

		t.Run("R23 §4 messageStatus: current state, each change, complete after SENT", func(t *testing.T) {
			c := e.mustDialWS(t, emp)
			c.subscribeStatus(t, "st", m.ID)
			first := c.nextStatus(t, "st")
			if first.Done || first.Errors != "" {
				t.Fatalf("first update: got %+v, want the message", first)
			}
			if first.Message.ID != m.ID || (first.Message.Status != "QUEUED" && first.Message.Status != "SENDING") {
				t.Fatalf("first update: got %s %s, want %s QUEUED or SENDING", first.Message.ID, first.Message.Status, m.ID)
			}
			statuses := []string{first.Message.Status}
			last := first.Message
			for last.Status != "SENDING" {
				u := c.nextStatus(t, "st")
				if u.Done || u.Errors != "" {
					t.Fatalf("after %v: got %+v, want the message SENDING", statuses, u)
				}
				last = u.Message
				statuses = append(statuses, last.Status)
			}
			release.Do(func() { close(hold) })
			for {
				u := c.nextStatus(t, "st")
				if u.Errors != "" {
					t.Fatalf("after %v: got errors %s", statuses, u.Errors)
				}
				if u.Done {
					break
				}
				last = u.Message
				statuses = append(statuses, last.Status)
			}
			if last.Status != "SENT" || last.Attempts != 1 {
				t.Errorf("statuses %v: the last is %s after %d attempts, want SENT after 1 before completion", statuses, last.Status, last.Attempts)
			}
			oneDelivery(t, srv, "Watched")
		})

		t.Run("R23 a final message: its state, then complete", func(t *testing.T) {
			e.waitFinal(t, emp, m.ID, "SENT")
			c := e.mustDialWS(t, emp)
			c.subscribeStatus(t, "done", m.ID)
			if u := c.nextStatus(t, "done"); u.Message.Status != "SENT" {
				t.Fatalf("got %+v, want the message SENT", u)
			}
			if u := c.nextStatus(t, "done"); !u.Done {
				t.Fatalf("got %+v, want complete", u)
			}
		})

		t.Run("R19 another tenant's message is NOT_FOUND; another user's FORBIDDEN", func(t *testing.T) {
			other := e.createTenant(t, "Other Status KG")
			oAdmin := e.token(t, e.user(t, other, "Oskar Other", "oskar@otherstatus.example", "ADMINISTRATOR"))
			peer := e.token(t, e.user(t, tn, "Pia Peer", "pia@status.example", "EMPLOYEE"))
			for tok, code := range map[string]string{oAdmin: "NOT_FOUND", peer: "FORBIDDEN"} {
				c := e.mustDialWS(t, tok)
				c.subscribeStatus(t, "x", m.ID)
				u := c.nextStatus(t, "x")
				if !strings.Contains(u.Errors, code) {
					t.Errorf("got %+v, want an error %s", u, code)
				}
			}
		})
	})
}

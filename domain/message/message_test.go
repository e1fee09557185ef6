package message_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/message"
)

var (
	now    = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	policy = message.DefaultRetryPolicy

	queued = message.MessageQueued{MessageID: "m1", TenantID: celanioID, UserID: "u-mustermann", Kind: message.KindMessage,
		From: message.Mailbox{Name: "celanio Info", Address: "info@celanio.com"}, To: []message.Mailbox{{Address: "kunde@example.com"}},
		Subject: "Angebot", Size: 16, RetainUntil: now.Add(30 * 24 * time.Hour)}
	resolution = message.Resolution{Rule: message.RuleSystemServer, Transport: domain.TransportSystemServer,
		Skipped: []message.Skipped{{Candidate: "tenant server", Reason: "not configured"}}, GrantedBy: "mailbox info@celanio.com without grants",
		FromName: "celanio Info", Versions: map[string]int64{"system": 2}}
	resolved = message.TransportResolved{MessageID: "m1", TenantID: celanioID, Resolution: resolution}
)

func attempted(n int) message.DeliveryAttempted {
	return message.DeliveryAttempted{MessageID: "m1", TenantID: celanioID, Attempt: n, Transport: domain.TransportSystemServer}
}

func failed(n int) message.DeliveryFailed {
	return message.DeliveryFailed{MessageID: "m1", TenantID: celanioID, Attempt: n, Code: 451, Reason: "try later", RetryAt: now}
}

// history is queued and resolved, then n-1 failed attempts and attempt n
// in flight (n = 0: no attempt yet).
func history(n int) []domain.Event {
	h := []domain.Event{queued, resolved}
	for i := 1; i < n; i++ {
		h = append(h, attempted(i), failed(i))
	}
	if n > 0 {
		h = append(h, attempted(n))
	}
	return h
}

var (
	sent     = message.MessageSent{MessageID: "m1", TenantID: celanioID, Attempt: 1, Code: 250, Reply: "2.0.0 OK", HeaderID: "<x@celanio.com>"}
	failedAt = message.MessageFailed{MessageID: "m1", TenantID: celanioID, Attempts: 1, Code: 550, Reason: "5.7.1 rejected"}
	rejected = message.MessageRejected{MessageID: "m1", TenantID: celanioID, Code: domain.CodeFromNotAllowed, Reason: "grant revoked"}
	purged   = message.MessageContentPurged{MessageID: "m1", TenantID: celanioID, Reason: "retention period ended"}
)

func TestR23_Resolve(t *testing.T) {
	t.Run("the first resolution is recorded", func(t *testing.T) {
		m := Given[message.State](queued)
		events, err := m.Resolve(resolution, nil)
		ThenEvents(t, events, err, resolved)
	})
	t.Run("an equal resolution records nothing", func(t *testing.T) {
		m := Given[message.State](history(1)...)
		again := resolution
		again.Skipped = append([]message.Skipped(nil), resolution.Skipped...)
		again.Versions = map[string]int64{"system": 2}
		events, err := m.Resolve(again, nil)
		ThenEvents(t, events, err)
	})
	t.Run("a changed configuration is recorded again", func(t *testing.T) {
		m := Given[message.State](history(1)...)
		changed := resolution
		changed.Versions = map[string]int64{"system": 3}
		events, err := m.Resolve(changed, nil)
		ThenEvents(t, events, err, message.TransportResolved{MessageID: "m1", TenantID: celanioID, Resolution: changed})
		if m := Apply(m, events...); !m.Resolution().Equal(changed) {
			t.Fatalf("got resolution %+v, want the new one %+v", m.Resolution(), changed)
		}
	})
	t.Run("R17 a revoked grant rejects", func(t *testing.T) {
		m := Given[message.State](append(history(1), failed(1))...)
		events, err := m.Resolve(message.Resolution{}, &domain.Error{Code: domain.CodeFromNotAllowed, Message: "grant revoked"})
		ThenEvents(t, events, err, rejected)
		if m := Apply(m, events...); m.Status() != message.StatusRejected {
			t.Fatalf("got status %s, want REJECTED", m.Status())
		}
	})
	t.Run("R1 sending disabled rejects", func(t *testing.T) {
		m := Given[message.State](queued)
		events, err := m.Resolve(message.Resolution{}, &domain.Error{Code: domain.CodeSendingDisabled, Message: "off"})
		ThenEvents(t, events, err, message.MessageRejected{MessageID: "m1", TenantID: celanioID, Code: domain.CodeSendingDisabled, Reason: "off"})
	})
	t.Run("an unknown message is NOT_FOUND", func(t *testing.T) {
		m := Given[message.State]()
		events, err := m.Resolve(resolution, nil)
		ThenError(t, events, err, domain.ErrNotFound, "")
	})
}

func TestR23_Attempt(t *testing.T) {
	t.Run("without a resolution is CONFLICT", func(t *testing.T) {
		m := Given[message.State](queued)
		events, err := m.Attempt(policy, now)
		ThenError(t, events, err, domain.ErrConflict, "")
	})
	t.Run("the first attempt", func(t *testing.T) {
		m := Given[message.State](queued, resolved)
		events, err := m.Attempt(policy, now)
		ThenEvents(t, events, err, attempted(1))
		m = Apply(m, events...)
		if m.Status() != message.StatusSending || !m.InFlight() || m.Attempts() != 1 {
			t.Fatalf("got status %s in flight %v attempts %d, want SENDING true 1", m.Status(), m.InFlight(), m.Attempts())
		}
	})
	t.Run("R16 the attempt names the mailbox of the resolution", func(t *testing.T) {
		mb := resolution
		mb.Rule, mb.Transport, mb.MailboxID = message.RuleMailbox, domain.TransportMailbox, "mb-welcome"
		m := Given[message.State](queued, message.TransportResolved{MessageID: "m1", TenantID: celanioID, Resolution: mb})
		events, err := m.Attempt(policy, now)
		ThenEvents(t, events, err, message.DeliveryAttempted{MessageID: "m1", TenantID: celanioID, Attempt: 1,
			Transport: domain.TransportMailbox, MailboxID: "mb-welcome"})
	})
	t.Run("after a temporary failure the next attempt", func(t *testing.T) {
		m := Given[message.State](append(history(3), failed(3))...)
		events, err := m.Attempt(policy, now)
		ThenEvents(t, events, err, attempted(4))
	})
	t.Run("an interrupted attempt is recorded as failed before the next", func(t *testing.T) {
		m := Given[message.State](history(1)...)
		events, err := m.Attempt(policy, now)
		ThenEvents(t, events, err,
			message.DeliveryFailed{MessageID: "m1", TenantID: celanioID, Attempt: 1, Reason: "interrupted: the outcome of this attempt is unknown", RetryAt: now},
			attempted(2))
		m = Apply(m, events...)
		if m.Attempts() != 2 || !m.InFlight() {
			t.Fatalf("got attempts %d in flight %v, want 2 true", m.Attempts(), m.InFlight())
		}
	})
	t.Run("an interrupted last attempt fails the message", func(t *testing.T) {
		m := Given[message.State](history(policy.MaxAttempts)...)
		events, err := m.Attempt(policy, now)
		ThenEvents(t, events, err, message.MessageFailed{MessageID: "m1", TenantID: celanioID, Attempts: policy.MaxAttempts,
			Reason: "interrupted: the outcome of this attempt is unknown"})
		if m := Apply(m, events...); m.Status() != message.StatusFailed {
			t.Fatalf("got status %s, want FAILED", m.Status())
		}
	})
}

// R23: after a temporary failure the next attempt waits for its retry
// time: before it, Attempt is refused; at it, the attempt starts.
func TestR23_RetryNotBeforeItsTime(t *testing.T) {
	m := Given[message.State](queued, resolved)
	events, err := m.Attempt(policy, now)
	if err != nil {
		t.Fatal(err)
	}
	m = Apply(m, events...)
	events, err = m.Record(1, message.Outcome{Temporary: true, Code: 451, Reply: "later"}, policy, now, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	m = Apply(m, events...)
	due := m.DueAt()
	if !due.After(now) {
		t.Fatalf("DueAt = %v, want after %v", due, now)
	}
	events, err = m.Attempt(policy, due.Add(-time.Second))
	ThenError(t, events, err, domain.ErrConflict, "")
	if events, err = m.Attempt(policy, due); err != nil || len(events) != 1 {
		t.Fatalf("attempt at the retry time: %v, %v", events, err)
	}
}

// TestR23_NeverTwoAttemptsWithoutARecord drives a message through crashes
// (Attempt called again with an attempt in flight), temporary failures and
// a final outcome, and checks the whole stream: between two
// DeliveryAttempted there is always a DeliveryFailed, and every attempt is
// numbered one more than the last.
func TestR23_NeverTwoAttemptsWithoutARecord(t *testing.T) {
	steps := []string{"attempt", "attempt", "attempt", "temporary", "attempt", "attempt", "temporary", "attempt", "attempt",
		"attempt", "attempt", "attempt", "attempt"}
	stream := []domain.Event{queued, resolved}
	m := Given[message.State](stream...)
	for i, step := range steps {
		var events []domain.Event
		var err error
		switch step {
		case "attempt":
			when := now // a retry starts when its backoff is over
			if due := m.DueAt(); due.After(when) {
				when = due
			}
			events, err = m.Attempt(policy, when)
		case "temporary":
			events, err = m.Record(m.Attempts(), message.Outcome{Temporary: true, Code: 421, Reply: "busy"}, policy, now, 0.5)
		}
		if m.Status().Final() {
			ThenError(t, events, err, domain.ErrConflict, "")
			continue
		}
		if err != nil {
			t.Fatalf("step %d %s: got error %v", i, step, err)
		}
		stream = append(stream, events...)
		m = Apply(m, events...)
	}
	last := 0
	inFlight := false
	for i, e := range stream {
		switch e := e.(type) {
		case message.DeliveryAttempted:
			if inFlight {
				t.Fatalf("event %d: got attempt %d while attempt %d has no record, want a DeliveryFailed between", i, e.Attempt, last)
			}
			if e.Attempt != last+1 {
				t.Fatalf("event %d: got attempt %d, want %d", i, e.Attempt, last+1)
			}
			last, inFlight = e.Attempt, true
		case message.DeliveryFailed, message.MessageSent, message.MessageFailed:
			inFlight = false
		}
	}
	if _, ok := stream[len(stream)-1].(message.MessageFailed); !ok || last != policy.MaxAttempts {
		t.Fatalf("got stream ending with %T after %d attempts, want MessageFailed after %d", stream[len(stream)-1], last, policy.MaxAttempts)
	}
}

func TestR23_Record(t *testing.T) {
	t.Run("sent", func(t *testing.T) {
		m := Given[message.State](history(1)...)
		refused := []message.Refusal{{Recipient: "weg@example.com", Code: 550, Reply: "no such user"}}
		events, err := m.Record(1, message.Outcome{Sent: true, Code: 250, Reply: "2.0.0 OK", HeaderID: "<x@celanio.com>", Refused: refused}, policy, now, 0.5)
		want := sent
		want.Refused = refused
		ThenEvents(t, events, err, want)
		if m := Apply(m, events...); m.Status() != message.StatusSent || m.InFlight() {
			t.Fatalf("got status %s in flight %v, want SENT false", m.Status(), m.InFlight())
		}
	})
	t.Run("temporary failure is DeliveryFailed with RetryAt", func(t *testing.T) {
		m := Given[message.State](history(2)...)
		events, err := m.Record(2, message.Outcome{Temporary: true, Code: 451, Reply: "4.3.0 try later"}, policy, now, 0.5)
		ThenEvents(t, events, err, message.DeliveryFailed{MessageID: "m1", TenantID: celanioID, Attempt: 2, Code: 451,
			Reason: "4.3.0 try later", RetryAt: now.Add(policy.Delay(2, 0.5))})
		if m := Apply(m, events...); m.Status() != message.StatusRetrying || m.InFlight() {
			t.Fatalf("got status %s in flight %v, want RETRYING false", m.Status(), m.InFlight())
		}
	})
	t.Run("temporary failure applies the jitter", func(t *testing.T) {
		m := Given[message.State](history(1)...)
		events, err := m.Record(1, message.Outcome{Temporary: true, Reply: "timeout"}, policy, now, 0)
		ThenEvents(t, events, err, message.DeliveryFailed{MessageID: "m1", TenantID: celanioID, Attempt: 1,
			Reason: "timeout", RetryAt: now.Add(policy.Delay(1, 0))})
	})
	t.Run("temporary failure of attempt MaxAttempts is MessageFailed", func(t *testing.T) {
		m := Given[message.State](history(policy.MaxAttempts)...)
		events, err := m.Record(policy.MaxAttempts, message.Outcome{Temporary: true, Code: 421, Reply: "busy"}, policy, now, 0.5)
		ThenEvents(t, events, err, message.MessageFailed{MessageID: "m1", TenantID: celanioID, Attempts: policy.MaxAttempts, Code: 421, Reason: "busy"})
	})
	t.Run("temporary failure of attempt MaxAttempts-1 still retries", func(t *testing.T) {
		m := Given[message.State](history(policy.MaxAttempts - 1)...)
		events, err := m.Record(policy.MaxAttempts-1, message.Outcome{Temporary: true, Code: 421, Reply: "busy"}, policy, now, 0.5)
		if err != nil || len(events) != 1 {
			t.Fatalf("got %v, %v, want one DeliveryFailed", events, err)
		}
		if _, ok := events[0].(message.DeliveryFailed); !ok {
			t.Fatalf("got %T, want DeliveryFailed", events[0])
		}
	})
	t.Run("permanent failure is MessageFailed at once", func(t *testing.T) {
		m := Given[message.State](history(1)...)
		events, err := m.Record(1, message.Outcome{Code: 550, Reply: "5.7.1 rejected"}, policy, now, 0.5)
		ThenEvents(t, events, err, failedAt)
		if m := Apply(m, events...); m.Status() != message.StatusFailed {
			t.Fatalf("got status %s, want FAILED", m.Status())
		}
	})
	t.Run("authentication failure is MessageFailed at once", func(t *testing.T) {
		m := Given[message.State](history(3)...)
		events, err := m.Record(3, message.Outcome{Code: 535, Reply: "5.7.8 authentication failed"}, policy, now, 0.5)
		ThenEvents(t, events, err, message.MessageFailed{MessageID: "m1", TenantID: celanioID, Attempts: 3, Code: 535, Reason: "5.7.8 authentication failed"})
	})
	t.Run("no attempt in flight is CONFLICT", func(t *testing.T) {
		m := Given[message.State](append(history(1), failed(1))...)
		events, err := m.Record(1, message.Outcome{Sent: true}, policy, now, 0.5)
		ThenError(t, events, err, domain.ErrConflict, "")
	})
	t.Run("another attempt than the one in flight is CONFLICT", func(t *testing.T) {
		m := Given[message.State](history(2)...)
		events, err := m.Record(1, message.Outcome{Sent: true}, policy, now, 0.5)
		ThenError(t, events, err, domain.ErrConflict, "")
	})
}

func TestR23_FinalMessagesRefuseFurtherSteps(t *testing.T) {
	finals := map[string][]domain.Event{
		"sent":     append(history(1), sent),
		"failed":   append(history(1), failedAt),
		"rejected": {queued, rejected},
	}
	for name, given := range finals {
		t.Run(name, func(t *testing.T) {
			m := Given[message.State](given...)
			if !m.Status().Final() {
				t.Fatalf("got status %s, want a final one", m.Status())
			}
			events, err := m.Resolve(resolution, nil)
			ThenError(t, events, err, domain.ErrConflict, "")
			events, err = m.Resolve(message.Resolution{}, &domain.Error{Code: domain.CodeFromNotAllowed})
			ThenError(t, events, err, domain.ErrConflict, "")
			events, err = m.Attempt(policy, now)
			ThenError(t, events, err, domain.ErrConflict, "")
			events, err = m.Record(1, message.Outcome{Sent: true}, policy, now, 0.5)
			ThenError(t, events, err, domain.ErrConflict, "")
			events, err = m.Fail("poison")
			ThenError(t, events, err, domain.ErrConflict, "")
			Unchanged(t, m, given...)
		})
	}
}

func TestR25_Purge(t *testing.T) {
	t.Run("purge records once", func(t *testing.T) {
		m := Given[message.State](queued)
		events, err := m.Purge("retention period ended")
		ThenEvents(t, events, err, purged)
		m = Apply(m, events...)
		if !m.Purged() {
			t.Fatal("got purged false, want true")
		}
		events, err = m.Purge("again")
		ThenEvents(t, events, err)
	})
	t.Run("purge after the end", func(t *testing.T) {
		m := Given[message.State](append(history(1), sent)...)
		events, err := m.Purge("retention period ended")
		ThenEvents(t, events, err, purged)
		if m := Apply(m, events...); m.Status() != message.StatusSent {
			t.Fatalf("got status %s, want SENT kept", m.Status())
		}
	})
	t.Run("purged twice in the stream still records nothing", func(t *testing.T) {
		m := Given[message.State](queued, purged)
		events, err := m.Purge("admin")
		ThenEvents(t, events, err)
	})
	t.Run("an unknown message is NOT_FOUND", func(t *testing.T) {
		m := Given[message.State]()
		events, err := m.Purge("x")
		ThenError(t, events, err, domain.ErrNotFound, "")
	})
}

func TestR23_Fail(t *testing.T) {
	m := Given[message.State](append(history(2), failed(2))...)
	events, err := m.Fail("the saga cannot process this message")
	ThenEvents(t, events, err, message.MessageFailed{MessageID: "m1", TenantID: celanioID, Attempts: 2, Reason: "the saga cannot process this message"})
}

func TestR23_StatusFollowsTheEvents(t *testing.T) {
	tests := []struct {
		given []domain.Event
		want  message.Status
	}{
		{[]domain.Event{queued}, message.StatusQueued},
		{[]domain.Event{queued, resolved}, message.StatusQueued},
		{history(1), message.StatusSending},
		{append(history(1), failed(1)), message.StatusRetrying},
		{append(history(1), failed(1), resolved), message.StatusRetrying},
		{append(history(1), sent), message.StatusSent},
		{append(history(1), failedAt), message.StatusFailed},
		{[]domain.Event{queued, rejected}, message.StatusRejected},
		{append(history(1), sent, purged), message.StatusSent},
	}
	for _, tc := range tests {
		var names []string
		for _, e := range tc.given {
			names = append(names, strings.TrimSuffix(e.EventName(), ".v1"))
		}
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			m := Given[message.State](tc.given...)
			if m.Status() != tc.want {
				t.Fatalf("got status %s, want %s", m.Status(), tc.want)
			}
			if m.ID() != "m1" || m.TenantID() != celanioID || !m.Exists() {
				t.Fatalf("got id %q tenant %q exists %v, want m1 %s true", m.ID(), m.TenantID(), m.Exists(), celanioID)
			}
		})
	}
}

// TestR25_EventsHoldSizesAndHashes: Describe gives the events sizes and
// SHA-256 hashes of the content, never the content itself.
func TestR25_EventsHoldSizesAndHashes(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	sum := func(b []byte) string {
		m := hmac.New(sha256.New, key)
		m.Write(b)
		return hex.EncodeToString(m.Sum(nil))
	}
	secret := []byte("Vertraulich: Gehaltsliste")
	c := message.Content{Text: "Geheimer Text", Attachments: []message.Attachment{{Filename: "gehalt.pdf", ContentType: "application/pdf", Data: secret}}}
	text, html, atts := message.Describe(c, key)
	// A plain SHA-256 would let anyone confirm a guessed body after a purge.
	plain := sha256.Sum256([]byte("Geheimer Text"))
	if text != nil && text.HMAC == hex.EncodeToString(plain[:]) {
		t.Errorf("the text's hash is unkeyed")
	}
	if text == nil || *text != (message.Part{Size: len("Geheimer Text"), HMAC: sum([]byte("Geheimer Text"))}) {
		t.Errorf("got text %+v, want size and hash", text)
	}
	if html != nil {
		t.Errorf("got html %+v, want nil for no HTML body", html)
	}
	want := []message.AttachmentInfo{{Filename: "gehalt.pdf", ContentType: "application/pdf", Size: len(secret), HMAC: sum(secret)}}
	if len(atts) != 1 || atts[0] != want[0] {
		t.Errorf("got attachments %+v, want %+v", atts, want)
	}
	q := queued
	q.Text, q.HTML, q.Attachments = text, html, atts
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"Geheimer Text", string(secret)} {
		if strings.Contains(string(b), leak) {
			t.Errorf("got event JSON %s, want it without the content %q", b, leak)
		}
	}
}

// R23: a message keeps one Message-ID from queueing on. A MessageQueued.v1
// recorded before the header was part of it derives the same one on every
// attempt (STYLE: a published event keeps its meaning).
func TestR23_HeaderMessageIDFixedAtQueueing(t *testing.T) {
	var old message.MessageQueued
	if err := json.Unmarshal([]byte(`{"messageId":"m-1","tenantId":"t","kind":"MESSAGE","from":{"address":"info@bücher.example"},"to":[],"subject":"s","size":1,"retainUntil":"2026-01-01T00:00:00Z"}`), &old); err != nil {
		t.Fatal(err)
	}
	if got, want := old.HeaderMessageID(), "<m-1@xn--bcher-kva.example>"; got != want {
		t.Errorf("event without headerMessageId: got %q, want %q", got, want)
	}
	recorded := old
	recorded.HeaderID = "<other@absender.example>"
	if got := recorded.HeaderMessageID(); got != recorded.HeaderID {
		t.Errorf("event with headerMessageId: got %q, want the recorded %q", got, recorded.HeaderID)
	}
}

func TestR23_Cancel(t *testing.T) {
	cancelled := func(attempts int) message.MessageCancelled {
		return message.MessageCancelled{MessageID: "m1", TenantID: celanioID, Attempts: attempts}
	}
	tests := []struct {
		name  string
		given []domain.Event
		want  []domain.Event
		err   error
	}{
		{"R23 QUEUED before the resolution", []domain.Event{queued}, []domain.Event{cancelled(0)}, nil},
		{"R23 QUEUED and resolved", []domain.Event{queued, resolved}, []domain.Event{cancelled(0)}, nil},
		{"R23 RETRYING", append(history(2), failed(2)), []domain.Event{cancelled(2)}, nil},
		{"R23 SENDING: the attempt won the race", history(1), nil, domain.ErrConflict},
		{"R23 SENT", append(history(1), sent), nil, domain.ErrConflict},
		{"R23 FAILED", append(history(1), failedAt), nil, domain.ErrConflict},
		{"R23 REJECTED", []domain.Event{queued, rejected}, nil, domain.ErrConflict},
		{"R23 CANCELLED already", []domain.Event{queued, cancelled(0)}, nil, domain.ErrConflict},
		{"unknown message", nil, nil, domain.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Given[message.State](tt.given...)
			events, err := m.Cancel()
			if tt.err != nil {
				ThenError(t, events, err, tt.err, "")
				Unchanged(t, m, tt.given...)
				return
			}
			ThenEvents(t, events, err, tt.want...)
			m = Apply(m, events...)
			if m.Status() != message.StatusCancelled || !m.Status().Final() || m.InFlight() {
				t.Fatalf("got status %s final %v, want CANCELLED final", m.Status(), m.Status().Final())
			}
			// R23: nothing more is sent: no attempt can follow.
			if events, err := m.Attempt(policy, now.Add(48*time.Hour)); err == nil {
				t.Fatalf("got attempt %#v after CANCELLED, want CONFLICT", events)
			}
		})
	}
}

func TestR23_RetryNow(t *testing.T) {
	later := failed(2)
	later.RetryAt = now.Add(time.Hour)
	tests := []struct {
		name  string
		given []domain.Event
		want  []domain.Event
		err   error
	}{
		{"R23 RETRYING, due later: due now", append(history(2), later),
			[]domain.Event{message.MessageRetryRequested{MessageID: "m1", TenantID: celanioID, Attempt: 3, WasDueAt: now.Add(time.Hour)}}, nil},
		{"R23 RETRYING and due already: nothing to record", append(history(2), failed(2)), nil, nil},
		{"R23 QUEUED", []domain.Event{queued, resolved}, nil, domain.ErrConflict},
		{"R23 SENDING", history(1), nil, domain.ErrConflict},
		{"R23 SENT", append(history(1), sent), nil, domain.ErrConflict},
		{"R23 CANCELLED", append(append(history(2), later), message.MessageCancelled{MessageID: "m1", TenantID: celanioID, Attempts: 2}), nil, domain.ErrConflict},
		{"unknown message", nil, nil, domain.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Given[message.State](tt.given...)
			events, err := m.RetryNow(now)
			if tt.err != nil {
				ThenError(t, events, err, tt.err, "")
				Unchanged(t, m, tt.given...)
				return
			}
			ThenEvents(t, events, err, tt.want...)
			m = Apply(m, events...)
			// The next attempt is due now and counts like any other.
			if !m.DueAt().IsZero() && m.DueAt().After(now) {
				t.Fatalf("got due at %s, want now", m.DueAt())
			}
			events, err = m.Attempt(policy, now)
			ThenEvents(t, events, err, attempted(3))
		})
	}
}

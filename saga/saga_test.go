package saga_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
	"github.com/absender/absender/transport"
	"github.com/absender/absender/transport/smtptest"
)

// env is one running Absender process (projections, saga, command layer)
// on a test database, with a tenant, a user and an SMTP server as the
// system server.
type env struct {
	t      testing.TB
	db     *database.DB
	srv    *server.Server
	stop   func()
	admin  context.Context
	user   context.Context
	tenant string
	userID string
	smtp   *smtptest.Server
}

var ring = func() *keyring.Ring {
	r, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		panic(err)
	}
	return r
}()

func ptr[T any](v T) *T { return &v }

// fastRetry makes R23's schedule quick enough for a test.
var fastRetry = message.RetryPolicy{MaxAttempts: 3, First: 20 * time.Millisecond, Factor: 1, Jitter: 0}

// run starts a process on db; opt's DB and Keyring are filled in, and its
// Log when it has none.
func run(t testing.TB, db *database.DB, opt server.Options) (*server.Server, func()) {
	t.Helper()
	opt.DB, opt.Keyring = db, ring
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			opt.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
		}
	}
	if opt.App.Retry.MaxAttempts == 0 {
		opt.App.Retry = fastRetry
	}
	if opt.Saga.Poll == 0 {
		opt.Saga.Poll = 50 * time.Millisecond
	}
	srv, err := server.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	running, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- srv.Run(ctx, running) }()
	select {
	case <-running:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	var stopped atomic.Bool
	stop := func() {
		if stopped.CompareAndSwap(false, true) {
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

// newEnv starts a process whose transports may reach loopback servers
// (the R24 check relaxed, as --allow-private-hosts does).
func newEnv(t testing.TB, db *database.DB, opt server.Options) *env {
	t.Helper()
	opt.Transport = transportLoopback()
	srv, stop := run(t, db, opt)
	e := &env{t: t, db: db, srv: srv, stop: stop}
	e.admin = app.WithRequest(t.Context(), app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "token:admin", CorrelationID: "corr-test"})
	e.smtp = smtptest.Start(t, smtptest.Config{})
	e.must(srv.App.Commands.System.ConfigureServer(e.admin, e.settings(e.smtp, "noreply@absender.example", "Absender")))
	e.must(srv.App.Commands.System.SetServerEnabled(e.admin, true))
	var err error
	if e.tenant, _, err = srv.App.Commands.Tenants.Create(e.admin, "celanio GmbH"); err != nil {
		t.Fatal(err)
	}
	if e.userID, _, err = srv.App.Commands.Users.Create(e.admin, e.tenant, "anna", "Anna Muster", "anna@celanio.example", domain.RoleEmployee); err != nil {
		t.Fatal(err)
	}
	e.user = app.WithRequest(t.Context(), app.Request{Actor: domain.Actor{UserID: e.userID, TenantID: e.tenant, Role: domain.RoleEmployee},
		Principal: "user:" + e.userID, CorrelationID: "corr-send"})
	return e
}

func (e *env) settings(s *smtptest.Server, sender, name string) app.ServerSettingsInput {
	return app.ServerSettingsInput{Host: ptr(s.Host), Port: ptr(s.Port), Encryption: "NONE", Auth: "NONE", SenderAddress: sender, SenderName: ptr(name)}
}

func (e *env) must(_ app.Result, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) send(d message.Draft) string {
	e.t.Helper()
	id, _, err := e.srv.App.Commands.Messages.Send(e.user, d, "")
	if err != nil {
		e.t.Fatalf("sendMessage: %v", err)
	}
	return id
}

// await waits for a message to reach a final status in the read model.
func (e *env) await(id string) projections.MessageRow {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := e.srv.Reader.Message(context.Background(), id)
		if err == nil && message.Status(m.Status).Final() {
			return m
		}
		if err != nil && !errors.Is(err, projections.ErrNotFound) {
			e.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("message %s not final after 30s: %+v", id, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// events returns the event types of a message's stream, in order.
func (e *env) events(id string) []string {
	e.t.Helper()
	recs, err := e.srv.Store.Load(context.Background(), app.MessageStreamID(id))
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Type
	}
	return out
}

func (e *env) resolutions(id string) []message.Resolution {
	e.t.Helper()
	recs, err := e.srv.Store.Load(context.Background(), app.MessageStreamID(id))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []message.Resolution
	for _, r := range recs {
		if tr, ok := r.Event.(message.TransportResolved); ok {
			out = append(out, tr.Resolution)
		}
	}
	return out
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func joined(s []string) string { return strings.Join(s, ",") }

// R23, R22: a message goes QUEUED → resolved → attempted → SENT through the
// system server, and the server received exactly what R22 requires: the
// envelope sender is the From address, Bcc only in the envelope, Reply-To
// and a UTF-8 subject in the headers, the attachment in the body.
func TestR23_SendsThroughTheSystemServer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		id := e.send(message.Draft{From: "noreply@absender.example", ReplyTo: "Absender <noreply@absender.example>",
			To: []string{"Bob <bob@example.org>"}, Cc: []string{"carol@example.org"}, Bcc: []string{"dave@example.org", "BOB@example.org"},
			Subject: "Grüße aus Köln", Text: "Hallo Bob", HTML: "<p>Hallo Bob</p>",
			Attachments: []message.AttachmentDraft{{Filename: "angebot.pdf", ContentType: "application/pdf", ContentBase64: base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 test"))}}})
		m := e.await(id)
		if m.Status != "SENT" || m.Attempts != 1 || m.HeaderID == nil {
			t.Fatalf("message = %+v, want SENT after 1 attempt with a Message-ID", m)
		}
		if got, want := joined(e.events(id)), "MessageQueued,TransportResolved,DeliveryAttempted,MessageSent"; got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
		ds := e.smtp.Deliveries()
		if len(ds) != 1 {
			t.Fatalf("server received %d messages, want 1", len(ds))
		}
		d := ds[0]
		if d.From != "noreply@absender.example" {
			t.Errorf("envelope sender = %q, want the From address", d.From)
		}
		if got := joined(d.Rcpts); got != "bob@example.org,carol@example.org,dave@example.org" {
			t.Errorf("envelope recipients = %s (duplicates removed, Bcc included)", got)
		}
		data := string(d.Data)
		head, body, _ := strings.Cut(data, "\r\n\r\n")
		for _, want := range []string{"Reply-To: \"Absender\" <noreply@absender.example>", "=?UTF-8?", "To: \"Bob\" <bob@example.org>", "Cc: <carol@example.org>"} {
			if !strings.Contains(head, want) {
				t.Errorf("headers lack %q:\n%s", want, head)
			}
		}
		if strings.Contains(strings.ToLower("\n"+head), "\nbcc:") || strings.Contains(head, "dave@") {
			t.Errorf("Bcc leaked into the headers:\n%s", head)
		}
		if !strings.Contains(body, "angebot.pdf") || !strings.Contains(body, base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 test"))) {
			t.Errorf("attachment missing from the body")
		}
		r := e.resolutions(id)
		if len(r) != 1 || r[0].Rule != message.RuleSystemServer || r[0].Transport != domain.TransportSystemServer ||
			r[0].Versions["system"] == 0 || r[0].Versions["tenant-"+e.tenant] == 0 || r[0].Versions["user-"+e.userID] == 0 {
			t.Errorf("resolution = %+v, want R2 system server with the configuration versions read", r)
		}
	})
}

// R16, R23: From an authenticated mailbox the user may use through a
// group grant goes through the mailbox's own server with its credentials
// (AUTH PLAIN, the stored password decrypted for the attempt), and the
// resolution names the group grant that allowed the From address.
func TestR16_MailboxWithOwnCredentialsSendsThroughItsServer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		own := smtptest.Start(t, smtptest.Config{Mechs: []string{sasl.Plain}, Users: map[string]string{"vertrieb": "s3cret-Passw0rd"}})
		in := e.settings(own, "vertrieb@celanio.example", "Vertrieb")
		in.Auth, in.Username, in.Password = "PASSWORD", ptr("vertrieb"), ptr("s3cret-Passw0rd")
		mb, _, err := e.srv.App.Commands.Mailboxes.Add(e.admin, e.tenant, app.AddMailboxInput{Address: "vertrieb@celanio.example", DisplayName: "Vertrieb", Sender: true, Settings: &in})
		if err != nil {
			t.Fatal(err)
		}
		g, _, err := e.srv.App.Commands.Groups.Create(e.admin, e.tenant, "Sales")
		if err != nil {
			t.Fatal(err)
		}
		e.must(e.srv.App.Commands.Groups.AddMember(e.admin, g, e.userID))
		e.must(e.srv.App.Commands.Mailboxes.GrantGroup(e.admin, mb, g))

		id := e.send(message.Draft{From: "Vertrieb <vertrieb@celanio.example>", To: []string{"kunde@example.org"}, Subject: "Angebot", Text: "…"})
		if m := e.await(id); m.Status != "SENT" {
			t.Fatalf("status = %s (%v), want SENT; events %s", m.Status, deref(m.LastError), joined(e.events(id)))
		}
		if n := len(e.smtp.Deliveries()); n != 0 {
			t.Errorf("system server received %d messages, want 0", n)
		}
		ds := own.Deliveries()
		if len(ds) != 1 || ds[0].From != "vertrieb@celanio.example" {
			t.Fatalf("mailbox server deliveries = %+v", ds)
		}
		auths := own.Auths()
		if len(auths) != 1 || auths[0].Username != "vertrieb" || auths[0].Password != "s3cret-Passw0rd" {
			t.Errorf("auths = %+v, want the mailbox's credentials", auths)
		}
		r := e.resolutions(id)
		// R23: the grant that allowed the From, in words and as the group grant's event.
		if len(r) != 1 || r[0].Rule != message.RuleMailbox || r[0].MailboxID != mb || !strings.Contains(r[0].GrantedBy, "group Sales") ||
			strings.Contains(r[0].GrantedBy, "group-") || r[0].Grant == nil || r[0].Grant.GroupID != g || r[0].Grant.UserID != "" ||
			r[0].Grant.Position == "" || r[0].Grant.At.IsZero() || r[0].Versions["group-"+g] == 0 {
			t.Errorf("resolution = %+v, want R16 through the mailbox granted by group Sales", r)
		}
	})
}

// R23: temporary failures (451) are retried with backoff until the server
// accepts; a permanent one (550) fails the message at once.
func TestR23_TemporaryFailuresAreRetriedPermanentOnesFail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"},
			&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "retry", Text: "x"})
		m := e.await(id)
		if m.Status != "SENT" || m.Attempts != 3 {
			t.Fatalf("message = %s after %d attempts, want SENT after 3", m.Status, m.Attempts)
		}
		want := "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed,DeliveryAttempted,DeliveryFailed,DeliveryAttempted,MessageSent"
		if got := joined(e.events(id)); got != want {
			t.Errorf("events = %s\nwant %s", got, want)
		}

		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected"})
		id = e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "permanent", Text: "x"})
		m = e.await(id)
		if m.Status != "FAILED" || m.Attempts != 1 || m.LastError == nil || !strings.Contains(*m.LastError, "550") {
			t.Fatalf("message = %s after %d attempts (%v), want FAILED after 1 with the 550", m.Status, m.Attempts, m.LastError)
		}

		// Temporary failures until no attempt is left: FAILED after MaxAttempts.
		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 421, Message: "busy"}, &smtp.SMTPError{Code: 421, Message: "busy"}, &smtp.SMTPError{Code: 421, Message: "busy"})
		id = e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "exhausted", Text: "x"})
		if m = e.await(id); m.Status != "FAILED" || m.Attempts != fastRetry.MaxAttempts {
			t.Fatalf("message = %s after %d attempts, want FAILED after %d", m.Status, m.Attempts, fastRetry.MaxAttempts)
		}
	})
}

// crashOnce abandons the first attempt after it was recorded, as a crash
// between DeliveryAttempted and the send would.
func crashOnce(n *atomic.Int32) func(context.Context, *saga.Delivery) error {
	return func(context.Context, *saga.Delivery) error {
		if n.Add(1) == 1 {
			return errors.New("simulated crash")
		}
		return nil
	}
}

// R23 crash safety: the process dies between DeliveryAttempted and the
// send; a new process resumes the message, records the unknown outcome of
// attempt 1 as an interrupted failure and sends it once, in attempt 2.
func TestR23_CrashBetweenAttemptAndSendResumesAfterRestart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var calls atomic.Int32
		timeout := attemptTimeout
		e := newEnv(t, db, server.Options{Saga: optionsWith(timeout, crashOnce(&calls))})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "crash", Text: "x"})
		waitFor(t, func() bool { return calls.Load() >= 1 })
		e.stop() // the crashed process is gone
		if n := len(e.smtp.Deliveries()); n != 0 {
			t.Fatalf("sent %d before the restart, want 0", n)
		}

		srv2, _ := run(t, db, server.Options{Transport: transportLoopback(), Saga: optionsWith(timeout, nil)})
		e.srv = srv2
		m := e.await(id)
		if m.Status != "SENT" || m.Attempts != 2 {
			t.Fatalf("message = %s after %d attempts, want SENT in attempt 2", m.Status, m.Attempts)
		}
		if n := len(e.smtp.Deliveries()); n != 1 {
			t.Errorf("server received %d copies, want exactly 1", n)
		}
		want := "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed,DeliveryAttempted,MessageSent"
		if got := joined(e.events(id)); got != want {
			t.Errorf("events = %s\nwant %s", got, want)
		}
	})
}

// R23 crash safety with group commit: the attempts of several messages
// are recorded together (the workers reach the committer at once) and the
// process dies after that commit, before anything is sent; a new process
// resumes every message and sends each exactly once, in attempt 2. An
// attempt still gathering for a group when the process dies is never
// committed and never sent: its worker waits for the commit before it
// sends.
func TestR23_CrashAfterAGroupCommitResumesEveryMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const n = 6
		var arrived, crashed atomic.Int32
		release := make(chan struct{})
		// Every attempt waits until n are decided, so they reach the
		// committer together.
		barrier := func(context.Context, string) {
			if arrived.Add(1) == n {
				close(release)
			}
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
		crash := func(context.Context, *saga.Delivery) error {
			crashed.Add(1)
			return errors.New("simulated crash")
		}
		e := newEnv(t, db, server.Options{App: app.Config{BeforeAttemptAppend: barrier}, Saga: optionsWith(attemptTimeout, crash)})
		ids := make([]string, n)
		for i := range ids {
			ids[i] = e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: fmt.Sprintf("group %d", i), Text: "x"})
		}
		waitFor(t, func() bool { return crashed.Load() >= n })
		e.stop() // the crashed process is gone
		if got := len(e.smtp.Deliveries()); got != 0 {
			t.Fatalf("sent %d before the restart, want 0", got)
		}
		txs := map[uint64]int{}
		for _, id := range ids {
			recs, err := e.srv.Store.Load(context.Background(), app.MessageStreamID(id))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Type == "DeliveryAttempted" {
					txs[r.Position.TxID]++
				}
			}
		}
		if db.Kind == database.Postgres {
			// The n attempts reach the committer together (barrier): the
			// first is written alone, the others gather meanwhile and
			// are written as one group or few. Without grouping each
			// would be a transaction of its own.
			if len(txs) >= n {
				t.Errorf("%d attempts recorded in %d transactions, want fewer transactions than attempts (group commit)", n, len(txs))
			} else {
				t.Logf("%d attempts recorded in %d transactions", n, len(txs))
			}
		}

		srv2, _ := run(t, db, server.Options{Transport: transportLoopback(), Saga: optionsWith(attemptTimeout, nil)})
		e.srv = srv2
		want := "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed,DeliveryAttempted,MessageSent"
		for _, id := range ids {
			if m := e.await(id); m.Status != "SENT" || m.Attempts != 2 {
				t.Errorf("message %s = %s after %d attempts, want SENT in attempt 2", id, m.Status, m.Attempts)
			}
			if got := joined(e.events(id)); got != want {
				t.Errorf("events of %s = %s\nwant %s", id, got, want)
			}
		}
		if got := len(e.smtp.Deliveries()); got != n {
			t.Errorf("server received %d copies, want exactly %d", got, n)
		}
	})
}

// R23 Message-ID: the process dies after the server took the message but
// before MessageSent was recorded; the new process sends it again (R23
// cannot rule that copy out over SMTP), and the copy carries the same
// Message-ID as the first, fixed at queueing, so the receiver recognises
// it. Before, every attempt made a new one.
func TestR23_CopyAfterACrashKeepsTheMessageID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// The attempt's deadline is the send's: long, so only the stop ends it.
		e := newEnv(t, db, server.Options{Saga: optionsWith(30*time.Second, nil)})
		hang := make(chan struct{})
		srv := smtptest.Start(t, smtptest.Config{Hang: hang})
		e.must(e.srv.App.Commands.System.ConfigureServer(e.admin, e.settings(srv, "noreply@absender.example", "Absender")))
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "twice", Text: "x"})
		waitFor(t, func() bool { return srv.Held() >= 1 }) // the server has the whole message
		e.stop()                                           // the process dies before it hears 250
		close(hang)                                        // the server delivers the first copy
		waitFor(t, func() bool { return len(srv.Deliveries()) >= 1 })

		srv2, _ := run(t, db, server.Options{Transport: transportLoopback(), Saga: optionsWith(attemptTimeout, nil)})
		e.srv = srv2
		m := e.await(id)
		if m.Status != "SENT" {
			t.Fatalf("message = %s, want SENT", m.Status)
		}
		ds := srv.Deliveries()
		if len(ds) < 2 {
			t.Fatalf("server received %d copies, want the original and the copy", len(ds))
		}
		for i, d := range ds {
			msg, err := mail.ReadMessage(bytes.NewReader(d.Data))
			if err != nil {
				t.Fatalf("copy %d: %v", i+1, err)
			}
			if got, want := msg.Header.Get("Message-ID"), deref(m.HeaderID); got != want || want == "" {
				t.Errorf("copy %d: got Message-ID %q, want %q (recorded as sent) in every copy", i+1, got, want)
			}
		}
	})
}

// R23, R17: a grant revoked between queueing and delivery ends the message
// in MessageRejected (FROM_NOT_ALLOWED) at the next attempt; nothing is
// sent. A changed mailbox server is resolved again and used.
func TestR23_RecheckBeforeEachAttempt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var calls atomic.Int32
		gate := make(chan struct{})
		hook := func(ctx context.Context, d *saga.Delivery) error {
			if calls.Add(1) == 1 {
				<-gate // the first attempt is recorded; configuration changes now
				return errors.New("simulated crash")
			}
			return nil
		}
		e := newEnv(t, db, server.Options{Saga: optionsWith(attemptTimeout, hook)})
		first := smtptest.Start(t, smtptest.Config{})
		second := smtptest.Start(t, smtptest.Config{})
		in := e.settings(first, "info@celanio.example", "Info")
		mb, _, err := e.srv.App.Commands.Mailboxes.Add(e.admin, e.tenant, app.AddMailboxInput{Address: "info@celanio.example", DisplayName: "Info", Sender: true, Settings: &in})
		if err != nil {
			t.Fatal(err)
		}
		e.must(e.srv.App.Commands.Mailboxes.GrantUser(e.admin, mb, e.userID))

		// The mailbox moves to another server after the first attempt.
		id := e.send(message.Draft{From: "info@celanio.example", To: []string{"bob@example.org"}, Subject: "moved", Text: "x"})
		waitFor(t, func() bool { return calls.Load() >= 1 })
		moved := e.settings(second, "info@celanio.example", "Info")
		e.must(e.srv.App.Commands.Mailboxes.Update(e.admin, mb, app.UpdateMailboxInput{Settings: &moved}))
		close(gate)
		if m := e.await(id); m.Status != "SENT" {
			t.Fatalf("status = %s (%v), want SENT; events %s", m.Status, deref(m.LastError), joined(e.events(id)))
		}
		if len(first.Deliveries()) != 0 || len(second.Deliveries()) != 1 {
			t.Errorf("deliveries: first server %d, second %d; want 0 and 1", len(first.Deliveries()), len(second.Deliveries()))
		}
		if rs := e.resolutions(id); len(rs) != 2 || rs[0].Versions["mailbox-"+mb] >= rs[1].Versions["mailbox-"+mb] {
			t.Errorf("resolutions = %+v, want a second one after the change", rs)
		}

		// The grant is revoked after the first attempt of the next message.
		calls.Store(0)
		gate = make(chan struct{})
		id = e.send(message.Draft{From: "info@celanio.example", To: []string{"bob@example.org"}, Subject: "revoked", Text: "x"})
		waitFor(t, func() bool { return calls.Load() >= 1 })
		bert, _, err := e.srv.App.Commands.Users.Create(e.admin, e.tenant, "bert", "Bert", "bert@celanio.example", domain.RoleEmployee)
		if err != nil {
			t.Fatal(err)
		}
		e.must(e.srv.App.Commands.Mailboxes.GrantUser(e.admin, mb, bert)) // stays restricted (R11)
		e.must(e.srv.App.Commands.Mailboxes.RevokeUser(e.admin, mb, e.userID))
		close(gate)
		m := e.await(id)
		if m.Status != "REJECTED" || m.LastError == nil || !strings.HasPrefix(*m.LastError, "FROM_NOT_ALLOWED") {
			t.Fatalf("message = %s (%v), want REJECTED with FROM_NOT_ALLOWED", m.Status, m.LastError)
		}
		if n := len(second.Deliveries()); n != 1 {
			t.Errorf("the revoked message was sent (%d deliveries)", n)
		}
	})
}

// attemptTimeout is the tests' attempt timeout: more than a whole send.
const attemptTimeout = time.Second

func transportLoopback() transport.Options {
	// Short timeouts, so attempts may time out within a test (an attempt's
	// timeout must exceed them; see attemptTimeout).
	return transport.Options{AllowPrivateHosts: true, ConnectTimeout: 300 * time.Millisecond, SendTimeout: 600 * time.Millisecond}
}

// optionsWith are saga options with a short attempt timeout and a hook
// between the recorded attempt and the send.
func optionsWith(timeout time.Duration, before func(context.Context, *saga.Delivery) error) saga.Options {
	return saga.Options{AttemptTimeout: timeout, BeforeSend: before, Poll: 50 * time.Millisecond}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// R24: a mailbox pointed at 127.0.0.1:5432 (a database, not a mail server)
// is refused at connect time unless private hosts are allowed; the message
// fails permanently with the reason, and nothing reaches the port.
func TestR24_PrivateHostsRefusedUnlessAllowed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		e.stop()
		srv, _ := run(t, db, server.Options{Transport: transport.Options{ConnectTimeout: 2 * time.Second}})
		e.srv = srv
		in := app.ServerSettingsInput{Host: ptr("127.0.0.1"), Port: ptr(5432), Encryption: "NONE", Auth: "NONE", SenderAddress: "probe@celanio.example"}
		if _, _, err := e.srv.App.Commands.Mailboxes.Add(e.admin, e.tenant, app.AddMailboxInput{Address: "probe@celanio.example", DisplayName: "Probe", Sender: true, Settings: &in}); err != nil {
			t.Fatal(err)
		}
		id := e.send(message.Draft{From: "probe@celanio.example", To: []string{"bob@example.org"}, Subject: "probe", Text: "x"})
		m := e.await(id)
		if m.Status != "FAILED" || m.Attempts != 1 || m.LastError == nil || !strings.Contains(*m.LastError, "loopback") {
			t.Fatalf("message = %s after %d attempts (%v), want FAILED at once, naming the loopback address", m.Status, m.Attempts, m.LastError)
		}
	})
}

// R1, R6: with the system server disabled nothing is sent (SENDING_DISABLED
// before anything else, no message left behind), but a test mail through
// it is delivered.
func TestR1_DisabledSystemServerSendsOnlyTestMails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		e.must(e.srv.App.Commands.System.SetServerEnabled(e.admin, false))
		_, _, err := e.srv.App.Commands.Messages.Send(e.user, message.Draft{From: "not-even-an-option@example.org", To: []string{"bob@example.org"}, Subject: "x"}, "")
		if !errors.Is(err, domain.ErrSendingDisabled) {
			t.Fatalf("sendMessage = %v, want SENDING_DISABLED", err)
		}
		head, _ := e.srv.Store.Head(context.Background())
		id, _, err := e.srv.App.Commands.Messages.SendTestMail(e.admin, "", "", "admin@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if m := e.await(id); m.Status != "SENT" {
			t.Fatalf("test mail = %s (%v), want SENT", m.Status, m.LastError)
		}
		ds := e.smtp.Deliveries()
		if len(ds) != 1 || joined(ds[0].Rcpts) != "admin@example.org" {
			t.Fatalf("deliveries = %+v, want only the test mail", ds)
		}
		recs, _ := e.srv.Store.ReadAll(context.Background(), eventstore.Position{}, 10000)
		for _, r := range recs {
			if q, ok := r.Event.(message.MessageQueued); ok && q.Kind != message.KindTest {
				t.Errorf("a refused message left %s behind (log head was %s)", r.Type, head)
			}
		}
		// A tenant without a server of its own has nothing to test (R6).
		if _, _, err := e.srv.App.Commands.Messages.SendTestMail(e.admin, e.tenant, "", "admin@example.org"); !errors.Is(err, &domain.Error{Code: domain.CodeInvalidInput, Field: "tenantId"}) {
			t.Errorf("test mail for a tenant without server = %v, want INVALID_INPUT tenantId", err)
		}
	})
}

// R25: bodies and attachments are not in the events (sizes and hashes
// are), the stored content is ciphertext, and a purge erases it while the
// history stays; a message purged before its attempt fails.
func TestR25_ContentOutsideEventsEncryptedAndPurgeable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		const secretBody = "Geheimer Inhalt 4711"
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "Vertraulich", Text: secretBody})
		e.await(id)
		recs, err := e.srv.Store.Load(context.Background(), app.MessageStreamID(id))
		if err != nil {
			t.Fatal(err)
		}
		q := recs[0].Event.(message.MessageQueued)
		if strings.Contains(string(recs[0].Data), "4711") || q.Text == nil || q.Text.Size != len(secretBody) || len(q.Text.HMAC) != 64 {
			t.Errorf("MessageQueued = %s; want the body as size and hash only", recs[0].Data)
		}
		var stored []byte
		if err := db.Read.QueryRowContext(context.Background(), `SELECT content FROM message_contents WHERE message_id = ?`, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if len(stored) == 0 || bytes.Contains(stored, []byte("4711")) {
			t.Errorf("stored content is not ciphertext")
		}
		if c, err := app.NewSagaPort(e.srv.App).MessageContent(context.Background(), id); err != nil || c.Text != secretBody {
			t.Fatalf("content = %q, %v", c.Text, err)
		}
		e.must(e.srv.App.Commands.Messages.PurgeContent(e.admin, id, "administrator"))
		e.must(e.srv.App.Commands.Messages.PurgeContent(e.admin, id, "administrator")) // twice: no second event
		if _, err := app.NewSagaPort(e.srv.App).MessageContent(context.Background(), id); !errors.Is(err, app.ErrContentPurged) {
			t.Errorf("content after purge: %v, want ErrContentPurged", err)
		}
		if got := joined(e.events(id)); got != "MessageQueued,TransportResolved,DeliveryAttempted,MessageSent,MessageContentPurged" {
			t.Errorf("events = %s", got)
		}
	})
}

// R25: the retention period erases content by itself.
func TestR25_RetentionPurges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{App: app.Config{MessageRetention: time.Millisecond}, Saga: saga.Options{Sweep: 50 * time.Millisecond}})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "kurz", Text: "x"})
		e.await(id)
		waitFor(t, func() bool {
			_, err := app.NewSagaPort(e.srv.App).MessageContent(context.Background(), id)
			return errors.Is(err, app.ErrContentPurged)
		})
		waitFor(t, func() bool { return strings.HasSuffix(joined(e.events(id)), "MessageContentPurged") })
	})
}

// R25: retention purges finished messages only, and a message still
// being delivered past its retention does not hold back a finished one
// behind it: PurgeExpired pages through the content store's expired
// contents and asks the messages read model which are finished.
func TestR25_RetentionSkipsUnfinishedMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		slow := message.RetryPolicy{MaxAttempts: 3, First: time.Hour, Factor: 1}
		e := newEnv(t, db, server.Options{App: app.Config{Retry: slow, MessageRetention: time.Millisecond}, Saga: saga.Options{Sweep: time.Hour}})
		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 451, Message: "later"})
		retrying := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "retrying", Text: "x"})
		waitFor(t, func() bool { return strings.HasSuffix(joined(e.events(retrying)), "DeliveryFailed") })
		sent := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "sent", Text: "x"})
		e.await(sent)
		n, err := app.NewSagaPort(e.srv.App).PurgeExpired(context.Background(), 1) // the retrying message's content expired first
		if err != nil || n != 1 {
			t.Fatalf("PurgeExpired(1): got %d, %v, want 1 purged", n, err)
		}
		if _, err := app.NewSagaPort(e.srv.App).MessageContent(context.Background(), sent); !errors.Is(err, app.ErrContentPurged) {
			t.Errorf("content of the sent message: got %v, want ErrContentPurged", err)
		}
		if _, err := app.NewSagaPort(e.srv.App).MessageContent(context.Background(), retrying); err != nil {
			t.Errorf("content of the retrying message: got %v, want it kept until the message is finished", err)
		}
	})
}

// R23: the same idempotency key of the same user returns the same message
// and sends once; another user's same key is another message.
func TestR23_IdempotencyKeyScopedToTheUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		d := message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "once", Text: "x"}
		a, _, err := e.srv.App.Commands.Messages.Send(e.user, d, "order-42")
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := e.srv.App.Commands.Messages.Send(e.user, d, "order-42")
		if err != nil || a != b {
			t.Fatalf("replay = %s, %v; want %s", b, err, a)
		}
		other, _, err := e.srv.App.Commands.Users.Create(e.admin, e.tenant, "otto", "Otto", "otto@celanio.example", domain.RoleEmployee)
		if err != nil {
			t.Fatal(err)
		}
		ctx := app.WithRequest(t.Context(), app.Request{Actor: domain.Actor{UserID: other, TenantID: e.tenant, Role: domain.RoleEmployee}, Principal: "user:" + other})
		c, _, err := e.srv.App.Commands.Messages.Send(ctx, d, "order-42")
		if err != nil || c == a {
			t.Fatalf("other user's message = %s, %v; want a new one", c, err)
		}
		e.await(a)
		e.await(c)
		if n := len(e.smtp.Deliveries()); n != 2 {
			t.Errorf("server received %d messages, want 2", n)
		}
	})
}

// R7: a support request goes to the support address, From the tenant's
// system mailbox, Reply-To the user, with the system information but no
// secret; without a support address it is INVALID_INPUT supportAddress.
func TestR7_SupportRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{App: app.Config{Version: "1.2.3"}})
		if _, _, err := e.srv.App.Commands.Messages.SubmitSupportRequest(e.user, "Hilfe", "Es geht nicht"); !errors.Is(err, &domain.Error{Code: domain.CodeInvalidInput, Field: "supportAddress"}) {
			t.Fatalf("without support address: %v, want INVALID_INPUT supportAddress", err)
		}
		relay := smtptest.Start(t, smtptest.Config{Mechs: []string{sasl.Login}, Users: map[string]string{"relay": "relay-Secret-99"}})
		in := e.settings(relay, "noreply@absender.example", "Absender")
		in.Auth, in.Username, in.Password = "PASSWORD", ptr("relay"), ptr("relay-Secret-99")
		e.must(e.srv.App.Commands.System.ConfigureServer(e.admin, in))
		e.must(e.srv.App.Commands.System.ConfigureSupport(e.admin, ptr("support@absender.example"), false, true))
		id, _, err := e.srv.App.Commands.Messages.SubmitSupportRequest(e.user, "Hilfe", "Es geht nicht")
		if err != nil {
			t.Fatal(err)
		}
		if m := e.await(id); m.Status != "SENT" {
			t.Fatalf("status = %s (%v)", m.Status, deref(m.LastError))
		}
		if a := relay.Auths(); len(a) != 1 || a[0].Mech != sasl.Login {
			t.Errorf("auths = %+v, want one AUTH LOGIN", a)
		}
		d := relay.Deliveries()[0]
		data := string(d.Data)
		if d.From != "noreply@absender.example" || joined(d.Rcpts) != "support@absender.example" ||
			!strings.Contains(data, "Reply-To: \"Anna Muster\" <anna@celanio.example>") || !strings.Contains(data, "Absender 1.2.3") {
			t.Errorf("support mail: from %s to %v\n%s", d.From, d.Rcpts, data)
		}
		if strings.Contains(data, "relay-Secret-99") {
			t.Error("the support mail contains the server password")
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// R23: a temporary failure waits for its backoff; no worker — woken by the
// failure's own commit, or finding a stale due time in the schedule —
// attempts the message again before its retry time.
func TestR23_RetryWaitsForTheBackoff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		slow := message.RetryPolicy{MaxAttempts: 3, First: time.Hour, Factor: 1}
		e := newEnv(t, db, server.Options{App: app.Config{Retry: slow}})
		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 451, Message: "later"})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "backoff", Text: "x"})
		waitFor(t, func() bool { return strings.HasSuffix(joined(e.events(id)), "DeliveryFailed") })
		// The resolver alone writes the schedule: the test changes the
		// row only once the resolver has scheduled the retry, so it does
		// not race the resolver's transaction.
		waitFor(t, func() bool {
			var due int64
			err := db.Read.NewRaw(`SELECT due_at FROM saga_schedule WHERE message_id = ?`, id).Scan(context.Background(), &due)
			return err == nil && due > time.Now().Add(30*time.Minute).UnixMilli()
		})
		// Every due row, stale or not, is offered to the workers now.
		if _, err := db.Write.NewRaw(`UPDATE saga_schedule SET due_at = 0 WHERE message_id = ?`, id).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			var due int64
			// The message is due when its schedule row says, or, while a
			// worker's lease on that row holds, when the lease ends.
			err := db.Read.NewRaw(`SELECT l.until FROM saga_leases l JOIN saga_schedule s ON s.message_id = l.message_id AND s.rev = l.rev
				WHERE l.message_id = ?`, id).Scan(context.Background(), &due)
			return err == nil && due > time.Now().Add(30*time.Minute).UnixMilli() // a worker looked and put it back
		})
		if got := joined(e.events(id)); got != "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed" {
			t.Fatalf("events = %s; the retry ran before its backoff", got)
		}
	})
}

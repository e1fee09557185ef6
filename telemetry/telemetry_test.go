package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server"
	"github.com/absender/absender/server/servertest"
	"github.com/absender/absender/telemetry"
	"github.com/absender/absender/transport/smtptest"
)

// One telemetry for the test process (it installs the global providers),
// with every span recorded in memory.
var (
	spans = tracetest.NewInMemoryExporter()
	tel   *telemetry.Telemetry
)

func TestMain(m *testing.M) {
	var err error
	tel, err = telemetry.Setup(context.Background(), telemetry.Options{Version: "test", SpanExporter: spans,
		Getenv: func(string) string { return "" }})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	_ = tel.Shutdown(context.Background())
	os.Exit(code)
}

// fixture is a running server with an SMTP server as its system server, a
// tenant and an employee's token.
type fixture struct {
	in    *servertest.Instance
	smtp  *smtptest.Server
	user  string // token
	admin string
}

func start(t *testing.T, db *database.DB, log *slog.Logger, cfg smtptest.Config) *fixture {
	t.Helper()
	f := &fixture{smtp: smtptest.Start(t, cfg)}
	f.in = servertest.StartWith(t, db, server.Options{Metrics: tel.Metrics, Log: log})
	f.admin = f.in.Admin
	f.in.MustDo(t, f.admin, `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ configured } }`, map[string]any{"i": map[string]any{
		"host": f.smtp.Host, "port": f.smtp.Port, "encryption": "NONE", "auth": "NONE", "senderAddress": "noreply@absender.example"}}, nil)
	f.in.MustDo(t, f.admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
	var tn struct{ CreateTenant struct{ ID string } }
	f.in.MustDo(t, f.admin, `mutation{ createTenant(name:"Trace GmbH"){ id } }`, nil, &tn)
	var u struct{ CreateUser struct{ ID string } }
	f.in.MustDo(t, f.admin, `mutation($t:ID!){ createUser(tenantId:$t, loginName:"tina", displayName:"Tina", email:"tina@trace.example", role:EMPLOYEE){ id } }`,
		map[string]any{"t": tn.CreateTenant.ID}, &u)
	var tok struct{ IssueApiToken string }
	f.in.MustDo(t, f.admin, `mutation($u:ID!){ issueApiToken(userId:$u, name:"t") }`, map[string]any{"u": u.CreateUser.ID}, &tok)
	f.user = tok.IssueApiToken
	return f
}

func (f *fixture) send(t *testing.T, from, subject string) string {
	t.Helper()
	var v struct{ SendMessage struct{ ID string } }
	f.in.MustDo(t, f.user, `mutation($i:SendMessageInput!){ sendMessage(input:$i){ id } }`, map[string]any{"i": map[string]any{
		"from": from, "to": []string{"kunde@dest.example"}, "subject": subject, "text": "Hallo"}}, &v)
	return v.SendMessage.ID
}

func (f *fixture) await(t *testing.T, id, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var v struct{ Message struct{ Status string } }
		f.in.MustDo(t, f.user, `query($id:ID!){ message(id:$id){ status } }`, map[string]any{"id": id}, &v)
		if v.Message.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s is %s after 30 s, want %s", id, v.Message.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 6: one connected trace from the HTTP sendMessage request to the
// SMTP server's acceptance, with the command, the appends, the
// projections and the saga's attempt inside it — across the asynchronous
// hops, carried in event metadata. (The directory ignores message events.)
func TestOneTraceFromSendMessageToSMTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := start(t, db, nil, smtptest.Config{})
		spans.Reset()
		id := f.send(t, "noreply@absender.example", "traced")
		f.await(t, id, "SENT")

		// The trace of the command that queued the message.
		var traceID string
		waitSpans(t, func(ss tracetest.SpanStubs) bool {
			for _, s := range ss {
				if s.Name == "command sendMessage" {
					traceID = s.SpanContext.TraceID().String()
				}
			}
			// Spans are recorded when they end: wait for the attempt's, and
			// for every parent of a recorded span.
			return traceID != "" && has(inTrace(ss, traceID), "saga.attempt") && connected(inTrace(ss, traceID))
		})
		trace := inTrace(spans.GetSpans(), traceID)
		for _, want := range []string{"POST /graphql", "graphql mutation ", "command sendMessage", "eventstore.append",
			"projection messages", "projection audit", "saga.attempt", "saga.resolve", "smtp.send"} {
			if !hasExactly(trace, want) {
				t.Errorf("the trace lacks a %q span; it has %v", want, names(trace))
			}
		}
		// Connected: one root (the HTTP request), every other span's parent
		// is in the trace.
		ids := map[string]bool{}
		for _, s := range trace {
			ids[s.SpanContext.SpanID().String()] = true
		}
		roots := 0
		for _, s := range trace {
			if !s.Parent.IsValid() {
				roots++
				if s.Name != "POST /graphql" {
					t.Errorf("root span %q, want the HTTP request", s.Name)
				}
			} else if !ids[s.Parent.SpanID().String()] {
				t.Errorf("span %q has a parent outside the trace", s.Name)
			}
		}
		if roots != 1 {
			t.Errorf("the trace has %d roots, want 1", roots)
		}
	})
}

// connected reports whether every span's parent is in the trace.
func connected(trace tracetest.SpanStubs) bool {
	ids := map[string]bool{}
	for _, s := range trace {
		ids[s.SpanContext.SpanID().String()] = true
	}
	for _, s := range trace {
		if s.Parent.IsValid() && !ids[s.Parent.SpanID().String()] {
			return false
		}
	}
	return true
}

func waitSpans(t *testing.T, done func(tracetest.SpanStubs) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done(spans.GetSpans()) {
		if time.Now().After(deadline) {
			all := spans.GetSpans()
			ids := map[string]string{}
			for _, s := range all {
				ids[s.SpanContext.SpanID().String()] = s.Name
			}
			var orphans []string
			for _, s := range all {
				if s.Parent.IsValid() && ids[s.Parent.SpanID().String()] == "" {
					orphans = append(orphans, s.Name+" (trace "+s.SpanContext.TraceID().String()[:8]+")")
				}
			}
			t.Fatalf("spans not complete after 10 s: %v; spans whose parent is not recorded: %v", names(all), orphans)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func inTrace(ss tracetest.SpanStubs, traceID string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range ss {
		if s.SpanContext.TraceID().String() == traceID {
			out = append(out, s)
		}
	}
	return out
}

func has(ss tracetest.SpanStubs, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s.Name, prefix) {
			return true
		}
	}
	return false
}

func hasExactly(ss tracetest.SpanStubs, name string) bool {
	for _, s := range ss {
		if s.Name == name {
			return true
		}
	}
	return false
}

func names(ss tracetest.SpanStubs) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

var _ sdktrace.SpanExporter = spans

// Issue 6: /metrics after a scripted workload shows the commands by type
// and outcome, events appended, messages by status and transport, the
// delivery latency, retries, token failures and the projection lag gauge.
func TestMetricsAfterAWorkload(t *testing.T) {
	f := start(t, dbtest.SQLite(t), nil, smtptest.Config{DataReplies: []error{&smtp.SMTPError{Code: 451, Message: "later"}}})
	before := samples(scrape(t, f.in.URL))               // other tests of this process count too: compare
	id := f.send(t, "noreply@absender.example", "first") // 451 first: retried later
	// The first message has its 451 before the second is queued: two
	// workers attempting both at once could give the 451 to either.
	f.await(t, id, "RETRYING")
	ok := f.send(t, "noreply@absender.example", "second")
	f.await(t, ok, "SENT")
	if r := f.in.Do(t, f.user, `mutation($i:SendMessageInput!){ sendMessage(input:$i){ id } }`, map[string]any{"i": map[string]any{
		"from": "not-mine@dest.example", "to": []string{"x@dest.example"}, "subject": "s"}}); len(r.Errors) == 0 {
		t.Fatal("sending from a foreign address succeeded")
	}
	f.in.Do(t, "abs_bogus_token", `{ viewer { id } }`, nil)

	body := scrape(t, f.in.URL)
	after := samples(body)
	for series, want := range map[string]float64{
		`absender_commands_total{command="sendMessage",outcome="ok"}`:               2,
		`absender_commands_total{command="sendMessage",outcome="FROM_NOT_ALLOWED"}`: 1,
		`absender_events_appended_total{stream_type="message"}`:                     8, // 2× (queued, resolved, attempted), sent, failed
		`absender_messages_total{status="QUEUED",transport=""}`:                     2,
		`absender_messages_total{status="SENT",transport="SYSTEM_SERVER"}`:          1,
		`absender_delivery_retries_total{transport="SYSTEM_SERVER"}`:                1,
		`absender_delivery_latency_seconds_count{transport="SYSTEM_SERVER"}`:        1,
		`absender_auth_failures_total{reason="refused"}`:                            1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	for _, gauge := range []string{`absender_projection_lag_events{projection="messages"}`, `absender_projection_lag_seconds{projection="audit"}`,
		`absender_projection_lag_events{projection="saga"}`} {
		if _, ok := after[gauge]; !ok {
			t.Errorf("/metrics lacks the gauge %s", gauge)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grep(body, "absender_"))
	}
}

// Review of issue 12: a mutation refused before it reaches its command —
// by authorization (FORBIDDEN), the target's lookup (NOT_FOUND) or an
// argument check (INVALID_INPUT) — is counted once under its name, with
// its span, like one its command refused; an accepted mutation is still
// counted once (by its command's decorator, not again by the API).
func TestRefusedMutationsAreCountedOnce(t *testing.T) {
	f := start(t, dbtest.SQLite(t), nil, smtptest.Config{})
	before := samples(scrape(t, f.in.URL))
	spans.Reset()
	for _, tc := range []struct {
		token, query, code string
	}{
		{f.user, `mutation{ createTenant(name:"Forbidden GmbH"){ id } }`, "FORBIDDEN"},
		{f.admin, `mutation{ deleteGroup(groupId:"no-such-group") }`, "NOT_FOUND"},
		{f.admin, `mutation{ deleteGroup(groupId:"bad\u0001id") }`, "INVALID_INPUT"},
		{f.admin, `mutation{ createTenant(name:"Accepted GmbH"){ id } }`, ""},
	} {
		if got := f.in.Do(t, tc.token, tc.query, nil).Code(); got != tc.code {
			t.Fatalf("%s: got code %q, want %q", tc.query, got, tc.code)
		}
	}
	after := samples(scrape(t, f.in.URL))
	for series, want := range map[string]float64{
		`absender_commands_total{command="createTenant",outcome="FORBIDDEN"}`:    1,
		`absender_commands_total{command="createTenant",outcome="ok"}`:           1,
		`absender_commands_total{command="deleteGroup",outcome="NOT_FOUND"}`:     1,
		`absender_commands_total{command="deleteGroup",outcome="INVALID_INPUT"}`: 1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	outcomes := map[string][]string{}
	for _, s := range spans.GetSpans() {
		if name, ok := strings.CutPrefix(s.Name, "command "); ok {
			for _, kv := range s.Attributes {
				if kv.Key == "absender.outcome" {
					outcomes[name] = append(outcomes[name], kv.Value.AsString())
				}
			}
		}
	}
	for name, want := range map[string][]string{"createTenant": {"FORBIDDEN", "ok"}, "deleteGroup": {"NOT_FOUND", "INVALID_INPUT"}} {
		if got := outcomes[name]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("spans %q: outcomes %v, want %v", "command "+name, got, want)
		}
	}
}

// samples reads the exposition's samples by series.
func samples(body string) map[string]float64 {
	out := map[string]float64{}
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if v, err := strconv.ParseFloat(l[i+1:], 64); err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Issue 6: the log of a failing delivery is JSON, each line of the
// message's handling carries its trace id, correlation id, tenant and
// actor, and no secret appears — not the server's password, not in the
// server's own rejection.
func TestLogsOfAFailingDelivery(t *testing.T) {
	var buf syncBuffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), server.LogContext))
	const secret = "Geheim-Passw0rt-4711"
	f := start(t, dbtest.SQLite(t), log, smtptest.Config{Mechs: []string{sasl.Plain}, Users: map[string]string{"relay": secret},
		// A server that echoes the password in its rejection: the
		// transport must redact it before anything records the reply.
		DataReplies: []error{&smtp.SMTPError{Code: 554, Message: "no thanks, " + secret}}})
	f.in.MustDo(t, f.admin, `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ configured } }`, map[string]any{"i": map[string]any{
		"host": f.smtp.Host, "port": f.smtp.Port, "encryption": "NONE", "auth": "PASSWORD", "username": "relay", "password": secret,
		"senderAddress": "noreply@absender.example"}}, nil)
	id := f.send(t, "noreply@absender.example", "doomed")
	f.await(t, id, "FAILED")

	var failed map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for failed == nil {
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("a log line is not JSON: %q", line)
			}
			if rec["msg"] == "saga: message failed" && rec["message"] == id {
				failed = rec
			}
		}
		if failed == nil && time.Now().After(deadline) {
			t.Fatalf("no \"message failed\" line for %s in:\n%s", id, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, key := range []string{"trace_id", "span_id", "correlation_id", "tenant_id", "actor", "attempt", "transport", "reason"} {
		if v, _ := failed[key].(string); v == "" && failed[key] == nil {
			t.Errorf("the failure line lacks %s: %v", key, failed)
		}
	}
	if !strings.Contains(failed["reason"].(string), "554") {
		t.Errorf("reason = %v, want the server's 554", failed["reason"])
	}
	if strings.Contains(buf.String(), secret) {
		t.Error("the log contains the server password")
	}
	var v struct{ Message struct{ LastError string } }
	f.in.MustDo(t, f.admin, `query($id:ID!){ message(id:$id){ lastError } }`, map[string]any{"id": id}, &v)
	if strings.Contains(v.Message.LastError, secret) || !strings.Contains(v.Message.LastError, "554") {
		t.Errorf("lastError = %q, want the 554 without the password", v.Message.LastError)
	}
	for _, s := range spans.GetSpans() {
		for _, ev := range s.Events {
			for _, a := range ev.Attributes {
				if strings.Contains(a.Value.Emit(), secret) {
					t.Errorf("span %q records the password in event %q", s.Name, ev.Name)
				}
			}
		}
		if strings.Contains(s.Status.Description, secret) {
			t.Errorf("span %q has the password in its status", s.Name)
		}
	}
}

// An append on SQLite that applies a caught-up projection itself (the
// inline apply, issue 13) names its span as a consumer does —
// "projection <name>" — and marks it absender.inline, so a trace has the
// same spans whichever path applied the events. (The trace test above
// failed in CI when the inline path won the race and named its span
// "projection messages inline".)
func TestInlineApplySpanIsNamedAsTheConsumers(t *testing.T) {
	f := start(t, dbtest.SQLite(t), nil, smtptest.Config{})
	// Each mutation on a quiet server finds its projections caught up; a
	// few in a row, in case a consumer's round still runs at the first.
	var inline tracetest.SpanStubs
	for i := 0; i < 5 && len(inline) == 0; i++ {
		spans.Reset()
		f.in.MustDo(t, f.admin, `mutation($n:String!){ createTenant(name:$n){ id } }`, map[string]any{"n": "Inline " + strconv.Itoa(i)}, nil)
		for _, s := range spans.GetSpans() {
			for _, a := range s.Attributes {
				if a.Key == "absender.inline" && a.Value.AsBool() {
					inline = append(inline, s)
				}
			}
		}
	}
	if len(inline) == 0 {
		t.Fatal("no append applied a projection inline in five quiet mutations")
	}
	for _, s := range inline {
		if !strings.HasPrefix(s.Name, "projection ") || strings.HasSuffix(s.Name, " inline") {
			t.Errorf("inline apply span %q, want \"projection <name>\"", s.Name)
		}
	}
	if !hasExactly(inline, "projection directory") {
		t.Errorf("no inline span for the directory's apply of createTenant; inline spans %v", names(inline))
	}
}

package saga_test

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/observe/observetest"
	"github.com/absender/absender/server"
	"github.com/absender/absender/telemetry"
)

// capture is the test process's telemetry (TestMain installs it).
var capture *observetest.Capture

func TestMain(m *testing.M) {
	capture = observetest.Install()
	os.Exit(m.Run())
}

// stepSpans are the spans "command <step>" whose parent is a span named
// parent of the message id (saga.resolver, saga.attempt).
func stepSpans(id, parent, step string) tracetest.SpanStubs {
	all := capture.Spans.GetSpans()
	parents := map[string]bool{}
	for _, s := range all {
		if s.Name == parent && observetest.Attr(s, "absender.message_id") == id {
			parents[s.SpanContext.SpanID().String()] = true
		}
	}
	var out tracetest.SpanStubs
	for _, s := range all {
		if s.Name == "command "+step && parents[s.Parent.SpanID().String()] {
			out = append(out, s)
		}
	}
	return out
}

// Issue 12: the saga's steps run through the decorator every command runs
// through, like an API command: each step of a message's way — resolving
// it, beginning the attempt, recording the outcome — has its span
// "command <step>" inside the saga's span of the message, counts in
// absender.commands by outcome, and logs one line with the step, the
// outcome and the duration in the span's context, as the saga (actor
// system:saga) and, once the message is loaded, with its correlation id
// and tenant. The API's sendMessage is counted once: the saga's steps
// have names of their own. The retention sweep is a step too.
func TestSagaStepsAreObserved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		logs := &observetest.Logs{}
		log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), server.LogContext))
		steps := []string{"sendMessage", "resolveMessage", "beginAttempt", "recordOutcome", "purgeExpiredContent"}
		before := map[string]int64{}
		for _, s := range steps {
			before[s] = capture.CommandCount(t, s, "ok")
		}
		e := newEnv(t, db, server.Options{Log: log})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "observed", Text: "x"})
		if m := e.await(id); m.Status != string(message.StatusSent) {
			t.Fatalf("status = %s, want SENT", m.Status)
		}

		for _, tc := range []struct{ step, parent string }{
			{"resolveMessage", "saga.resolver"}, {"beginAttempt", "saga.attempt"}, {"recordOutcome", "saga.attempt"},
		} {
			ss := stepSpans(id, tc.parent, tc.step)
			for deadline := time.Now().Add(10 * time.Second); len(ss) == 0 && time.Now().Before(deadline); ss = stepSpans(id, tc.parent, tc.step) {
				time.Sleep(10 * time.Millisecond) // a span is recorded when it ends
			}
			if len(ss) == 0 {
				t.Errorf("no span %q under the %s span of the message", "command "+tc.step, tc.parent)
				continue
			}
			s := ss[0]
			if got := observetest.Attr(s, "absender.command"); got != tc.step {
				t.Errorf("%s: absender.command = %q, want %q", tc.step, got, tc.step)
			}
			if got := observetest.Attr(s, "absender.outcome"); got != "ok" {
				t.Errorf("%s: absender.outcome = %q, want ok", tc.step, got)
			}
			var line map[string]any
			for _, l := range logs.Lines(t, tc.step) {
				if l["span_id"] == s.SpanContext.SpanID().String() {
					line = l
				}
			}
			if line == nil {
				t.Errorf("%s: no log line in the step's span; lines of the step: %v", tc.step, logs.Lines(t, tc.step))
				continue
			}
			if line["level"] != "DEBUG" || line["outcome"] != "ok" || line["duration"] == nil || line["actor"] != "system:saga" {
				t.Errorf("%s: log line %v, want level DEBUG, outcome ok, a duration and actor system:saga", tc.step, line)
			}
			if tc.step != "beginAttempt" && (line["correlation_id"] != "corr-send" || line["tenant_id"] != e.tenant) {
				t.Errorf("%s: log line %v, want the message's correlation id corr-send and tenant %s", tc.step, line, e.tenant)
			}
		}

		for _, s := range steps {
			got := capture.CommandCount(t, s, "ok") - before[s]
			switch s {
			case "sendMessage", "recordOutcome":
				if got != 1 {
					t.Errorf("absender.commands{command=%s,outcome=ok} grew by %d, want 1", s, got)
				}
			default: // a worker may look at a message twice; the sweep runs on start
				if got < 1 {
					t.Errorf("absender.commands{command=%s,outcome=ok} grew by %d, want at least 1", s, got)
				}
			}
		}
		if len(logs.Lines(t, "purgeExpiredContent")) == 0 {
			t.Error("no log line of the retention sweep")
		}
	})
}

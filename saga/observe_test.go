package saga_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server"
	"github.com/absender/absender/telemetry"
)

// The test process's telemetry: every span in memory, the metrics read on
// demand (the global providers, as telemetry.Setup installs them).
var (
	spans   = tracetest.NewInMemoryExporter()
	metrics = sdkmetric.NewManualReader()
)

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics)))
	os.Exit(m.Run())
}

// logBuffer collects JSON log lines written by several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the decorator's log lines of the command (or step) name.
func (b *logBuffer) lines(t *testing.T, name string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "command" && m["command"] == name {
			out = append(out, m)
		}
	}
	return out
}

// commandCount is the absender.commands counter of a command and outcome.
func commandCount(t *testing.T, name, outcome string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "absender.commands" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				c, _ := dp.Attributes.Value("command")
				o, _ := dp.Attributes.Value("outcome")
				if c.AsString() == name && o.AsString() == outcome {
					return dp.Value
				}
			}
		}
	}
	return 0
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == attribute.Key(key) {
			return kv.Value.AsString()
		}
	}
	return ""
}

// stepSpans are the spans "command <step>" whose parent is a span named
// parent of the message id (saga.resolver, saga.attempt).
func stepSpans(id, parent, step string) tracetest.SpanStubs {
	all := spans.GetSpans()
	parents := map[string]bool{}
	for _, s := range all {
		if s.Name == parent && attr(s, "absender.message_id") == id {
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
		logs := &logBuffer{}
		log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), server.LogContext))
		steps := []string{"sendMessage", "resolveMessage", "beginAttempt", "recordOutcome", "purgeExpiredContent"}
		before := map[string]int64{}
		for _, s := range steps {
			before[s] = commandCount(t, s, "ok")
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
			if got := attr(s, "absender.command"); got != tc.step {
				t.Errorf("%s: absender.command = %q, want %q", tc.step, got, tc.step)
			}
			if got := attr(s, "absender.outcome"); got != "ok" {
				t.Errorf("%s: absender.outcome = %q, want ok", tc.step, got)
			}
			var line map[string]any
			for _, l := range logs.lines(t, tc.step) {
				if l["span_id"] == s.SpanContext.SpanID().String() {
					line = l
				}
			}
			if line == nil {
				t.Errorf("%s: no log line in the step's span; lines of the step: %v", tc.step, logs.lines(t, tc.step))
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
			got := commandCount(t, s, "ok") - before[s]
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
		if len(logs.lines(t, "purgeExpiredContent")) == 0 {
			t.Error("no log line of the retention sweep")
		}
	})
}

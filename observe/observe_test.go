package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/observe"
	"github.com/absender/absender/observe/observetest"
)

// capture is the test process's telemetry (TestMain installs it).
var capture *observetest.Capture

func TestMain(m *testing.M) {
	capture = observetest.Install()
	os.Exit(m.Run())
}

// Issue 12: the decorator gives a run its span, its count by outcome and
// one log line whose level says how it ended — also when it panics.
func TestCommandIsObserved(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name    string
		run     func(context.Context) (int, error)
		outcome string
		level   string
		status  codes.Code
		panics  bool
	}{
		{"ok", func(context.Context) (int, error) { return 7, nil }, observe.OK, "DEBUG", codes.Unset, false},
		{"refused", func(context.Context) (int, error) {
			return 0, fmt.Errorf("load: %w", domain.NotFound("mailbox"))
		}, string(domain.CodeNotFound), "INFO", codes.Error, false},
		{"failed", func(context.Context) (int, error) { return 0, errDisk }, string(domain.CodeInternal), "WARN", codes.Error, false},
		{"panicked", func(context.Context) (int, error) { panic("boom") }, string(domain.CodeInternal), "WARN", codes.Error, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			command := "test" + strings.ToUpper(tt.name[:1]) + tt.name[1:]
			before := capture.CommandCount(t, command, tt.outcome)
			capture.Spans.Reset()
			var inner string
			func() {
				defer func() {
					if v := recover(); (v != nil) != tt.panics {
						t.Errorf("recovered %v, want a panic: %v", v, tt.panics)
					}
				}()
				_, _ = observe.Command(t.Context(), log, command, func(ctx context.Context) (int, error) {
					inner = trace.SpanFromContext(ctx).SpanContext().SpanID().String()
					return tt.run(ctx)
				})
			}()

			ss := capture.Spans.GetSpans()
			if len(ss) != 1 || ss[0].Name != "command "+command {
				t.Fatalf("spans: got %v, want one %q", ss, "command "+command)
			}
			if inner != ss[0].SpanContext.SpanID().String() {
				t.Errorf("the run's context is not the command span's")
			}
			want := map[attribute.Key]string{"absender.command": command, "absender.outcome": tt.outcome}
			for _, kv := range ss[0].Attributes {
				if w, ok := want[kv.Key]; ok && kv.Value.AsString() != w {
					t.Errorf("%s: got %q, want %q", kv.Key, kv.Value.AsString(), w)
				}
				delete(want, kv.Key)
			}
			if len(want) > 0 {
				t.Errorf("the span lacks %v", want)
			}
			if ss[0].Status.Code != tt.status {
				t.Errorf("span status: got %v, want %v", ss[0].Status.Code, tt.status)
			}
			if got := capture.CommandCount(t, command, tt.outcome) - before; got != 1 {
				t.Errorf("absender.commands{command=%s,outcome=%s} grew by %d, want 1", command, tt.outcome, got)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("want one JSON log line, got %q: %v", buf.String(), err)
			}
			if line["msg"] != "command" || line["command"] != command || line["outcome"] != tt.outcome || line["level"] != tt.level || line["duration"] == nil {
				t.Errorf("log line: got %v, want command %s, outcome %s, level %s and a duration", line, command, tt.outcome, tt.level)
			}
			if strings.Contains(buf.String(), errDisk.Error()) {
				t.Errorf("the log line copies the error: %s", buf.String())
			}
		})
	}
}

// Review of issue 12: a caller that tracks its context learns whether a
// command ran under the decorator with it (or a context made from it);
// Refused observes one that did not as Command would — a span from the
// caller's start, the count by the error's outcome, one log line.
func TestTrackAndRefused(t *testing.T) {
	ctx, seen := observe.Track(t.Context())
	if seen() {
		t.Fatal("seen before any command ran")
	}
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := observe.Command(inner, nil, "testTracked", func(context.Context) (int, error) { return 0, nil }); err != nil {
		t.Fatal(err)
	}
	if !seen() {
		t.Error("a command ran with a context made from the tracked one: seen says no")
	}
	if _, seen := observe.Track(t.Context()); seen() {
		t.Error("another tracked context is seen")
	}

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	before := capture.CommandCount(t, "testRefused", string(domain.CodeForbidden))
	capture.Spans.Reset()
	start := time.Now().Add(-time.Second)
	observe.Refused(t.Context(), log, "testRefused", start, fmt.Errorf("authz: %w", domain.Forbidden("no")))
	ss := capture.Spans.GetSpans()
	if len(ss) != 1 || ss[0].Name != "command testRefused" || !ss[0].StartTime.Equal(start) || ss[0].Status.Code != codes.Error {
		t.Fatalf("spans: got %v, want one %q from the caller's start with an error status", ss, "command testRefused")
	}
	if got := capture.CommandCount(t, "testRefused", string(domain.CodeForbidden)) - before; got != 1 {
		t.Errorf("absender.commands{command=testRefused,outcome=FORBIDDEN} grew by %d, want 1", got)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", buf.String(), err)
	}
	if line["command"] != "testRefused" || line["outcome"] != string(domain.CodeForbidden) || line["level"] != "INFO" {
		t.Errorf("log line: got %v, want command testRefused, outcome FORBIDDEN, level INFO", line)
	}
}

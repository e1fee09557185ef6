package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/observe/observetest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/telemetry"
)

// capture is the test process's telemetry (TestMain installs it).
var capture *observetest.Capture

func TestMain(m *testing.M) {
	capture = observetest.Install()
	os.Exit(m.Run())
}

// observedApp is an App logging JSON at debug level through the process's
// log handler, which adds the request's correlation id from ctx (as
// server.LogContext does).
func observedApp(t *testing.T, db *database.DB) (*app.App, *observetest.Logs) {
	t.Helper()
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	logs := &observetest.Logs{}
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
		func(ctx context.Context) []slog.Attr {
			if id := app.RequestFrom(ctx).CorrelationID; id != "" {
				return []slog.Attr{slog.String("correlation_id", id)}
			}
			return nil
		}))
	store := eventstore.New(db, eventstore.Options{Registry: reg})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return a, logs
}

// commandSpans are the spans "command <name>" under parent.
func commandSpans(parent trace.Span, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range capture.Spans.GetSpans() {
		if s.Name == "command "+name && s.Parent.SpanID() == parent.SpanContext().SpanID() {
			out = append(out, s)
		}
	}
	return out
}

// Issue 12: every command runs through one decorator — a span "command
// <name>", the commands metric by outcome (ok or the domain error code)
// and one log line (debug for ok, info for a refused command) with the
// name, outcome, duration and correlation id, never a field value.
func TestEveryCommandIsObserved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, logs := observedApp(t, db)
		ctx := asSystemAdmin(t.Context()) // correlation id corr-1
		tenantID, _, err := a.Commands.Tenants.Create(ctx, "Observed GmbH")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			command string
			run     func(ctx context.Context) error
			outcome string
			level   string
			status  codes.Code
		}{
			{name: "ok", command: "setTenantPolicy", outcome: "ok", level: "DEBUG", status: codes.Unset,
				run: func(ctx context.Context) error {
					_, err := a.Commands.Tenants.SetPolicy(ctx, tenantID, tenant.PolicyChange{MailboxQuota: ptr(3)})
					return err
				}},
			{name: "refused", command: "addMailbox", outcome: string(domain.CodeInvalidInput), level: "INFO", status: codes.Error,
				run: func(ctx context.Context) error {
					_, _, err := a.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "not an address", DisplayName: "Secretive Name"})
					return err
				}},
			{name: "not found", command: "deleteGroup", outcome: string(domain.CodeNotFound), level: "INFO", status: codes.Error,
				run: func(ctx context.Context) error {
					_, err := a.Commands.Groups.Delete(ctx, "no-such-group")
					return err
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := capture.CommandCount(t, tc.command, tc.outcome)
				pctx, parent := otel.Tracer("test").Start(ctx, "test "+tc.name)
				err := tc.run(pctx)
				parent.End()
				if got := outcomeOf(err); got != tc.outcome {
					t.Fatalf("outcome: got %s (%v), want %s", got, err, tc.outcome)
				}

				ss := commandSpans(parent, tc.command)
				if len(ss) != 1 {
					t.Fatalf("spans %q under the caller's: got %d, want 1", "command "+tc.command, len(ss))
				}
				if got := observetest.Attr(ss[0], "absender.command"); got != tc.command {
					t.Errorf("absender.command: got %q, want %q", got, tc.command)
				}
				if got := observetest.Attr(ss[0], "absender.outcome"); got != tc.outcome {
					t.Errorf("absender.outcome: got %q, want %q", got, tc.outcome)
				}
				if ss[0].Status.Code != tc.status {
					t.Errorf("span status: got %v, want %v", ss[0].Status.Code, tc.status)
				}

				if got := capture.CommandCount(t, tc.command, tc.outcome) - before; got != 1 {
					t.Errorf("absender.commands{command=%s,outcome=%s} grew by %d, want 1", tc.command, tc.outcome, got)
				}

				lines := logs.Lines(t, tc.command)
				if len(lines) == 0 {
					t.Fatalf("no log line of %s; the log:\n%s", tc.command, logs)
				}
				l := lines[len(lines)-1]
				if l["level"] != tc.level || l["outcome"] != tc.outcome || l["correlation_id"] != "corr-1" || l["duration"] == nil {
					t.Errorf("log line: got %v, want level %s, outcome %s, correlation_id corr-1 and a duration", l, tc.level, tc.outcome)
				}
			})
		}
		if s := logs.String(); strings.Contains(s, "Observed GmbH") || strings.Contains(s, "not an address") || strings.Contains(s, "Secretive") {
			t.Errorf("the log names a field value:\n%s", s)
		}
	})
}

// Issue 12: a command run outside GraphQL — here the CLI's demo seed —
// gets its span, metric and log line too, and the log shows no secret.
func TestSeedCommandsAreObserved(t *testing.T) {
	a, logs := observedApp(t, dbtest.SQLite(t))
	before := map[string]int64{}
	commands := []string{"configureSystemServer", "createTenant", "addMailbox", "createUser", "issueApiToken"}
	for _, c := range commands {
		before[c] = capture.CommandCount(t, c, "ok")
	}
	ctx, parent := otel.Tracer("test").Start(t.Context(), "test seed")
	if _, err := seed.MakeDemo(ctx, a); err != nil {
		t.Fatal(err)
	}
	parent.End()
	for _, c := range commands {
		if got := len(commandSpans(parent, c)); got < 1 {
			t.Errorf("spans %q under the seed's caller: got %d, want at least 1", "command "+c, got)
		}
		if got := capture.CommandCount(t, c, "ok") - before[c]; got < 1 {
			t.Errorf("absender.commands{command=%s,outcome=ok} grew by %d, want at least 1", c, got)
		}
		if len(logs.Lines(t, c)) == 0 {
			t.Errorf("no log line of %s", c)
		}
	}
	if s := logs.String(); strings.Contains(s, "change-me") || strings.Contains(s, "abs_") {
		t.Errorf("the log shows a secret:\n%s", s)
	}
}

// outcomeOf is the outcome the decorator records for err.
func outcomeOf(err error) string {
	var de *domain.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &de):
		return string(de.Code)
	}
	return string(domain.CodeInternal)
}

// Package observe is the one decorator every command runs through,
// whoever runs it: the API's and the CLI's commands (package app) and the
// send saga's steps (package saga). It gives each run a span "command
// <name>", the commands metric (telemetry.Command) by outcome and one log
// line, so no handler logs, counts or traces itself (STYLE §4). A command
// the API refuses before it reaches the decorator (authentication,
// authorization, the target's lookup, argument checks) is observed the
// same way by the API (Track, Refused), so every mutation is counted once.
//
// It sits between the domain, whose error codes are the outcomes, and
// telemetry, whose instruments count them, so that app and saga both
// reach it without an arrow pointing up.
package observe

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/telemetry"
)

// OK is the outcome of a command that succeeded; a refused one has its
// error code (Outcome).
const OK = "ok"

// Command runs a command under the decorator: a span "command <name>"
// with the attributes absender.command and absender.outcome, the commands
// metric by outcome, and one log line on log (slog.Default() when nil) —
// debug when it succeeded, info when it was refused with a domain error,
// warn when it failed otherwise (INTERNAL, also when run panics). The line
// names the command, the outcome and the duration, never a field value or
// a secret; the correlation id, tenant and actor come from ctx through the
// process's log handler (telemetry.LogHandler), as on every line.
//
// name is stable: the SPEC's mutation name for an API command
// (createTenant, addMailbox, …), the step's name for the saga
// (resolveMessage, beginAttempt, …), so the metric's labels are the API's
// and the saga's.
func Command[T any](ctx context.Context, log *slog.Logger, name string, run func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	if seen, ok := ctx.Value(trackKey{}).(*atomic.Bool); ok {
		seen.Store(true)
	}
	ctx, span := telemetry.Tracer().Start(ctx, "command "+name, trace.WithAttributes(attribute.String("absender.command", name)))
	outcome := string(domain.CodeInternal) // unless run returns: a panic stays INTERNAL
	defer func() { observed(ctx, log, span, name, outcome, time.Since(start)) }()
	v, err := run(ctx)
	outcome = Outcome(err)
	return v, err
}

type trackKey struct{}

// Track marks ctx as the context of a caller that runs a command under
// the decorator — the API's mutation field — and returns seen, which
// tells once the caller is done whether a command ran through Command
// with ctx or a context made from it. A caller whose command never got
// there (refused before, or a mutation that runs no command) records the
// run itself with Refused, so it is observed once, not twice and not
// never.
func Track(ctx context.Context) (_ context.Context, seen func() bool) {
	var ran atomic.Bool
	return context.WithValue(ctx, trackKey{}, &ran), ran.Load
}

// Refused observes a command that did not run under Command, as Command
// would have: a span "command <name>" from start to now, the commands
// metric by Outcome(err), and one log line on log (slog.Default() when
// nil). The API uses it for a mutation it refused before the command
// (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_INPUT of an argument),
// so that such refusals are counted — an alert on FORBIDDEN sees them.
// (A mutation that runs no command and succeeds is counted as ok.)
func Refused(ctx context.Context, log *slog.Logger, name string, start time.Time, err error) {
	ctx, span := telemetry.Tracer().Start(ctx, "command "+name, trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("absender.command", name)))
	observed(ctx, log, span, name, Outcome(err), time.Since(start))
}

// Outcome is a command's outcome for telemetry: OK, the code of a domain
// error, or INTERNAL for any other error.
func Outcome(err error) string {
	if err == nil {
		return OK
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return string(de.Code)
	}
	return string(domain.CodeInternal)
}

func observed(ctx context.Context, log *slog.Logger, span trace.Span, name, outcome string, took time.Duration) {
	span.SetAttributes(attribute.String("absender.outcome", outcome))
	level := slog.LevelDebug
	switch outcome {
	case OK:
	case string(domain.CodeInternal):
		level = slog.LevelWarn
		span.SetStatus(codes.Error, outcome)
	default:
		level = slog.LevelInfo
		span.SetStatus(codes.Error, outcome)
	}
	telemetry.Command(ctx, name, outcome)
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, level, "command", slog.String("command", name), slog.String("outcome", outcome), slog.Duration("duration", took))
	span.End()
}

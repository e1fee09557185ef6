package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/telemetry"
)

// outcomeOK is the outcome of a command that succeeded; a refused one has
// its error code (outcomeOf).
const outcomeOK = "ok"

// command is the decorator every command runs through, whoever calls it
// (the API, the CLI, the seed): a span "command <name>" with the
// attributes absender.command and absender.outcome, the commands metric
// (telemetry.Command) by outcome, and one log line — debug when it
// succeeded, info when it was refused with a domain error, warn when it
// failed otherwise (INTERNAL). The line names the command, the outcome
// and the duration, never a field value or a secret; the correlation id,
// tenant and actor come from ctx through the process's log handler
// (telemetry.LogHandler), as on every line. name is the SPEC's mutation
// name (createTenant, addMailbox, …), so the metric's labels are the API's.
func command[T any](ctx context.Context, c *core, name string, run func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	ctx, span := telemetry.Tracer().Start(ctx, "command "+name, trace.WithAttributes(attribute.String("absender.command", name)))
	outcome := string(domain.CodeInternal) // unless run returns: a panic stays INTERNAL
	defer func() { c.observed(ctx, span, name, outcome, time.Since(start)) }()
	v, err := run(ctx)
	outcome = outcomeOf(err)
	return v, err
}

// created is the result of a command that creates something: its id and
// where the events landed.
type created struct {
	id  string
	res Result
}

// commandWithID is command for a command that returns a new id.
func commandWithID(ctx context.Context, c *core, name string, run func(context.Context) (string, Result, error)) (string, Result, error) {
	out, err := command(ctx, c, name, func(ctx context.Context) (created, error) {
		id, res, err := run(ctx)
		return created{id, res}, err
	})
	return out.id, out.res, err
}

// outcomeOf is a command's outcome for telemetry: outcomeOK, the code of a
// domain error, or INTERNAL for any other error.
func outcomeOf(err error) string {
	if err == nil {
		return outcomeOK
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return string(de.Code)
	}
	return string(domain.CodeInternal)
}

func (c *core) observed(ctx context.Context, span trace.Span, name, outcome string, took time.Duration) {
	span.SetAttributes(attribute.String("absender.outcome", outcome))
	level := slog.LevelDebug
	switch outcome {
	case outcomeOK:
	case string(domain.CodeInternal):
		level = slog.LevelWarn
		span.SetStatus(codes.Error, outcome)
	default:
		level = slog.LevelInfo
		span.SetStatus(codes.Error, outcome)
	}
	telemetry.Command(ctx, name, outcome)
	c.log.LogAttrs(ctx, level, "command", slog.String("command", name), slog.String("outcome", outcome), slog.Duration("duration", took))
	span.End()
}

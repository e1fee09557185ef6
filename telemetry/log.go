package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler adds to every record logged with a context the trace and span
// id of the context's span, and what extra finds in the context (the
// correlation id, tenant and actor of the request or message being
// handled).
func LogHandler(inner slog.Handler, extra func(context.Context) []slog.Attr) slog.Handler {
	return &logHandler{inner: inner, extra: extra}
}

type logHandler struct {
	inner slog.Handler
	extra func(context.Context) []slog.Attr
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
		if h.extra != nil {
			r.AddAttrs(h.extra(ctx)...)
		}
	}
	return h.inner.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{inner: h.inner.WithAttrs(attrs), extra: h.extra}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{inner: h.inner.WithGroup(name), extra: h.extra}
}

package telemetry

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracer is Absender's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer("github.com/absender/absender") }

var traceContext = propagation.TraceContext{}

// TraceParent is the W3C traceparent of the span in ctx ("" without one),
// for event metadata.
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	traceContext.Inject(ctx, c)
	return c["traceparent"]
}

// WithTraceParent returns ctx with the remote span context of a W3C
// traceparent (from event metadata), so spans started from it join that
// trace. An empty or invalid traceparent leaves ctx as it is.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// LinkTo is a span link to the span of a traceparent, for spans that serve
// several requests.
func LinkTo(traceparent string) (trace.Link, bool) {
	sc := trace.SpanContextFromContext(WithTraceParent(context.Background(), traceparent))
	return trace.Link{SpanContext: sc}, sc.IsValid()
}

// End ends a span, recording err (if any) as its status.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

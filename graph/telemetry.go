package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/app"
	"github.com/absender/absender/telemetry"
)

// operationSpans is the gqlgen extension of telemetry: a span per query or
// mutation operation. The span "command <name>" and the commands metric
// come from the commands themselves (app's decorator), so a command run
// by the CLI or the seed has them too; a mutation refused before its
// command has them from fieldChecks (fields.go).
type operationSpans struct{}

var (
	_ graphql.HandlerExtension     = operationSpans{}
	_ graphql.OperationInterceptor = operationSpans{}
)

func (operationSpans) ExtensionName() string                   { return "AbsenderTelemetry" }
func (operationSpans) Validate(graphql.ExecutableSchema) error { return nil }

func (operationSpans) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return next(ctx) // a subscription lives long; its events have their own traces
	}
	kind := string(oc.Operation.Operation)
	ctx, span := telemetry.Tracer().Start(ctx, "graphql "+kind+" "+oc.OperationName, trace.WithAttributes(
		attribute.String("graphql.operation.type", kind), attribute.String("graphql.operation.name", oc.OperationName),
		attribute.String("absender.correlation_id", app.RequestFrom(ctx).CorrelationID)))
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, resp.Errors[0].Message)
		}
		span.End()
		return resp
	}
}

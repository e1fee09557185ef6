package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/telemetry"
)

// observe is the gqlgen extension of telemetry: a span per query or
// mutation operation, and per mutation field a span "command <field>" and
// the commands metric by outcome (ok or the error code).
type observe struct{}

var (
	_ graphql.HandlerExtension     = observe{}
	_ graphql.OperationInterceptor = observe{}
	_ graphql.FieldInterceptor     = observe{}
)

func (observe) ExtensionName() string                   { return "AbsenderTelemetry" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }

func (observe) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
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

func (observe) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || fc.Field.Field == nil {
		return next(ctx)
	}
	name := fc.Field.Name
	ctx, span := telemetry.Tracer().Start(ctx, "command "+name, trace.WithAttributes(attribute.String("absender.command", name)))
	outcome := string(domain.CodeInternal) // unless the resolver returns (a panic stays INTERNAL)
	defer func() {
		if outcome != "ok" {
			span.SetAttributes(attribute.String("absender.outcome", outcome))
			span.SetStatus(codes.Error, outcome)
		}
		telemetry.Command(ctx, name, outcome)
		span.End()
	}()
	res, err := next(ctx)
	outcome = "ok"
	if err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			outcome = string(de.Code)
		} else {
			outcome = string(domain.CodeInternal)
		}
	}
	return res, err
}

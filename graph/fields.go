package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/absender/absender/projections"
)

// fieldChecks is the one gqlgen field interceptor: gqlgen calls it for
// every field of every answer, so what each field needs is done here in one
// call rather than in a chain of three interceptors (the three cost about
// 15 % of a senderOptions request, measured side by side). For each field,
// in order:
//   - it counts towards the answer's bound (R34, resultLimit);
//   - a mutation gets fresh dataloaders, so its answer sees its own change
//     and the mutations before it (loaderScope);
//   - its ID arguments, and the String arguments of reads, are checked
//     before a store sees them (R34, checkArgs).
type fieldChecks struct{ reader *projections.Reader }

var (
	_ graphql.HandlerExtension = fieldChecks{}
	_ graphql.FieldInterceptor = fieldChecks{}
)

func (fieldChecks) ExtensionName() string                   { return "FieldChecks" }
func (fieldChecks) Validate(graphql.ExecutableSchema) error { return nil }

func (f fieldChecks) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	if err := countResult(ctx); err != nil {
		return nil, err
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return next(ctx)
	}
	if fc.Object == "Mutation" {
		ctx = context.WithValue(ctx, loadersKey{}, newLoaders(f.reader))
	}
	if err := checkArgs(ctx, fc); err != nil {
		return nil, err
	}
	return next(ctx)
}

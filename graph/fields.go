package graph

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/absender/absender/observe"
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
//     before a store sees them (R34, checkArgs);
//   - a mutation that no command observed — refused before it reached
//     one: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND of its target, an
//     argument's INVALID_INPUT — gets the command's span, metric and log
//     line here (observe.Track, observe.Refused), so every mutation is
//     counted once under its name.
type fieldChecks struct {
	reader *projections.Reader
	log    *slog.Logger
}

var (
	_ graphql.HandlerExtension = fieldChecks{}
	_ graphql.FieldInterceptor = fieldChecks{}
)

func (fieldChecks) ExtensionName() string                   { return "FieldChecks" }
func (fieldChecks) Validate(graphql.ExecutableSchema) error { return nil }

func (f fieldChecks) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Object == "Mutation" && fc.Field.Field != nil && !strings.HasPrefix(fc.Field.Name, "__") {
		return f.mutation(ctx, fc, next)
	}
	if err := countResult(ctx); err != nil {
		return nil, err
	}
	if fc == nil {
		return next(ctx)
	}
	if err := checkArgs(ctx, fc); err != nil {
		return nil, err
	}
	return next(ctx)
}

// errPanicked is the outcome of a mutation whose resolver panicked
// (INTERNAL); the panic goes on to gqlgen's recover func.
var errPanicked = errors.New("graph: the mutation's resolver panicked")

// mutation is InterceptField for a mutation field: the same checks, with
// fresh dataloaders, and the command's observation when the mutation
// never reached the decorator of a command (which observes it itself).
func (f fieldChecks) mutation(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (res any, err error) {
	ctx, seen := observe.Track(ctx)
	start, outcome := time.Now(), errPanicked
	defer func() {
		if !seen() {
			observe.Refused(ctx, f.log, fc.Field.Name, start, outcome)
		}
	}()
	if err = countResult(ctx); err == nil {
		ctx = context.WithValue(ctx, loadersKey{}, newLoaders(f.reader))
		if err = checkArgs(ctx, fc); err == nil {
			res, err = next(ctx)
		}
	}
	outcome = err
	return res, err
}

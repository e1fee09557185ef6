package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/absender/absender/projections"
)

// loaders batch the per-object list fields of one request (User.groups),
// so a page of n users costs one query for their groups, not n.
// (Group.members is a connection of its own, paged per group.)
type loaders struct {
	groupsOfUser *dataloadgen.Loader[string, []projections.GroupRow]
}

type loadersKey struct{}

func newLoaders(r *projections.Reader) *loaders {
	wait := dataloadgen.WithWait(time.Millisecond)
	return &loaders{
		groupsOfUser: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string][]projections.GroupRow, error) {
			return r.GroupsOfUsers(ctx, ids)
		}, wait),
	}
}

// loaderScope gives every operation its own dataloaders, and every
// mutation field of an operation fresh ones: results are cached for one
// read, never across the operations of a WebSocket connection nor past a
// mutation, which would answer what it changed from before the change.
type loaderScope struct{ reader *projections.Reader }

var _ graphql.OperationInterceptor = loaderScope{}

func (loaderScope) ExtensionName() string                   { return "Loaders" }
func (loaderScope) Validate(graphql.ExecutableSchema) error { return nil }

func (s loaderScope) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, loadersKey{}, newLoaders(s.reader)))
}

// loadersFrom returns the request's loaders (fresh ones outside a request).
func (r *Resolver) loadersFrom(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(r.deps.Reader)
}

package graph

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/absender/absender/projections"
)

// loaders batch the per-object list fields of one request (User.groups,
// Group.members), so a list of n users costs one query, not n.
type loaders struct {
	groupsOfUser   *dataloadgen.Loader[string, []projections.GroupRow]
	membersOfGroup *dataloadgen.Loader[string, []projections.UserRow]
}

type loadersKey struct{}

func newLoaders(r *projections.Reader) *loaders {
	wait := dataloadgen.WithWait(time.Millisecond)
	return &loaders{
		groupsOfUser: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string][]projections.GroupRow, error) {
			return r.GroupsOfUsers(ctx, ids)
		}, wait),
		membersOfGroup: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string][]projections.UserRow, error) {
			return r.MembersOfGroups(ctx, ids)
		}, wait),
	}
}

// loadersFrom returns the request's loaders (fresh ones outside a request).
func (r *Resolver) loadersFrom(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(r.deps.Reader)
}

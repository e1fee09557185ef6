package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/absender/absender/domain"
)

func pageSize(first *int) (int, error) {
	switch {
	case first == nil:
		return 50, nil
	case *first < 0 || *first > 500:
		return 0, domain.InvalidInput("first", "must be between 0 and 500")
	}
	return *first, nil
}

// selects tells whether the operation selects the field name on the
// value of the field being resolved (fragments and @skip/@include
// honoured), so costly parts of an answer are computed only when asked for.
func selects(ctx context.Context, name string) bool {
	return slices.Contains(graphql.CollectAllFields(ctx), name)
}

package model

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/absender/absender/domain"
)

// MarshalTime writes a Time as RFC 3339 with nanoseconds (null for
// the zero time).
func MarshalTime(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		if t.IsZero() {
			_, err := io.WriteString(w, "null")
			return err
		}
		_, err := io.WriteString(w, strconv.Quote(t.Format(time.RFC3339Nano)))
		return err
	})
}

// UnmarshalTime reads a Time argument: RFC 3339 or INVALID_INPUT
// naming the argument (R34), never INTERNAL.
func UnmarshalTime(ctx context.Context, v any) (time.Time, error) {
	if s, ok := v.(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, domain.InvalidInput(argumentName(ctx), "not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)")
}

// argumentName is the argument (or input field) being read: the last
// name of the path gqlgen sets while it reads arguments.
func argumentName(ctx context.Context) string {
	for p := graphql.GetPath(ctx); len(p) > 0; p = p[:len(p)-1] {
		if name, ok := p[len(p)-1].(ast.PathName); ok {
			return string(name)
		}
	}
	return "time"
}

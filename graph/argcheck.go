package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/absender/absender/domain"
)

// checkArgs checks, before a resolver reads a
// store with them (R34), the arguments that no domain constructor sees:
// every ID argument, and the String arguments of reads (search texts,
// cursors, stream ids). Each must be a one-line text of at most
// domain.MaxString characters, else INVALID_INPUT naming the argument; a
// NUL would otherwise reach SQL, which refuses it (INTERNAL). The texts of
// mutations are checked by the domain's constructors, with their own
// bounds. An unauthenticated request is left to its resolver, which
// answers UNAUTHENTICATED first (R19).
// It runs in fieldChecks.
func checkArgs(ctx context.Context, fc *graphql.FieldContext) error {
	if fc.Field.Field == nil || fc.Field.Definition == nil || len(fc.Field.Definition.Arguments) == 0 ||
		!PrincipalFrom(ctx).Authenticated() {
		return nil
	}
	for _, arg := range fc.Field.Definition.Arguments {
		switch typ := arg.Type.Name(); {
		case typ == "ID", typ == "String" && fc.Object != "Mutation":
			if err := checkArg(arg.Name, fc.Args[arg.Name]); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkArg(name string, v any) error {
	switch v := v.(type) {
	case string:
		return domain.CheckLine(name, v, domain.MaxString)
	case *string:
		if v != nil {
			return domain.CheckLine(name, *v, domain.MaxString)
		}
	case []string:
		for _, s := range v {
			if err := domain.CheckLine(name, s, domain.MaxString); err != nil {
				return err
			}
		}
	}
	return nil
}

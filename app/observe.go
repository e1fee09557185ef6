package app

import (
	"context"

	"github.com/absender/absender/observe"
)

// command runs a command of the core under its SPEC name (createTenant,
// addMailbox, …) through the decorator every command runs through,
// whoever calls it (the API, the CLI, the seed) — and the saga's steps
// too: observe.Command gives it a span "command <name>", the commands
// metric by outcome and one log line on the core's logger.
func command[T any](ctx context.Context, c *core, name string, run func(context.Context) (T, error)) (T, error) {
	return observe.Command(ctx, c.log, name, run)
}

// created is the result of a command that creates something: its id and
// where the events landed.
type created struct {
	id  string
	res Result
}

// commandWithID is command for a command that returns a new id.
func commandWithID(ctx context.Context, c *core, name string, run func(context.Context) (string, Result, error)) (string, Result, error) {
	out, err := command(ctx, c, name, func(ctx context.Context) (created, error) {
		id, res, err := run(ctx)
		return created{id, res}, err
	})
	return out.id, out.res, err
}

package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotConnected: the forwarder has no working connection to the broker.
var ErrNotConnected = errors.New("fanout: NATS broker not connected")

// readyTimeout bounds Ready's round trip when ctx has no deadline.
const readyTimeout = time.Second

// Ready reports whether the broker is reachable: nil when Run's NATS
// connection is connected and the broker answers a PING within ctx
// (readyTimeout when ctx has no deadline), else an error wrapping
// ErrNotConnected with the connection's state (not started, RECONNECTING,
// CLOSED, …). The round trip notices a broker that went silent without
// closing the connection, which the client's own pings take minutes to
// see. The error names no URL.
func (f *Forwarder) Ready(ctx context.Context) error {
	nc := f.conn.Load()
	if nc == nil {
		return fmt.Errorf("%w: not started", ErrNotConnected)
	}
	if !nc.IsConnected() {
		return fmt.Errorf("%w: %s", ErrNotConnected, nc.Status())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readyTimeout)
		defer cancel()
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("%w: no answer to a ping: %w", ErrNotConnected, err)
	}
	return nil
}

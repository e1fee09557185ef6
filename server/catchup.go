package server

import (
	"context"
	"time"

	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
)

// CatchUp brings every read model that is more than after events behind
// the log's head (0: projections.DefaultCatchUpAfter; below 0: off, it
// does nothing and the live consumers catch up event by event) up to it
// the way `projections rebuild` does (projections.CatchUp): chunks of
// about 20,000 events, each a transaction under the projection's consumer
// group's lock, statements in batches. The
// saga's group is moved over the leading events its resolver does nothing
// with (eventstore.Store.SkipAhead with saga.Skips). The fan-out's group is
// left to its forwarder, which publishes every event. It is meant for the
// start, before Run: the live consumers, which apply event by
// event, then only have the rest. /readyz stays unready meanwhile (the
// groups are behind). An error leaves the group at the end of the last
// chunk committed; the live consumer then catches it up as before, so the
// caller logs it and goes on.
func (s *Server) CatchUp(ctx context.Context, after int64) error {
	if after < 0 {
		return nil
	}
	if after == 0 {
		after = projections.DefaultCatchUpAfter
	}
	if s.Saga != nil {
		// The saga's resolver does nothing with configuration events: a
		// leading run of them is passed over at once.
		start := time.Now()
		n, err := s.Store.SkipAhead(ctx, saga.ConsumerGroup, after, saga.Skips)
		if err != nil {
			return err
		}
		if n > 0 {
			s.log.Info("saga passed over events it does nothing with", "events", n, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return projections.CatchUpAll(ctx, s.Store, s.tabled, after, func(name string, c projections.CaughtUp, took time.Duration) {
		s.log.Info("projection caught up the rebuild's way", "projection", name, "events", c.Events, "rebuilt", c.Rebuilt,
			"from", c.From.String(), "to", c.To.String(), "chunks", c.Chunks, "parked", c.Parked, "took", took.Round(time.Millisecond))
		for _, f := range c.Failures {
			s.log.Error("projection parked an event while catching up; it goes on with other streams (R35)", "projection", name, "event", f)
		}
	})
}

package eventstore

import (
	"context"
	"fmt"
)

// SkipAhead moves a consumer group over the events its consumer does
// nothing with, when the group is more than after events behind the log's
// head: a consumer that ignores most of the log (the saga, after a bulk
// seed of configuration) need not be handed them one by one at start.
// skips is told each event after the group's position as read raw (stream
// columns, type and version; not decoded) and must say true only for an
// event the consumer would acknowledge without any effect; the group
// stops before the first event skips refuses, or at the head read before
// the lock. It runs in one transaction that holds the group's lock
// (InGroupTx) and reads the group's position under it, so a live consumer
// of the group in any process waits, and of several processes starting at
// once only the first moves it. It returns the number of events skipped.
func (s *Store) SkipAhead(ctx context.Context, group string, after int64, skips func(Record) bool) (int64, error) {
	head, err := s.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("eventstore: skip ahead %s: %w", group, err)
	}
	far := func() (Position, bool, error) {
		cp, err := s.Checkpoint(ctx, group)
		if err != nil {
			return cp, false, err
		}
		n, err := s.Behind(ctx, cp, head, after+1)
		return cp, n > after, err
	}
	if _, ok, err := far(); err != nil || !ok {
		return 0, err
	}
	if err := s.EnsureGroup(ctx, group); err != nil {
		return 0, err
	}
	var skipped int64
	err = s.InGroupTx(ctx, group, func(ctx context.Context, tx GroupTx) error {
		pos, ok, err := far()
		if err != nil || !ok {
			return err
		}
		for {
			recs, err := s.ReadUntilRaw(ctx, pos, head, 2000)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				break
			}
			stop := false
			for _, rec := range recs {
				if !skips(rec) {
					stop = true
					break
				}
				pos = rec.Position
				skipped++
			}
			if stop {
				break
			}
		}
		if skipped == 0 {
			return nil
		}
		return tx.MoveTo(ctx, pos)
	})
	if err != nil {
		return 0, fmt.Errorf("eventstore: skip ahead %s: %w", group, err)
	}
	if skipped > 0 {
		s.Changed()
	}
	return skipped, nil
}

package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/absender/absender/database"
)

// Lag is how far a consumer group is behind the log.
type Lag struct {
	// Events is the number of events committed after the group's
	// position, counted up to lagCountLimit.
	Events int64
	// Age is how long the oldest of them has waited; zero when caught up.
	Age time.Duration
}

// lagCountLimit bounds the count of a lag (metrics are scraped often).
const lagCountLimit = 1_000_000

// LagOf measures a consumer group's lag from its checkpoint and the head.
func (s *Store) LagOf(ctx context.Context, group string) (Lag, error) {
	cp, err := s.Checkpoint(ctx, group)
	if err != nil {
		return Lag{}, err
	}
	head, err := s.Head(ctx)
	if err != nil {
		return Lag{}, err
	}
	if cp.Reached(head) {
		return Lag{}, nil
	}
	var l Lag
	if l.Events, err = s.Behind(ctx, cp, head, lagCountLimit); err != nil {
		return Lag{}, err
	}
	// The oldest event after the checkpoint, in the consumers' order.
	var q string
	var args []any
	switch s.db.Kind {
	case database.Postgres:
		q = `SELECT created_at FROM events WHERE (transaction_id, "offset") > ($1::text::xid8, $2) ORDER BY transaction_id, "offset" LIMIT 1`
		args = []any{fmt.Sprint(cp.TxID), cp.Offset}
	default:
		q = `SELECT created_at FROM events WHERE "offset" > ? ORDER BY "offset" LIMIT 1`
		args = []any{cp.Offset}
	}
	var at any
	err = s.db.Read.DB.QueryRowContext(ctx, q, args...).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return Lag{}, fmt.Errorf("eventstore: lag of %s: %w", group, err)
	}
	if t := recordedAt(at); !t.IsZero() {
		l.Age = max(s.now().Sub(t), 0)
	}
	return l, nil
}

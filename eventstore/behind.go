package eventstore

import (
	"context"
	"fmt"

	"github.com/absender/absender/database"
)

// Behind counts the events a consumer standing at from has still to read
// up to and including to, in consumer order, but stops counting at limit:
// it walks the log's key from from (an index range on both databases, the
// same one the consumers' batches walk; the ORDER BY keeps PostgreSQL's
// planner on it), so a consumer far behind costs limit index entries, not
// the rest of the log. A limit of 0 or less counts nothing. Health checks
// use it to ask "more than N behind?" without counting the whole log.
func (s *Store) Behind(ctx context.Context, from, to Position, limit int64) (int64, error) {
	if limit <= 0 || !from.Less(to) {
		return 0, nil
	}
	var q string
	var args []any
	switch s.db.Kind {
	case database.Postgres:
		q = `SELECT count(*) FROM (SELECT 1 FROM events
			WHERE (transaction_id, "offset") > ($1::text::xid8, $2)
			  AND (transaction_id, "offset") <= ($3::text::xid8, $4)
			ORDER BY transaction_id, "offset" LIMIT $5) behind`
		args = []any{fmt.Sprint(from.TxID), from.Offset, fmt.Sprint(to.TxID), to.Offset, limit}
	default:
		q = `SELECT count(*) FROM (SELECT 1 FROM events WHERE "offset" > ? AND "offset" <= ? ORDER BY "offset" LIMIT ?) behind`
		args = []any{from.Offset, to.Offset, limit}
	}
	var n int64
	if err := s.db.Read.DB.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("eventstore: events between %s and %s: %w", from, to, err)
	}
	return n, nil
}

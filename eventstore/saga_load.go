package eventstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// LoadManySQLTx is LoadMany through a transaction, such as a consumer's
// (ConsumerTx): it sees what the transaction sees — on PostgreSQL a
// consumer's repeatable-read snapshot — and what it appended itself, so a
// decision appended with AppendSQLTx in the same transaction reads the
// streams in the view its version check has. For the saga's resolver,
// which loads the message streams of a whole batch at once.
func (s *Store) LoadManySQLTx(ctx context.Context, tx *sql.Tx, streamIDs ...string) (map[string][]Record, error) {
	out := make(map[string][]Record, len(streamIDs))
	if len(streamIDs) == 0 {
		return out, nil
	}
	marks := strings.Repeat("?, ", len(streamIDs)-1) + "?"
	args := make([]any, len(streamIDs))
	for i, id := range streamIDs {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, rebind(s.db.Kind,
		`SELECT `+recordColumns(s.db.Kind)+` FROM events WHERE stream_id IN (`+marks+`) ORDER BY stream_id, version`), args...)
	if err != nil {
		return nil, fmt.Errorf("eventstore: load %d streams: %w", len(streamIDs), err)
	}
	recs, err := s.scanRecords(rows)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		out[r.StreamID] = append(out[r.StreamID], r)
	}
	return out, nil
}

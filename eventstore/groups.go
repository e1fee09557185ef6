package eventstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/absender/absender/database"
)

// LockGroup locks a consumer group's offset in tx, for a rebuild that
// replays the group's events and then moves it (MoveGroup): FOR UPDATE on
// PostgreSQL; on SQLite the transaction's BEGIN IMMEDIATE already
// excludes writers.
func (s *Store) LockGroup(ctx context.Context, tx *sql.Tx, group string) error {
	q := `SELECT offset_acked FROM events_offsets WHERE consumer_group = ? FOR UPDATE`
	if s.db.Kind == database.SQLite {
		q = `SELECT offset_acked FROM events_offsets WHERE consumer_group = ?`
	}
	rows, err := tx.QueryContext(ctx, rebind(s.db.Kind, q), group)
	if err != nil {
		return fmt.Errorf("eventstore: lock consumer group %s: %w", group, err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return fmt.Errorf("eventstore: lock consumer group %s: %w", group, err)
	}
	return rows.Close()
}

// MoveGroup sets a consumer group's offset to pos in tx: the group goes on
// after pos (a rebuild replayed everything up to it).
func (s *Store) MoveGroup(ctx context.Context, tx *sql.Tx, group string, pos Position) error {
	txid := "CAST(CAST(? AS TEXT) AS xid8)"
	if s.db.Kind == database.SQLite {
		txid = "CAST(? AS INTEGER)"
	}
	_, err := tx.ExecContext(ctx, rebind(s.db.Kind, `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES (?, ?, `+txid+`)
		ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked, last_processed_transaction_id = excluded.last_processed_transaction_id`),
		group, pos.Offset, fmt.Sprint(pos.TxID))
	if err != nil {
		return fmt.Errorf("eventstore: move consumer group %s to %s: %w", group, pos, err)
	}
	return nil
}

package migrations_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
)

// Issue 12: the saga_schedule migration back-fills the schedule of every
// unfinished message from rm_messages.due_at (a message SENDING is due
// when its attempt started: a worker leases it until the attempt times
// out by the saga's own setting), and moves the saga's consumer group back to
// the messages read model's position when it was ahead, so it applies the
// events the back-fill has not seen again.
func TestSagaScheduleMigrationBackfills(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		txid := "CAST(? AS INTEGER)"
		if db.Kind == database.Postgres {
			txid = "CAST(CAST(? AS TEXT) AS xid8)"
		}
		sql := func(name string) string {
			b, err := os.ReadFile(filepath.Join("common", "20261207180001_saga_schedule.tx."+name+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Write.NewRaw(q, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(sql("down"))
		for _, m := range []struct {
			id, status string
			due        any
		}{{"queued-unresolved", "QUEUED", nil}, {"queued", "QUEUED", 1000}, {"sending", "SENDING", 5000},
			{"retrying", "RETRYING", 9000}, {"sent", "SENT", nil}, {"cancelled", "CANCELLED", nil}} {
			exec(`INSERT INTO rm_messages (id, tenant_id, kind, status, sender, recipients, subject, created_at, updated_at, seq, due_at, trace_parent)
				VALUES (?, 't1', 'MESSAGE', ?, 'a@example.org', '{}', 's', 'x', 'x', 1, ?, 'tp-'||?)`, m.id, m.status, m.due, m.id)
		}
		exec(`INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES ('messages', 10, `+txid+`)`, "5")
		exec(`INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES ('saga', 12, `+txid+`)`, "7")
		exec(sql("up"))

		var rows []struct {
			ID          string `bun:"message_id"`
			Due         *int64 `bun:"due_at"`
			Sending     bool   `bun:"sending"`
			TraceParent string `bun:"trace_parent"`
		}
		if err := db.Read.NewRaw(`SELECT message_id, due_at, sending, trace_parent FROM saga_schedule ORDER BY message_id`).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			due     int64 // -1: NULL
			sending bool
		}{"queued": {1000, false}, "queued-unresolved": {-1, false}, "retrying": {9000, false}, "sending": {5000, true}}
		if len(rows) != len(want) {
			t.Errorf("got %d scheduled messages, want %d: %+v", len(rows), len(want), rows)
		}
		for _, r := range rows {
			w, ok := want[r.ID]
			due := int64(-1)
			if r.Due != nil {
				due = *r.Due
			}
			if !ok || due != w.due || r.Sending != w.sending || r.TraceParent != "tp-"+r.ID {
				t.Errorf("%s: got due %d, sending %v, trace %q; want %+v", r.ID, due, r.Sending, r.TraceParent, w)
			}
		}
		var offset int64
		if err := db.Read.NewRaw(`SELECT offset_acked FROM events_offsets WHERE consumer_group = 'saga'`).Scan(ctx, &offset); err != nil {
			t.Fatal(err)
		}
		if offset != 10 {
			t.Errorf("saga group at offset %d, want 10 (where the messages read model stands)", offset)
		}
		var cols int
		if err := db.Read.NewRaw(`SELECT count(*) FROM rm_messages WHERE id = 'queued'`).Scan(ctx, &cols); err != nil || cols != 1 {
			t.Fatalf("rm_messages after up: %d rows, %v", cols, err)
		}
		if _, err := db.Read.NewRaw(`SELECT due_at FROM rm_messages`).Exec(ctx); err == nil {
			t.Error("rm_messages.due_at still exists after up")
		}
	})
}

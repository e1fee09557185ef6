package eventstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// BenchmarkAppend measures single-event commands (one new stream each, as
// most configuration commands are) with 1 and 16 concurrent writers, next to
// the baseline of a raw single-row INSERT into the same table in autocommit.
// Compare the events/s metrics of the same run: the machine is shared.
func BenchmarkAppend(b *testing.B) {
	dbs := map[string]func(testing.TB) *database.DB{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db := dbs[dialect](b)
			s := eventstore.New(db, eventstore.Options{Registry: newRegistry(&testing.T{})})
			// As in serve: other processes are told about appends.
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			go s.Listen(ctx)
			var seq atomic.Int64
			appendOne := func(b *testing.B) {
				n := seq.Add(1)
				if _, err := s.Append(b.Context(), add("bench-"+strconv.FormatInt(n, 10), 0, "x")); err != nil {
					b.Error(err)
				}
			}
			insertOne := func(b *testing.B) {
				n := seq.Add(1)
				q := `INSERT INTO events (uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version) VALUES (?, ?, ?, ?, 'thing', ?, 1, 'ThingAdded', 1)`
				args := []any{uuid.NewString(), []byte(`{"name":"x"}`), []byte(`{"actor":"tester"}`), time.Now().UTC().Format(time.RFC3339Nano), "raw-" + strconv.FormatInt(n, 10)}
				if db.Kind == database.Postgres {
					q = `INSERT INTO events (uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version, transaction_id) VALUES ($1, $2, $3, $4, 'thing', $5, 1, 'ThingAdded', 1, pg_current_xact_id())`
				}
				if _, err := db.Write.DB.ExecContext(b.Context(), q, args...); err != nil {
					b.Error(err)
				}
			}
			for _, writers := range []int{1, 16} {
				for _, c := range []struct {
					name string
					op   func(*testing.B)
				}{{"raw-insert", insertOne}, {"append", appendOne}} {
					b.Run(fmt.Sprintf("%s/writers=%d", c.name, writers), func(b *testing.B) {
						run(b, writers, c.op)
					})
				}
			}
		})
	}
}

func run(b *testing.B, writers int, op func(*testing.B)) {
	b.ResetTimer()
	if writers == 1 {
		for b.Loop() {
			op(b)
		}
	} else {
		b.SetParallelism((writers + 1) / 2) // GOMAXPROCS is 2 here; RunParallel starts p×GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op(b)
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

package envelope_test

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// BenchmarkExport is a quick look at the export against a raw sequential
// read of the same log, without the server and its read models
// (server's BenchmarkLog is the figure docs/BENCHMARKS.md records).
// BENCH_EVENTS sets the log's size (default 100,000).
func BenchmarkExport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = dbtest.SQLite(b)
			} else {
				db = dbtest.Postgres(b)
			}
			store := eventstore.New(db, eventstore.Options{})
			for i := 0; i < n; i += 100 {
				uid := fmt.Sprintf("u%d", i/100%1000)
				a := eventstore.StreamAppend{StreamType: "user", StreamID: "user-" + uid, ExpectedVersion: eventstore.Any}
				for k := range min(100, n-i) {
					name := fmt.Sprintf("User %d.%d", i, k)
					a.Events = append(a.Events, eventstore.NewEvent{Event: user.UserUpdated{UserID: uid, DisplayName: &name},
						Metadata: eventstore.Metadata{Actor: "bench", TenantID: "t1", CorrelationID: "c-" + uid}})
				}
				if _, err := store.Append(b.Context(), a); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("raw-read", func(b *testing.B) {
				for b.Loop() {
					rows, err := db.Read.DB.QueryContext(b.Context(), `SELECT "offset", uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version FROM events ORDER BY "offset"`)
					if err != nil {
						b.Fatal(err)
					}
					var (
						off, version     int64
						id, st, sid, typ string
						payload, md      []byte
						at               any
						sv               int
					)
					for rows.Next() {
						if err := rows.Scan(&off, &id, &payload, &md, &at, &st, &sid, &version, &typ, &sv); err != nil {
							b.Fatal(err)
						}
					}
					rows.Close()
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
			b.Run("export", func(b *testing.B) {
				for b.Loop() {
					got, err := envelope.Export(b.Context(), store, io.Discard, envelope.Filter{}, nil)
					if err != nil || got != int64(n) {
						b.Fatalf("exported %d events (%v), want %d", got, err, n)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		})
	}
}

package server_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

// logSize is the history of BenchmarkLog: 1,000,000 events (BENCH_EVENTS
// to change it; BENCH_SMALL=1 for 50,000).
func logSize() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	if benchSmall {
		return 50_000
	}
	return 1_000_000
}

// BenchmarkLog measures reading a long history, in events/s, next to a raw
// sequential read of the events table in the same run:
//
//   - raw-read: SELECT of every column of every event, in position order;
//   - export: `absender events export` (envelopes as JSON lines, secrets
//     removed) to io.Discard;
//   - rebuild/<projection>: a full rebuild of each read model.
func BenchmarkLog(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = dbtest.SQLite(b)
			} else {
				db = dbtest.Postgres(b)
			}
			in := servertest.Start(b, db)
			n := fillLog(b, in, logSize())
			b.Logf("history of %d events", n)
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
						count            int64
					)
					for rows.Next() {
						if err := rows.Scan(&off, &id, &payload, &md, &at, &st, &sid, &version, &typ, &sv); err != nil {
							b.Fatal(err)
						}
						count++
					}
					rows.Close()
					if count != n {
						b.Fatalf("read %d events, want %d", count, n)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
			b.Run("export", func(b *testing.B) {
				for b.Loop() {
					got, err := envelope.Export(b.Context(), in.Server.Store, io.Discard, envelope.Filter{}, nil)
					if err != nil || got != n {
						b.Fatalf("exported %d events (%v), want %d", got, err, n)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
			for _, p := range projections.All() {
				b.Run("rebuild/"+p.Name(), func(b *testing.B) {
					for b.Loop() {
						if _, err := projections.Rebuild(b.Context(), in.Server.Store, p, nil); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
		})
	}
}

// fillLog makes a history of about n events: a few tenants with users
// through the commands, then display-name changes appended 100 per append,
// and waits until the read models have caught up.
func fillLog(b *testing.B, in *servertest.Instance, n int) int64 {
	ctx := seed.AsSystem(b.Context())
	svc, store := in.Server.App, in.Server.Store
	var users []string
	for t := range 10 {
		tid, _, err := svc.Commands.Tenants.Create(ctx, fmt.Sprintf("Log %d", t))
		if err != nil {
			b.Fatal(err)
		}
		for u := range 100 {
			uid, _, err := svc.Commands.Users.Create(ctx, tid, fmt.Sprintf("log-%d-%d", t, u), "User", fmt.Sprintf("u%d@log%d.example", u, t), domain.RoleEmployee)
			if err != nil {
				b.Fatal(err)
			}
			users = append(users, uid)
		}
	}
	versions := map[string]int64{}
	count, _ := store.Count(ctx)
	for i := 0; count < int64(n); i++ {
		uid := users[i%len(users)]
		if versions[uid] == 0 {
			recs, err := store.Load(ctx, "user-"+uid)
			if err != nil {
				b.Fatal(err)
			}
			versions[uid] = recs[len(recs)-1].Version
		}
		tenant := ""
		a := eventstore.StreamAppend{StreamType: "user", StreamID: "user-" + uid, ExpectedVersion: versions[uid]}
		for k := range min(100, int64(n)-count) {
			name := fmt.Sprintf("User %d.%d", i, k)
			a.Events = append(a.Events, eventstore.NewEvent{Event: user.UserUpdated{UserID: uid, TenantID: tenant, DisplayName: &name},
				Metadata: eventstore.Metadata{Actor: "bench"}})
		}
		if _, err := store.Append(b.Context(), a); err != nil {
			b.Fatal(err)
		}
		versions[uid] += int64(len(a.Events))
		count += int64(len(a.Events))
	}
	head, err := store.Head(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(b.Context(), 30*time.Minute)
	defer cancel()
	if err := in.Server.Runner.WaitFor(wctx, head); err != nil {
		b.Fatal(err)
	}
	return count
}

package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server"
)

// BenchmarkColdStart measures a restart on a long log whose read models
// have caught up (issue 13 item 7): a log of BENCH_EVENTS events (default
// 1,000,000), appended directly, the read models rebuilt and the saga's
// group at the head; then the time from server.NewProcess to the first 200
// of /readyz, in ms, as `absender serve` starts. Baseline, same run: opening
// the database and reading the log's head (open-head).
func BenchmarkColdStart(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db, raw := benchDB(b, dialect)
			srv := buildServer(b, db)
			n := appendLog(b, srv, logSize())
			for _, p := range projections.All() {
				if _, err := projections.Rebuild(b.Context(), srv.Store, p, nil); err != nil {
					b.Fatal(err)
				}
			}
			moveGroup(b, srv.Store, saga.ConsumerGroup, true)
			b.Logf("history of %d events, read models caught up", n)
			b.Run("open-head", func(b *testing.B) {
				for b.Loop() {
					db, err := database.Open(b.Context(), raw, database.Options{MustExist: true})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := eventstore.New(db, eventstore.Options{}).Head(b.Context()); err != nil {
						b.Fatal(err)
					}
					_ = db.Close()
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/start")
			})
			b.Run("serve", func(b *testing.B) {
				for b.Loop() {
					startServe(b, raw, 0)
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/start")
			})
		})
	}
}

// BenchmarkServeCatchUp measures `serve` far behind (issue 13 item 7): the
// log of `absender seed benchmark` (145,404 events; BENCH_SMALL=1 a tenth)
// written through the command layer with no consumer running, then the
// time from server.NewProcess to the first 200 of /readyz, in events/s
// over the whole log:
//
//   - catch-up: as serve starts now (projections.CatchUp first);
//   - event-by-event: with the catch-up turned off, the live consumers
//     alone (as before);
//   - rebuild: `projections rebuild` of every read model, one after the
//     other, on the same log (the baseline; its tables are full then, so
//     it also empties them).
//
// Before each start the consumer groups go back to the log's start; the
// read-model rows stay (the catch-up empties the tables as a rebuild
// does, the live consumers upsert over them).
func BenchmarkServeCatchUp(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db, raw := benchDB(b, dialect)
			srv := buildServer(b, db)
			sz := seed.BenchmarkSizes
			if benchSmall {
				sz = seed.Sizes{Users: sz.Users / 10, Mailboxes: sz.Mailboxes / 10, Grants: sz.Grants / 10, Groups: sz.Groups / 10}
			}
			if _, err := seed.Benchmark(b.Context(), srv.App, sz, 8, nil); err != nil {
				b.Fatal(err)
			}
			n, err := srv.Store.Count(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("history of %d events, no read model", n)
			reset := func() {
				for _, g := range append(srv.Runner.Groups(), saga.ConsumerGroup) {
					moveGroup(b, srv.Store, g, false)
				}
			}
			for _, mode := range []struct {
				name  string
				after int64
			}{{"catch-up", 0}, {"event-by-event", math.MaxInt64}} {
				b.Run(mode.name, func(b *testing.B) {
					for b.Loop() {
						b.StopTimer()
						reset()
						b.StartTimer()
						startServe(b, raw, mode.after)
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
			b.Run("rebuild", func(b *testing.B) {
				for b.Loop() {
					for _, p := range projections.All() {
						if _, err := projections.Rebuild(b.Context(), srv.Store, p, nil); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		})
	}
}

// benchDB is a migrated database of the dialect and the string that opens
// it again.
func benchDB(b testing.TB, dialect string) (*database.DB, string) {
	if dialect == "sqlite" {
		db := dbtest.SQLite(b)
		return db, db.Path
	}
	db := dbtest.Postgres(b)
	return db, db.URL
}

var benchRing = func() func(*database.DB) (*keyring.Ring, error) {
	return func(*database.DB) (*keyring.Ring, error) {
		return keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{42}, 32)})
	}
}()

// buildServer assembles a server on db that runs nothing: its command
// layer and store write the log.
func buildServer(b testing.TB, db *database.DB) *server.Server {
	ring, err := benchRing(db)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Options{DB: db, Keyring: ring, NoSaga: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// appendLog makes a history of about n events as fillLog does (tenants and
// users through the commands, then display-name changes 1,000 per append),
// with no consumer running.
func appendLog(b testing.TB, srv *server.Server, n int) int64 {
	ctx := seed.AsSystem(b.Context())
	var users []string
	for t := range 10 {
		tid, _, err := srv.App.Commands.Tenants.Create(ctx, fmt.Sprintf("Log %d", t))
		if err != nil {
			b.Fatal(err)
		}
		for u := range 100 {
			uid, _, err := srv.App.Commands.Users.Create(ctx, tid, fmt.Sprintf("log-%d-%d", t, u), "User", fmt.Sprintf("u%d@log%d.example", u, t), domain.RoleEmployee)
			if err != nil {
				b.Fatal(err)
			}
			users = append(users, uid)
		}
	}
	store := srv.Store
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
		a := eventstore.StreamAppend{StreamType: "user", StreamID: "user-" + uid, ExpectedVersion: versions[uid]}
		for k := range min(1000, int64(n)-count) {
			name := fmt.Sprintf("User %d.%d", i, k)
			a.Events = append(a.Events, eventstore.NewEvent{Event: user.UserUpdated{UserID: uid, DisplayName: &name},
				Metadata: eventstore.Metadata{Actor: "bench"}})
		}
		if _, err := store.Append(b.Context(), a); err != nil {
			b.Fatal(err)
		}
		versions[uid] += int64(len(a.Events))
		count += int64(len(a.Events))
	}
	return count
}

// moveGroup moves a consumer group to the log's head (toHead) or to its
// start, and drops nothing else.
func moveGroup(b testing.TB, store *eventstore.Store, group string, toHead bool) {
	if !toHead {
		if err := store.ResetGroup(b.Context(), group); err != nil {
			b.Fatal(err)
		}
		return
	}
	pos, err := store.Head(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	if err := store.InGroupTx(b.Context(), group, func(ctx context.Context, tx eventstore.GroupTx) error {
		return tx.MoveTo(ctx, pos)
	}); err != nil {
		b.Fatal(err)
	}
}

// startServe starts a process on the database as `absender serve` does
// (catching up read models more than after events behind; 0: the
// default), waits for /readyz to answer 200 and stops it.
func startServe(b *testing.B, raw string, after int64) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	var log bytes.Buffer // read only after Run returned
	start := time.Now()
	p, err := server.NewProcess(ctx, server.Config{
		Log:          slog.New(slog.NewTextHandler(&log, nil)),
		OpenDB:       func(ctx context.Context) (*database.DB, error) { return database.Open(ctx, raw, database.Options{}) },
		Keyring:      benchRing,
		Listen:       "127.0.0.1:0",
		CatchUpAfter: after,
		Server:       server.Options{Saga: saga.Options{Poll: 100 * time.Millisecond}},
	})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	url := "http://" + p.Addr().String() + "/readyz"
	for {
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			b.Fatalf("process stopped before it was ready: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	b.StopTimer()
	ready := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if testing.Verbose() { // where the start's time went
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.Contains(l, "caught up") || strings.Contains(l, "passed over") {
				b.Log(l)
			}
		}
		b.Logf("ready after %s", ready.Round(time.Millisecond))
	}
	b.StartTimer()
}

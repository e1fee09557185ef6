package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/cpucost"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

const renameMutation = `mutation($id: ID!, $n: String!) { updateMailbox(id: $id, displayName: $n) { id displayName } }`

// BenchmarkMutations measures GraphQL mutations over the real HTTP server
// with read-your-writes on (issue 13 item 2, rows 1–3): updateMailbox on a
// tenant of 50 users and 200 mailboxes, each client renaming its own
// mailbox, next to a raw single-row INSERT on the same pool in the same
// run (the machine is shared: compare the ratios, not the rates):
//
//   - raw-insert: 16 goroutines each INSERTing one row in autocommit into
//     a scratch table;
//   - graphql-16: 16 HTTP clients, mutations/s and the ratio to raw-insert;
//   - graphql-1: one client, p50/p99 of one mutation in ms.
//
// raw-insert and graphql-16 also report what one operation costs in CPU
// (go-cpu-ms/op, pg-cpu-ms/op) and the rate the machine's cores allow at
// that cost (ceiling-ops/s; internal/cpucost); idle reports the CPU the
// server spends with no request (go-cpu-%, pg-cpu-% of one core).
func BenchmarkMutations(b *testing.B) {
	dbtest.EachBench(b, benchMutations)
}

func benchMutations(b *testing.B, db *database.DB) {
	in := servertest.Start(b, db)
	t := seedTenant(b, in, seed.Sizes{Users: 50, Mailboxes: 200, Grants: 400, Groups: 8}, 2)

	// The baseline's scratch table; no package owns it, nothing reads it.
	create := `CREATE TABLE IF NOT EXISTS bench_scratch (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`
	insert := `INSERT INTO bench_scratch (name) VALUES (?)`
	if db.Kind == database.Postgres {
		create = `CREATE TABLE IF NOT EXISTS bench_scratch (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)`
		insert = `INSERT INTO bench_scratch (name) VALUES ($1)`
	}
	if _, err := db.Write.DB.ExecContext(b.Context(), create); err != nil {
		b.Fatal(err)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var seq atomic.Int64
	mutate := func(mailbox string) error {
		body, _ := json.Marshal(map[string]any{"query": renameMutation,
			"variables": map[string]any{"id": mailbox, "n": fmt.Sprintf("Renamed %d", seq.Add(1))}})
		req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+in.Admin)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		var r servertest.Response
		if err := json.Unmarshal(out, &r); err != nil || len(r.Errors) > 0 || r.Extensions["warnings"] != nil {
			return fmt.Errorf("updateMailbox answered %.300s", out)
		}
		return nil
	}
	if err := mutate(t.Mailboxes[0]); err != nil {
		b.Fatal(err)
	}

	pgName, err := cpucost.DatabaseName(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}

	// clients runs op on n goroutines until b.N operations are done and
	// reports their CPU; the client index picks the mailbox, so no two
	// clients conflict.
	clients := func(b *testing.B, n int, op func(client int) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		cpu := cpucost.Start(pgName)
		for c := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					if err := op(c); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		cpucost.Report(b, cpu, b.N)
		return float64(b.N) / b.Elapsed().Seconds()
	}

	var raw float64
	b.Run("raw-insert", func(b *testing.B) {
		raw = clients(b, 16, func(int) error {
			_, err := db.Write.DB.ExecContext(b.Context(), insert, "x")
			return err
		})
		b.ReportMetric(raw, "inserts/s")
	})
	b.Run("graphql-16", func(b *testing.B) {
		rate := clients(b, 16, func(c int) error { return mutate(t.Mailboxes[c]) })
		b.ReportMetric(rate, "mutations/s")
		if raw > 0 {
			b.ReportMetric(rate/raw, "ratio-to-raw")
		}
	})
	b.Run("idle", func(b *testing.B) {
		// The server with no request: what its consumers and timers
		// cost per second, part of every mutation's CPU at low rates.
		cpu := cpucost.Start(pgName)
		time.Sleep(time.Duration(b.N) * time.Millisecond)
		cpucost.ReportIdle(b, cpu)
	})
	b.Run("graphql-1", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			if err := mutate(t.Mailboxes[20]); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		report(b, lat)
	})
}

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

const optionsQuery = `query($u: ID!) { senderOptions(userId: $u) { address displayName source mailboxId transport } }`

// BenchmarkSenderOptions measures senderOptions over HTTP on the benchmark
// tenant (10,000 users, 2,000 mailboxes, 50,000 grants; BENCH_SMALL=1 for
// a tenth), next to a plain net/http handler that returns the same JSON
// from memory, in the same run:
//
//   - graphql / static: the highest requests/s with 16 concurrent clients;
//   - latency-1000rps: p50/p99 at a fixed offered load of 1,000 requests/s;
//   - lag-500cps: commit → visible in senderOptions (the directory
//     projection has applied it), p50/p99, at 500 commands/s.
func BenchmarkSenderOptions(b *testing.B) {
	dbtest.EachBench(b, benchSenderOptions)
}

func benchSenderOptions(b *testing.B, db *database.DB) {
	in := servertest.Start(b, db)
	sz := seed.BenchmarkSizes
	if testingSmall() {
		sz = seed.Sizes{Users: 1000, Mailboxes: 200, Grants: 5000, Groups: 20}
	}
	start := time.Now()
	t := seedTenant(b, in, sz, 8)
	b.Logf("seeded %d users, %d mailboxes, %d grants (+%d group grants) in %s", len(t.Users), len(t.Mailboxes), sz.Grants, len(t.Groups)*3, time.Since(start).Round(time.Second))

	post := adminPoster(in)
	bodies := make([][]byte, 256)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"query": optionsQuery, "variables": map[string]any{"u": t.Users[rnd.IntN(len(t.Users))]}})
	}
	sample, err := post(in.URL+"/graphql", bodies[0])
	if err != nil {
		b.Fatal(err)
	}
	var check struct {
		Data struct {
			SenderOptions []json.RawMessage `json:"senderOptions"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(sample, &check); err != nil || len(check.Errors) > 0 || len(check.Data.SenderOptions) == 0 {
		b.Fatalf("senderOptions answered %.300s", sample)
	}
	b.Logf("a user has %d sender options (%d bytes of JSON)", len(check.Data.SenderOptions), len(sample))
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(sample)
	}))
	defer static.Close()

	for _, target := range []struct{ name, url string }{{"static", static.URL}, {"graphql", in.URL + "/graphql"}} {
		b.Run(target.name, func(b *testing.B) {
			var i atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := post(target.url, bodies[i.Add(1)%int64(len(bodies))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}

	b.Run("latency-1000rps", func(b *testing.B) {
		lat := paced(b, 1000, func(i int) error {
			_, err := post(in.URL+"/graphql", bodies[i%len(bodies)])
			return err
		})
		report(b, lat)
	})

	b.Run("lag-500cps", func(b *testing.B) {
		ctx := seed.AsSystem(b.Context())
		lat := paced(b, 500, func(i int) error {
			name := fmt.Sprintf("Renamed %d", i)
			res, err := in.Server.App.Commands.Users.Update(ctx, t.Users[i%len(t.Users)], user.Update{DisplayName: &name})
			if err != nil {
				return err
			}
			committed := time.Now()
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := in.Server.Store.WaitFor(wctx, res.Position, "directory"); err != nil {
				return err
			}
			lagMu.Lock()
			lags = append(lags, time.Since(committed))
			lagMu.Unlock()
			return nil
		})
		_ = lat
		lagMu.Lock()
		report(b, lags)
		lags = nil
		lagMu.Unlock()
	})
}

var (
	lagMu sync.Mutex
	lags  []time.Duration
)

// paced starts b.N operations at a fixed rate (open loop: a slow answer
// does not delay the next start) and returns each one's duration.
func paced(b *testing.B, perSecond int, op func(i int) error) []time.Duration {
	interval := time.Second / time.Duration(perSecond)
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	next := time.Now()
	for i := range b.N {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := op(i); err != nil {
				b.Error(err)
			}
			lat[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	return lat
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	q := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func testingSmall() bool { return benchSmall }

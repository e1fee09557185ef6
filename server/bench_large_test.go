package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

// BenchmarkSenderOptionsLarge measures senderOptions for users with
// hundreds of options (issue 13, item 6): a tenant of 50 users and 200
// open mailboxes (no grants, so every non-external user may use every
// mailbox: 202 options — the system mailbox, 200 mailboxes, the user's own
// address), 64 concurrent clients asking for the non-external users'
// lists, next to a plain net/http handler that returns the same body from
// memory, in the same run. Each sub-benchmark reports req/s and the p99 of
// a request; graphql also reports its ratio to static.
func BenchmarkSenderOptionsLarge(b *testing.B) {
	dbtest.EachBench(b, benchSenderOptionsLarge)
}

func benchSenderOptionsLarge(b *testing.B, db *database.DB) {
	in := servertest.Start(b, db)
	t := seedTenant(b, in, seed.Sizes{Users: 50, Mailboxes: 200}, 8)

	post := adminPoster(in)
	var bodies [][]byte
	var sample []byte
	for _, u := range t.Users {
		body, _ := json.Marshal(map[string]any{"query": optionsQuery, "variables": map[string]any{"u": u}})
		answer, err := post(in.URL+"/graphql", body)
		if err != nil {
			b.Fatal(err)
		}
		var check struct {
			Data struct {
				SenderOptions []json.RawMessage `json:"senderOptions"`
			} `json:"data"`
			Errors []any `json:"errors"`
		}
		if err := json.Unmarshal(answer, &check); err != nil || len(check.Errors) > 0 {
			b.Fatalf("senderOptions answered %.300s", answer)
		}
		if len(check.Data.SenderOptions) == 202 { // external users have 2
			bodies = append(bodies, body)
			sample = answer
		}
	}
	if len(bodies) == 0 {
		b.Fatal("no user has 202 sender options")
	}
	b.Logf("%d of %d users have 202 sender options (%d bytes of JSON)", len(bodies), len(t.Users), len(sample))
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(sample)
	}))
	defer static.Close()

	var staticRate float64
	for _, target := range []struct{ name, url string }{{"static", static.URL}, {"graphql", in.URL + "/graphql"}} {
		b.Run(target.name, func(b *testing.B) {
			var i atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(64 / max(1, runtimeProcs()))
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				defer func() {
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
				for pb.Next() {
					t0 := time.Now()
					if _, err := post(target.url, bodies[i.Add(1)%int64(len(bodies))]); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
			})
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "req/s")
			if target.name == "static" {
				staticRate = rate
			} else if staticRate > 0 {
				b.ReportMetric(rate/staticRate, "ratio")
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

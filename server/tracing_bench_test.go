package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
	"github.com/absender/absender/telemetry"
)

// discard is a span exporter that drops what it gets (the cost of
// exporting is the collector's, not ours).
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkTracingOverhead measures senderOptions over HTTP (8 concurrent
// clients, a seeded tenant of 1,000 users) with tracing off (no SDK, the
// default), with the SDK but sampling off (never), sampling one trace in
// ten (ratio) and every trace (always); report each as a ratio of off, all
// in the same run. Each mode gets its own server and database, opened
// after its telemetry is installed, since instrumentation takes the
// providers at construction.
func BenchmarkTracingOverhead(b *testing.B) {
	for _, mode := range []struct {
		name    string
		sampler sdktrace.Sampler // nil: no SDK
	}{
		{"off", nil},
		{"never", sdktrace.NeverSample()},
		{"ratio-0.1", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))},
		{"always", sdktrace.AlwaysSample()},
	} {
		b.Run(mode.name, func(b *testing.B) {
			opts := telemetry.Options{Version: "bench", Getenv: func(string) string { return "" }}
			if mode.sampler != nil {
				opts.SpanExporter, opts.Sampler = discard{}, mode.sampler
			}
			tel, err := telemetry.Setup(context.Background(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = tel.Shutdown(context.Background()) }()
			in := servertest.Start(b, dbtest.SQLite(b))
			t := seedTenant(b, in, seed.Sizes{Users: 1000, Mailboxes: 200, Grants: 5000, Groups: 20}, 8)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			bodies := make([][]byte, 256)
			rnd := rand.New(rand.NewPCG(1, 2))
			for i := range bodies {
				bodies[i], _ = json.Marshal(map[string]any{"query": optionsQuery, "variables": map[string]any{"u": t.Users[rnd.IntN(len(t.Users))]}})
			}
			var i atomic.Int64
			b.ResetTimer()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(bodies[i.Add(1)%int64(len(bodies))]))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+in.Admin)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

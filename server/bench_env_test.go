package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

// benchSmall seeds a tenth of the benchmark tenant (BENCH_SMALL=1), for a
// quick look.
var benchSmall = os.Getenv("BENCH_SMALL") != ""

// seedTenant seeds a benchmark tenant of size sz through the commands
// (workers at once) and waits, at most 10 minutes, until every read model
// has applied it.
func seedTenant(b *testing.B, in *servertest.Instance, sz seed.Sizes, workers int) seed.Tenant {
	b.Helper()
	t, err := seed.Benchmark(b.Context(), in.Server.App, sz, workers, nil)
	if err != nil {
		b.Fatal(err)
	}
	head, err := in.Server.Store.Head(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	if err := in.Server.Runner.WaitFor(wctx, head); err != nil {
		b.Fatal(err)
	}
	return t
}

// adminPoster posts a JSON body with the administrator's token over a
// pool of 64 kept connections and returns the answer's body.
func adminPoster(in *servertest.Instance) func(url string, body []byte) ([]byte, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return func(url string, body []byte) ([]byte, error) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+in.Admin)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
}

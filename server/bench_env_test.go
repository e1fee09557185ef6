package server_test

import (
	"context"
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

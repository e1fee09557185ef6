package server_test

import "os"

// benchSmall seeds a tenth of the benchmark tenant (BENCH_SMALL=1), for a
// quick look.
var benchSmall = os.Getenv("BENCH_SMALL") != ""

// Package cpucost measures what a benchmark's operations cost in CPU —
// the Go process's own (getrusage) and, on PostgreSQL, the server's
// processes (/proc/<pid>/stat) — and the ceiling that sets on this machine:
// ops/s ≤ cores × 1 s / (CPU s per op), whatever the latency. The machine
// is shared and noisy, so rates move from run to run; the CPU an operation
// costs moves much less, and says whether a target rate is reachable at all.
//
// A Meter is started right before a benchmark's timed loop and stopped
// right after it; Report adds go-cpu-ms/op, pg-cpu-ms/op, pg-all-cpu-ms/op
// and ceiling-ops/s to the benchmark's line.
package cpucost

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/absender/absender/database"
)

// Meter holds the clocks read when it was started.
type Meter struct {
	database string // PostgreSQL database of this benchmark; "" on SQLite
	procRoot string // /proc, or a fixture in tests
	comm     string // the server's process name in /proc/<pid>/stat
	wall     time.Time
	goCPU    time.Duration
	pg       snapshot
	err      error // a failure to read the clocks, reported by Stop
}

// Start reads the clocks. pgDatabase names the PostgreSQL database the
// benchmark works in ("" on SQLite: nothing is read of PostgreSQL, and its
// CPU is reported as 0).
func Start(pgDatabase string) *Meter {
	m := &Meter{database: pgDatabase, procRoot: "/proc", comm: "postgres"}
	m.start()
	return m
}

func (m *Meter) start() {
	if m.database != "" {
		m.pg, m.err = readServer(m.procRoot, m.comm, m.database)
	}
	var err error
	m.goCPU, err = processCPU()
	if err != nil && m.err == nil {
		m.err = err
	}
	m.wall = time.Now()
}

// Cost is what happened between a Meter's Start and Stop.
type Cost struct {
	Wall time.Duration
	// Go is the CPU of this process (user + system, every thread): the
	// server under test and, in a benchmark, its clients too.
	Go time.Duration
	// Postgres is true when the server's processes were read.
	Postgres bool
	// PG splits the server's CPU (user + system) by process.
	PG ServerCPU
	// Cores is the CPU this machine gives: runtime.NumCPU(), or the
	// cgroup's limit when lower.
	Cores float64
}

// ServerCPU is the CPU of PostgreSQL's processes over a measurement.
type ServerCPU struct {
	// Own: the backends (and autovacuum workers) of the benchmark's
	// database.
	Own time.Duration
	// Shared: processes of no database — postmaster, checkpointer,
	// background writer, walwriter, launchers, parallel workers. They
	// work for every database, this benchmark's included.
	Shared time.Duration
	// Other: backends of other databases (other tests and benchmarks on
	// the same server).
	Other time.Duration
	// Exited: processes that ended during the measurement, counted from
	// the postmaster's reaped children (cutime + cstime); which database
	// they served is no longer known.
	Exited time.Duration
	// Procs is the number of server processes read at Stop.
	Procs int
}

// Share is the CPU the server spent for the benchmark's database: its
// own backends and the processes that serve every database.
func (s ServerCPU) Share() time.Duration { return s.Own + s.Shared }

// All is the CPU of every server process, whoever it worked for.
func (s ServerCPU) All() time.Duration { return s.Own + s.Shared + s.Other + s.Exited }

// Stop reads the clocks again and returns what was spent since Start.
func (m *Meter) Stop() (Cost, error) {
	wall := time.Since(m.wall)
	goCPU, err := processCPU()
	c := Cost{Wall: wall, Go: goCPU - m.goCPU, Postgres: m.database != "", Cores: Cores()}
	if m.err != nil {
		return c, m.err
	}
	if err != nil {
		return c, err
	}
	if m.database != "" {
		end, err := readServer(m.procRoot, m.comm, m.database)
		if err != nil {
			return c, err
		}
		if len(end.procs) == 0 {
			return c, fmt.Errorf("cpucost: no %q process in %s: is the server on another machine?", m.comm, m.procRoot)
		}
		c.PG = diff(m.pg, end)
	}
	return c, nil
}

// CPU is the CPU the operations cost on this machine: the Go process and
// the server's share for this benchmark.
func (c Cost) CPU() time.Duration { return c.Go + c.PG.Share() }

// Ceiling is the highest rate the machine's cores allow at this CPU per
// operation: cores × 1 s / (CPU s per op). 0 when nothing was measured.
func (c Cost) Ceiling(ops int) float64 {
	if ops <= 0 || c.CPU() <= 0 {
		return 0
	}
	return c.Cores * float64(ops) / c.CPU().Seconds()
}

// Report stops m and reports per operation: go-cpu-ms/op, pg-cpu-ms/op
// (the server's share for this benchmark's database: its backends and the
// shared processes), pg-all-cpu-ms/op (every server process, other
// databases' backends included: an upper bound when other work shares the
// server) and ceiling-ops/s (from go + pg). On SQLite both pg figures are 0.
func Report(b *testing.B, m *Meter, ops int) Cost {
	b.Helper()
	c, err := m.Stop()
	if err != nil {
		b.Fatal(err)
	}
	if ops <= 0 {
		return c
	}
	b.Logf("cpu over %v: go %v; postgres: this database's backends %v, shared processes %v, other databases' %v, ended %v (%d processes); %.3g cores",
		c.Wall.Round(time.Millisecond), c.Go.Round(time.Millisecond), c.PG.Own, c.PG.Shared, c.PG.Other, c.PG.Exited, c.PG.Procs, c.Cores)
	perOp := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(ops) }
	b.ReportMetric(perOp(c.Go), "go-cpu-ms/op")
	b.ReportMetric(perOp(c.PG.Share()), "pg-cpu-ms/op")
	b.ReportMetric(perOp(c.PG.All()), "pg-all-cpu-ms/op")
	b.ReportMetric(c.Ceiling(ops), "ceiling-ops/s")
	return c
}

// ReportIdle stops m and reports the CPU spent while no operation ran, as
// a share of one core: go-cpu-% and pg-cpu-% (this database's share). A
// server that polls or ticks spends it whatever the load; per operation it
// shrinks as the rate grows.
func ReportIdle(b *testing.B, m *Meter) Cost {
	b.Helper()
	c, err := m.Stop()
	if err != nil {
		b.Fatal(err)
	}
	if c.Wall > 0 {
		b.ReportMetric(100*c.Go.Seconds()/c.Wall.Seconds(), "go-cpu-%")
		b.ReportMetric(100*c.PG.Share().Seconds()/c.Wall.Seconds(), "pg-cpu-%")
	}
	return c
}

// DatabaseName returns the PostgreSQL database db works in, or "" on
// SQLite: the argument Start takes.
func DatabaseName(ctx context.Context, db *database.DB) (string, error) {
	if db.Kind != database.Postgres {
		return "", nil
	}
	var name string
	if err := db.Read.NewRaw(`SELECT current_database()`).Scan(ctx, &name); err != nil {
		return "", fmt.Errorf("cpucost: current database: %w", err)
	}
	return name, nil
}

// Cores is runtime.NumCPU(), or the cgroup's CPU limit when it is lower.
func Cores() float64 {
	n := float64(runtime.NumCPU())
	if limit, ok := cgroupLimit("/sys/fs/cgroup"); ok && limit < n {
		return limit
	}
	return n
}

package cpucost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's times: USER_HZ, which Linux
// fixes at 100 for user space on every architecture.
const clockTick = 10 * time.Millisecond

// procStat is what a measurement needs of one /proc/<pid>/stat line.
type procStat struct {
	pid       int
	comm      string
	ppid      int
	utime     uint64 // ticks, this process
	stime     uint64
	cutime    uint64 // ticks, its children that it has waited for
	cstime    uint64
	starttime uint64 // ticks after boot; with pid, names one process
}

// parseStat parses a /proc/<pid>/stat line. The comm field is in
// parentheses and may itself hold spaces and parentheses, so it runs to
// the line's last ')'.
func parseStat(line string) (procStat, error) {
	open := strings.IndexByte(line, '(')
	closing := strings.LastIndexByte(line, ')')
	if open < 1 || closing < open {
		return procStat{}, fmt.Errorf("cpucost: stat line %.80q: no (comm)", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return procStat{}, fmt.Errorf("cpucost: stat line %.80q: pid: %w", line, err)
	}
	// rest[0] is field 3 (state), so field n is rest[n-3].
	rest := strings.Fields(line[closing+1:])
	if len(rest) < 22-3+1 {
		return procStat{}, fmt.Errorf("cpucost: stat line %.80q: %d fields after comm, want at least 20", line, len(rest))
	}
	field := func(n int) (uint64, error) {
		v, err := strconv.ParseUint(rest[n-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpucost: stat line %.80q: field %d: %w", line, n, err)
		}
		return v, nil
	}
	s := procStat{pid: pid, comm: line[open+1 : closing]}
	ppid, err := field(4)
	if err != nil {
		return procStat{}, err
	}
	s.ppid = int(ppid)
	for _, f := range []struct {
		n   int
		dst *uint64
	}{{14, &s.utime}, {15, &s.stime}, {16, &s.cutime}, {17, &s.cstime}, {22, &s.starttime}} {
		if *f.dst, err = field(f.n); err != nil {
			return procStat{}, err
		}
	}
	return s, nil
}

// class says whom a server process works for.
type class int

const (
	shared class = iota // no database: postmaster, checkpointer, walwriter…
	own                 // a backend or autovacuum worker of the measured database
	other               // a backend or autovacuum worker of another database
)

// classify reads a server process's title (its cmdline, which PostgreSQL
// overwrites: "postgres: [cluster: ]user database host(port) state" for a
// backend, "postgres: [cluster: ]autovacuum worker database", and
// "postgres: [cluster: ]walwriter" for the processes of no database).
func classify(cmdline, database string) class {
	tokens := strings.Fields(strings.ReplaceAll(cmdline, "\x00", " "))
	if len(tokens) == 0 || tokens[0] != "postgres:" {
		return shared // the postmaster keeps its command line
	}
	autovacuum := false
	for i, t := range tokens[1:] {
		if t == database {
			return own
		}
		if t == "worker" && i > 0 && tokens[i] == "autovacuum" {
			autovacuum = true
		}
	}
	if autovacuum {
		return other
	}
	for _, t := range tokens[1:] {
		if t == "[local]" || (strings.HasSuffix(t, ")") && strings.Contains(t, "(")) {
			return other // a client's host(port): a backend of another database
		}
	}
	return shared
}

type procKey struct {
	pid       int
	starttime uint64
}

type procCPU struct {
	ticks uint64 // utime + stime
	class class
}

// snapshot is the server's processes at one moment.
type snapshot struct {
	procs  map[procKey]procCPU
	reaped uint64 // Σ cutime + cstime: every process's waited-for children
}

// readServer reads every process named comm under root (a /proc). A
// process that ends while it is read is skipped: it is counted among the
// reaped at the next snapshot.
func readServer(root, comm, database string) (snapshot, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return snapshot{}, fmt.Errorf("cpucost: %w", err)
	}
	snap := snapshot{procs: map[procKey]procCPU{}}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, e.Name(), "stat"))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue
		}
		if err != nil {
			return snapshot{}, fmt.Errorf("cpucost: %w", err)
		}
		s, err := parseStat(strings.TrimSpace(string(raw)))
		if err != nil {
			return snapshot{}, err
		}
		if s.comm != comm {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(root, e.Name(), "cmdline"))
		if err != nil {
			continue // ended between its stat and its cmdline
		}
		snap.procs[procKey{s.pid, s.starttime}] = procCPU{ticks: s.utime + s.stime, class: classify(string(cmdline), database)}
		snap.reaped += s.cutime + s.cstime
	}
	return snap, nil
}

// diff is the server's CPU from start to end. A process alive at both
// counts its growth; one that appeared counts all of its time; one that
// ended was waited for by its parent (the postmaster), whose cutime and
// cstime then hold its whole life — less what it had at start.
func diff(start, end snapshot) ServerCPU {
	var out ServerCPU
	byClass := [3]uint64{}
	for k, e := range end.procs {
		d := e.ticks
		if s, ok := start.procs[k]; ok {
			d = sub(e.ticks, s.ticks)
		}
		byClass[e.class] += d
	}
	exited := sub(end.reaped, start.reaped)
	for k, s := range start.procs {
		if _, ok := end.procs[k]; !ok {
			exited = sub(exited, s.ticks)
		}
	}
	out.Own = ticks(byClass[own])
	out.Shared = ticks(byClass[shared])
	out.Other = ticks(byClass[other])
	out.Exited = ticks(exited)
	out.Procs = len(end.procs)
	return out
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func ticks(n uint64) time.Duration { return time.Duration(n) * clockTick }

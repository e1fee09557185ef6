package cpucost

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// Fixture lines: one read from PostgreSQL's checkpointer, and comms
	// that hold spaces and parentheses (a comm is any 15 bytes the process
	// chose, so only the line's last ')' ends it).
	tests := []struct {
		name, line string
		want       procStat
	}{
		{"checkpointer", "2222 (postgres) S 2221 2222 2222 0 -1 4194368 637 0 1 0 6 13 0 0 20 0 1 0 4458 222945280 8062 18446744073709551615 94288536907776 0 0 0 0",
			procStat{pid: 2222, comm: "postgres", ppid: 2221, utime: 6, stime: 13, starttime: 4458}},
		{"spaces and parentheses", "77 (my (odd) proc) R 1 77 77 0 -1 0 0 0 0 0 120 30 5 7 20 0 1 0 9001 0 0",
			procStat{pid: 77, comm: "my (odd) proc", ppid: 1, utime: 120, stime: 30, cutime: 5, cstime: 7, starttime: 9001}},
		{"a comm that mimics fields", "8 () S 1 2 3 () R 5) S 42 8 8 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 0 0",
			procStat{pid: 8, comm: ") S 1 2 3 () R 5", ppid: 42, utime: 1, stime: 2, cutime: 3, cstime: 4, starttime: 99}},
		{"empty comm", "9 () Z 3 0 0 0 -1 0 0 0 0 0 11 12 13 14 20 0 1 0 15 0 0",
			procStat{pid: 9, ppid: 3, utime: 11, stime: 12, cutime: 13, cstime: 14, starttime: 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "12 postgres S 1", "x (postgres) S 1 2 3", "5 (postgres) S 1 2 3", "5 (p) S 1 2 3 0 -1 0 0 0 0 0 u 1 2 3 20 0 1 0 9 0 0"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q): got no error, want one", bad)
		}
	}
}

// fakeProc writes a /proc of the given processes: pid → stat line and
// cmdline (NUL-separated, as the kernel gives it).
func fakeProc(t *testing.T, procs map[int][2]string) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(p[0]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(p[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func stat(pid int, comm string, utime, stime, cutime, cstime, start int) string {
	return strconv.Itoa(pid) + " (" + comm + ") S 1 0 0 0 -1 0 0 0 0 0 " +
		strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " " + strconv.Itoa(cutime) + " " + strconv.Itoa(cstime) +
		" 20 0 1 0 " + strconv.Itoa(start) + " 0 0"
}

// TestReadServerClassifiesProcesses: a server's processes on a fixture
// /proc, split by whom they work for; other programs, whatever their comm
// holds, are not counted.
func TestReadServerClassifiesProcesses(t *testing.T) {
	const db = "absender_test_0a1b2c"
	root := fakeProc(t, map[int][2]string{
		100: {stat(100, "postgres", 10, 5, 40, 2, 1), "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/main\x00"},
		101: {stat(101, "postgres", 7, 3, 0, 0, 2), "postgres: 15/main: walwriter                 "},
		102: {stat(102, "postgres", 100, 20, 0, 0, 50), "postgres: 15/main: postgres " + db + " 127.0.0.1(50412) idle"},
		103: {stat(103, "postgres", 200, 40, 0, 0, 60), "postgres: postgres absender_test_ffffff [local] INSERT"},
		104: {stat(104, "postgres", 30, 0, 0, 0, 70), "postgres: 15/main: autovacuum worker absender_test_ffffff"},
		105: {stat(105, "postgres", 8, 1, 0, 0, 80), "postgres: 15/main: autovacuum worker " + db},
		106: {stat(106, "not postgres)", 999, 999, 999, 999, 90), "postgres: fake " + db + " 127.0.0.1(1) idle"},
		107: {stat(107, "psql", 999, 999, 0, 0, 91), "psql\x00" + db + "\x00"},
	})
	snap, err := readServer(root, "postgres", db)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.procs) != 6 {
		t.Errorf("got %d server processes, want 6", len(snap.procs))
	}
	if snap.reaped != 42 {
		t.Errorf("got %d reaped ticks, want 42", snap.reaped)
	}
	got := diff(snapshot{procs: map[procKey]procCPU{}}, snap)
	want := ServerCPU{Own: ticks(120 + 9), Shared: ticks(15 + 10), Other: ticks(240 + 30), Exited: ticks(42), Procs: 6}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestDiffCountsProcessesThatComeAndGo: a process alive throughout counts
// its growth, a new one all its time, one that ended what its parent
// reaped beyond what it had at start; a pid reused by a new process is a
// new process.
func TestDiffCountsProcessesThatComeAndGo(t *testing.T) {
	start := snapshot{reaped: 1000, procs: map[procKey]procCPU{
		{1, 1}:  {ticks: 50, class: shared}, // postmaster
		{10, 5}: {ticks: 100, class: own},   // lives on
		{11, 6}: {ticks: 300, class: own},   // ends during the run at 340
		{12, 7}: {ticks: 70, class: other},  // its pid is reused
	}}
	// Reaped during the run: pid 11 (340), pid 12's first life (95) and
	// a process that began and ended within the run (25).
	end := snapshot{reaped: 1000 + 340 + 95 + 25, procs: map[procKey]procCPU{
		{1, 1}:   {ticks: 52, class: shared},
		{10, 5}:  {ticks: 160, class: own},
		{12, 90}: {ticks: 4, class: own},    // a new backend on the old pid
		{13, 91}: {ticks: 12, class: other}, // new
	}}
	got := diff(start, end)
	want := ServerCPU{Own: ticks(60 + 4), Shared: ticks(2), Other: ticks(12), Exited: ticks(340 - 300 + 95 - 70 + 25), Procs: 4}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in      string
		cores   float64
		limited bool
	}{
		{"max 100000\n", 0, false},
		{"max", 0, false},
		{"200000 100000\n", 2, true},
		{"150000 100000", 1.5, true},
		{"50000 100000", 0.5, true},
		{"300000", 3, true},
		{"  100000   50000  ", 2, true},
	}
	for _, tt := range tests {
		cores, limited, err := parseCPUMax(tt.in)
		if err != nil || cores != tt.cores || limited != tt.limited {
			t.Errorf("parseCPUMax(%q): got %v, %v, %v, want %v, %v, nil", tt.in, cores, limited, err, tt.cores, tt.limited)
		}
	}
	for _, bad := range []string{"", "max 0", "0 100000", "-5 100000", "1.5 100000", "100000 100000 1", "max x", "a b"} {
		if _, _, err := parseCPUMax(bad); err == nil {
			t.Errorf("parseCPUMax(%q): got no error, want one", bad)
		}
	}
}

func TestParseCFS(t *testing.T) {
	if _, limited, err := parseCFS("-1\n", "100000\n"); err != nil || limited {
		t.Errorf("parseCFS(-1): got limited %v, %v, want no limit", limited, err)
	}
	if cores, limited, err := parseCFS("250000\n", "100000\n"); err != nil || !limited || cores != 2.5 {
		t.Errorf("parseCFS(250000/100000): got %v, %v, %v, want 2.5 cores", cores, limited, err)
	}
	if _, _, err := parseCFS("100000", "0"); err == nil {
		t.Error("parseCFS with a zero period: got no error, want one")
	}
}

func TestCgroupLimit(t *testing.T) {
	v2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(v2, "cpu.max"), []byte("150000 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cores, ok := cgroupLimit(v2); !ok || cores != 1.5 {
		t.Errorf("cgroup v2 1.5 cores: got %v, %v", cores, ok)
	}
	v1 := t.TempDir()
	if err := os.MkdirAll(filepath.Join(v1, "cpu"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"cpu.cfs_quota_us": "-1\n", "cpu.cfs_period_us": "100000\n"} {
		if err := os.WriteFile(filepath.Join(v1, "cpu", name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := cgroupLimit(v1); ok {
		t.Error("cgroup v1 without a quota: got a limit, want none")
	}
	if _, ok := cgroupLimit(t.TempDir()); ok {
		t.Error("no cgroup files: got a limit, want none")
	}
	if c := Cores(); c <= 0 || c > float64(runtime.NumCPU()) {
		t.Errorf("Cores() = %v, want in (0, NumCPU]", c)
	}
}

func TestCeiling(t *testing.T) {
	// 1.2 ms of CPU per operation on 2 cores: at most 2 / 0.0012 ≈ 1,667/s.
	c := Cost{Go: 900 * time.Millisecond, PG: ServerCPU{Own: 250 * time.Millisecond, Shared: 50 * time.Millisecond, Other: time.Hour}, Cores: 2}
	if got := c.Ceiling(1000); got < 1666 || got > 1667 {
		t.Errorf("got %.1f ops/s, want 1,666.7 (other databases' CPU is not this benchmark's)", got)
	}
	if got := (Cost{Cores: 2}).Ceiling(1000); got != 0 {
		t.Errorf("nothing measured: got %v, want 0", got)
	}
}

//go:build linux

package cpucost

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU is the calling thread's CPU clock (CLOCK_THREAD_CPUTIME_ID):
// the kernel's count, read apart from getrusage and /proc.
func threadCPU(t testing.TB) time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		t.Fatalf("clock_gettime: %v", errno)
	}
	return time.Duration(ts.Nano())
}

// burn spins on one locked thread until that thread has used d of CPU.
func burn(t testing.TB, d time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := uint64(1)
	for start := threadCPU(t); threadCPU(t)-start < d; {
		for range 10000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	atomic.StoreUint64(&sink, x)
}

var sink uint64

const burnEnv = "CPUCOST_TEST_BURN"

func TestMain(m *testing.M) {
	if ms, err := strconv.Atoi(os.Getenv(burnEnv)); err == nil {
		burn(nil, time.Duration(ms)*time.Millisecond)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMeterSeesTheProcessCPU burns 300 ms of CPU on each of two threads;
// the meter must see at least 90 % of it.
func TestMeterSeesTheProcessCPU(t *testing.T) {
	m := Start("")
	done := make(chan struct{})
	go func() { burn(t, 300*time.Millisecond); close(done) }()
	burn(t, 300*time.Millisecond)
	<-done
	c, err := m.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if c.Go < 540*time.Millisecond {
		t.Errorf("got %v of Go CPU, want at least 540ms of the 600ms burnt", c.Go)
	}
	if c.Postgres || c.PG != (ServerCPU{}) {
		t.Errorf("no PostgreSQL asked for: got %+v", c.PG)
	}
	if c.Wall <= 0 || c.Cores <= 0 {
		t.Errorf("got wall %v, cores %v", c.Wall, c.Cores)
	}
}

// TestMeterSeesAServerProcessThatEnded reads this test binary's processes
// as if they were the server: a child that burns 300 ms and ends within
// the measurement is counted from its parent's reaped children.
func TestMeterSeesAServerProcessThatEnded(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	comm := filepath.Base(self)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	m := &Meter{database: "no_such_database", procRoot: "/proc", comm: comm}
	m.start()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), burnEnv+"=300")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	c, err := m.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if c.PG.Exited < 270*time.Millisecond || c.PG.All() < 270*time.Millisecond {
		t.Errorf("got %+v, want at least 270ms exited of the child's 300ms", c.PG)
	}
	if c.PG.Own != 0 || c.PG.Other != 0 {
		t.Errorf("got %+v: no process works for a database here", c.PG)
	}
}

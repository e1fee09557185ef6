package projections_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// counting is a projection that is not idempotent on purpose: it counts
// how often each event was applied, so an event applied twice (or lost)
// shows. Every tenth event it reads the table, which sends the statements
// queued before it: a live batch then has sent some of its statements and
// queued others.
type counting struct {
	killAt int // the child kills itself at this Apply (0: never)
	calls  int
}

func (*counting) Name() string { return "counting" }

func (c *counting) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	c.calls++
	if c.killAt > 0 && c.calls == c.killAt {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL) // the process dies here, mid-batch
		time.Sleep(time.Minute)
	}
	if c.calls%10 == 0 {
		var n []int
		if err := tx.Scan(ctx, &n, `SELECT count(*) FROM crash_applied`); err != nil {
			return err
		}
	}
	return tx.Exec(ctx, `INSERT INTO crash_applied (event_id, n) VALUES (?, 1)
		ON CONFLICT (event_id) DO UPDATE SET n = crash_applied.n + 1`, rec.ID)
}

const (
	envCrashDB   = "ABSENDER_CRASH_CHILD_DB"
	envCrashKill = "ABSENDER_CRASH_CHILD_KILL_AT"
)

// TestCrashChild is the child process of TestCrashMidBatchAppliesEveryEventOnce;
// run on its own it does nothing.
func TestCrashChild(t *testing.T) {
	url := os.Getenv(envCrashDB)
	if url == "" {
		t.Skip("the child of TestCrashMidBatchAppliesEveryEventOnce")
	}
	killAt, _ := strconv.Atoi(os.Getenv(envCrashKill))
	db, err := database.Open(context.Background(), url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(db, eventstore.Options{Registry: reg})
	runner := projections.NewRunner(store, db, nil, &counting{killAt: killAt})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = runner.Run(ctx, nil)
	t.Fatal("the child was not killed")
}

// Issue 13 (batched consumers): a process killed while a live batch has
// sent some of its statements and queued others leaves nothing of that
// batch behind; the next process applies every event exactly once. A real
// child process dies by SIGKILL in the middle of its second batch.
func TestCrashMidBatchAppliesEveryEventOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := seed.AsSystem(t.Context())
		if _, err := db.Write.DB.ExecContext(ctx, `CREATE TABLE crash_applied (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		f := setup(t, db, false, &counting{})
		const events = 300
		for i := range events {
			if _, _, err := f.svc.Commands.Tenants.Create(ctx, fmt.Sprintf("Tenant %03d", i)); err != nil {
				t.Fatal(err)
			}
		}
		url := db.URL
		if url == "" {
			url = db.Path
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashDB+"="+url, envCrashKill+"=155")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child: %v, want killed by SIGKILL\n%s", err, out)
		}
		var before int
		if err := db.Read.DB.QueryRowContext(ctx, `SELECT count(*) FROM crash_applied`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		if before == 0 || before >= 155 {
			t.Fatalf("the child left %d events applied, want its first batch and nothing of the killed one (fewer than 155)", before)
		}

		t.Logf("the child committed %d events before it was killed", before)
		// A new process (here: a runner in the test's) goes on.
		f2 := setup(t, db, true, &counting{})
		f2.caughtUp(t)
		var total, sum, most int
		if err := db.Read.DB.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(n), 0), COALESCE(MAX(n), 0) FROM crash_applied`).Scan(&total, &sum, &most); err != nil {
			t.Fatal(err)
		}
		if total != events || sum != events || most != 1 {
			t.Fatalf("after the restart: %d events applied, %d applications, at most %d of one; want %d, %d, 1", total, sum, most, events, events)
		}
	})
}

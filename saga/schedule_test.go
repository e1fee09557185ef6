package saga_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server"
)

// R23 (review of issue 12): a schedule row of a message that is finished,
// or unknown — as the migration's back-fill makes from a stale
// rm_messages row (R35) — is not claimed again after every lease: the
// first worker that finds it so leases its revision for ever, until the
// resolver changes the row or deletes it.
func TestR23_StaleRowOfAFinishedMessageIsNotClaimedForever(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{Saga: optionsWith(attemptTimeout, nil)})
		sent := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "s", Text: "x"})
		if m := e.await(sent); m.Status != "SENT" {
			t.Fatalf("status %s, want SENT", m.Status)
		}
		waitFor(t, func() bool {
			var n int
			_ = db.Read.NewRaw(`SELECT count(*) FROM saga_schedule WHERE message_id = ?`, sent).Scan(context.Background(), &n)
			return n == 0
		})
		unknown := uuid.NewString()
		for _, id := range []string{sent, unknown} {
			if _, err := db.Write.NewRaw(`INSERT INTO saga_schedule (message_id, due_at, sending, rev) VALUES (?, 0, ?, 1)`, id, false).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		until := func(id string) int64 {
			var u int64
			if err := db.Read.NewRaw(`SELECT until FROM saga_leases WHERE message_id = ? AND rev = 1`, id).Scan(context.Background(), &u); err != nil {
				return 0
			}
			return u
		}
		for _, id := range []string{sent, unknown} {
			deadline := time.Now().Add(10 * time.Second)
			for until(id) != math.MaxInt64 {
				if time.Now().After(deadline) {
					t.Fatalf("message %s: the lease of its stale row ends at %d, want never (it is claimed again after every lease)", id, until(id))
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		time.Sleep(3 * attemptTimeout) // several leases' time
		for _, id := range []string{sent, unknown} {
			if got := until(id); got != math.MaxInt64 {
				t.Errorf("message %s: lease ends at %d after %s, want never", id, got, 3*attemptTimeout)
			}
		}
	})
}

// syncBuffer is a log destination that tests read while the saga writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// R23 (review of issue 12): a step of the saga takes as many
// load–decide–append rounds on conflict as every command does
// (app.Config.MaxAttempts), not a number of its own; then the attempt is
// due again later.
func TestR23_StepRoundsFollowTheCommandsSetting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var e *env
		var changing atomic.Bool
		changing.Store(true)
		var n atomic.Int32
		// The configuration the attempt read changes before every append.
		hook := func(context.Context, string) {
			if changing.Load() {
				_, _ = e.srv.App.Commands.System.ConfigureSupport(e.admin, ptr(fmt.Sprintf("support%d@absender.example", n.Add(1))), false, false)
			}
		}
		var logs syncBuffer
		e = newEnv(t, db, server.Options{Log: slog.New(slog.NewTextHandler(&logs, nil)), App: app.Config{MaxAttempts: 2, BeforeAttemptAppend: hook},
			Saga: optionsWith(attemptTimeout, nil)})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "s", Text: "x"})
		waitFor(t, func() bool { return strings.Contains(logs.String(), "while an attempt was prepared") })
		if out := logs.String(); !strings.Contains(out, "changed 2 times while an attempt was prepared") {
			t.Errorf("the step gave up after another number of rounds than app.Config.MaxAttempts (2):\n%s", out)
		}
		changing.Store(false)
		if m := e.await(id); m.Status != "SENT" {
			t.Errorf("status %s, want SENT once the configuration holds still", m.Status)
		}
	})
}

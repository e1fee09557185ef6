package saga

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
)

// R23 (review of issue 12): the lease's upsert decides who attempts a
// message, on the leases as committed, not the claim's query: on
// PostgreSQL two workers' queries may both find a message free (each
// judged the leases with its own snapshot), and only the first lease of
// a revision is taken while it holds. A lease of an older revision, or
// one that ended, is taken over; one of a newer revision never.
func TestR23_TheLeaseDecidesWhoAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := &Saga{opt: Options{DB: db, AttemptTimeout: time.Minute}}
		now := time.UnixMilli(1_000_000)
		lease := func(at time.Time, id string, rev int64) bool {
			t.Helper()
			var got []due
			if err := db.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
				got, err = s.lease(ctx, tx, []due{{id: id, rev: rev}}, at)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return len(got) == 1
		}
		steps := []struct {
			name string
			at   time.Time
			rev  int64
			want bool
		}{
			{"the first worker", now, 1, true},
			{"a second worker that found it free too", now, 1, false},
			{"while the lease holds", now.Add(59 * time.Second), 1, false},
			{"a newer revision", now.Add(time.Second), 2, true},
			{"a claim that saw the older revision", now.Add(2 * time.Second), 1, false},
			{"after the lease ended", now.Add(2 * time.Minute), 2, true},
		}
		for _, st := range steps {
			if got := lease(st.at, "m1", st.rev); got != st.want {
				t.Errorf("%s: leased %v, want %v", st.name, got, st.want)
			}
		}
	})
}

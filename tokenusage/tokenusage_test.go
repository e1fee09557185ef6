package tokenusage_test

import (
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/tokenusage"
)

// R21 ApiToken.lastUsedAt: a use is recorded, a later use within the
// minute is not written again, one after it is; LastUsed answers for the
// ids asked and leaves out tokens never used.
func TestR21_LastUsed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := tokenusage.New(db.Write)
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		steps := []struct {
			at   time.Time
			want time.Time
		}{
			{t0, t0},
			{t0.Add(30 * time.Second), t0}, // within the minute: not written
			{t0.Add(90 * time.Second), t0.Add(90 * time.Second)}, // after it: written
		}
		for _, st := range steps {
			if err := s.Used(t.Context(), "tok1", st.at); err != nil {
				t.Fatal(err)
			}
			got, err := s.LastUsed(t.Context(), "tok1", "never")
			if err != nil {
				t.Fatal(err)
			}
			if want := st.want.Format(tokenusage.TimeFormat); got["tok1"] != want || len(got) != 1 {
				t.Errorf("after a use at %s: got %v, want tok1 at %s only", st.at, got, want)
			}
		}
		if got, err := s.LastUsed(t.Context()); err != nil || len(got) != 0 {
			t.Errorf("no ids: got %v, %v, want none", got, err)
		}
	})
}

// A token's lastUsedAt is parsed as the read models' times are: the
// formats must not drift apart.
func TestTimeFormatIsTheReadModels(t *testing.T) {
	if tokenusage.TimeFormat != projections.TimeFormat {
		t.Errorf("tokenusage.TimeFormat = %q, want projections.TimeFormat %q", tokenusage.TimeFormat, projections.TimeFormat)
	}
}

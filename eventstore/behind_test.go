package eventstore_test

import (
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// Behind counts the events between a consumer's position and a later
// one, in consumer order, and stops at the limit.
func TestBehind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		for i, names := range [][]string{{"a", "b"}, {"c"}, {"d", "e", "f"}} {
			if _, err := s.Append(ctx, add("thing-"+names[0], 0, names...)); err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		head, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// ReadUntil, not ReadAll: on PostgreSQL a read stops short below the
		// horizon while an older transaction of this database is open.
		all, err := s.ReadUntil(ctx, eventstore.Position{}, head, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 6 {
			t.Fatalf("got %d events, want 6", len(all))
		}
		for _, tc := range []struct {
			name     string
			from, to eventstore.Position
			limit    int64
			want     int64
		}{
			{"from the start", eventstore.Position{}, head, 100, 6},
			{"bounded", eventstore.Position{}, head, 4, 4},
			{"after the first command", all[1].Position, head, 100, 4},
			{"up to the second command", eventstore.Position{}, all[2].Position, 100, 3},
			{"at the head", head, head, 100, 0},
			{"past the head", head, all[0].Position, 100, 0},
			{"zero limit", eventstore.Position{}, head, 0, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Behind(ctx, tc.from, tc.to, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("Behind(%s, %s, %d): got %d, want %d", tc.from, tc.to, tc.limit, got, tc.want)
				}
			})
		}
	})
}

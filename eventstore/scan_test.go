package eventstore_test

import (
	"bytes"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// ScanAllRaw and ScanUntilRaw hand over, page by page, the events that
// ReadAllRaw and ReadUntilRaw return: the same records in the same order,
// ScanUntilRaw stopping at its bound.
func TestScanMatchesRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		for i := range 12 {
			if _, err := s.Append(ctx, add("scan-"+strconv.Itoa(i%4), eventstore.Any, "a", "b", "c")); err != nil {
				t.Fatal(err)
			}
		}
		// ReadAllRaw stops below the oldest transaction still running on
		// the server (another test's, too): read up to the head instead.
		head, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var all []eventstore.Record
		for from := (eventstore.Position{}); ; {
			page, err := s.ReadUntilRaw(ctx, from, head, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			from = page[len(page)-1].Position
		}
		if len(all) != 36 {
			t.Fatalf("read %d events, want 36", len(all))
		}
		// copy keeps a record beyond the call (its Data is the driver's).
		copyOf := func(r *eventstore.Record) eventstore.Record {
			c := *r
			c.Data = bytes.Clone(r.Data)
			return c
		}
		var scanned []eventstore.Record
		deadline := time.Now().Add(10 * time.Second)
		for from := (eventstore.Position{}); len(scanned) < len(all) && time.Now().Before(deadline); {
			n, err := s.ScanAllRaw(ctx, from, 5, func(r *eventstore.Record) error {
				scanned = append(scanned, copyOf(r))
				from = r.Position
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				time.Sleep(10 * time.Millisecond) // another transaction holds the log back
			}
			if n > 5 {
				t.Fatalf("a page of %d events, want at most 5", n)
			}
		}
		if !reflect.DeepEqual(scanned, all) {
			t.Fatalf("ScanAllRaw:\ngot  %+v\nwant %+v", scanned, all)
		}
		to := all[20].Position
		want, err := s.ReadUntilRaw(ctx, all[2].Position, to, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var until []eventstore.Record
		for from := all[2].Position; ; {
			n, err := s.ScanUntilRaw(ctx, from, to, 7, func(r *eventstore.Record) error {
				until = append(until, copyOf(r))
				from = r.Position
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if len(want) != 18 || !reflect.DeepEqual(until, want) {
			t.Fatalf("ScanUntilRaw: got %d events, want %d (ReadUntilRaw) and 18\ngot  %+v\nwant %+v", len(until), len(want), until, want)
		}
	})
}

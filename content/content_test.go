package content_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
)

func newStore(t *testing.T, db *database.DB) *content.Store {
	t.Helper()
	ring, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, db *database.DB, s *content.Store, id string, c message.Content, retainUntil time.Time) {
	t.Helper()
	sealed, key, err := s.Seal(id, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 || bytes.Contains(sealed.Ciphertext, []byte(c.Text)) {
		t.Fatalf("seal %s: got a %d-byte key and ciphertext holding the plain text, want 32 bytes and none (R25)", id, len(key))
	}
	err = db.Write.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		return content.Insert(ctx, tx, sealed, retainUntil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// R25: content is stored encrypted, opens to what was sealed, and after
// Erase is gone for good (ErrPurged).
func TestR25_SealOpenErase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		want := message.Content{Text: "the secret body"}
		put(t, db, s, "m1", want, time.Now().Add(time.Hour))
		got, err := s.Open(t.Context(), "m1")
		if err != nil || got.Text != want.Text {
			t.Fatalf("open: got %+v, %v, want %+v", got, err, want)
		}
		if _, err := s.Open(t.Context(), "unknown"); !errors.Is(err, content.ErrPurged) {
			t.Errorf("open unknown: got %v, want ErrPurged", err)
		}
		if err := content.Erase(t.Context(), db.Write, "m1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(t.Context(), "m1"); !errors.Is(err, content.ErrPurged) {
			t.Errorf("open after erase: got %v, want ErrPurged", err)
		}
	})
}

// R25: a content sealed for one message does not open as another's (the
// message id is bound into the ciphertext).
func TestR25_ContentBoundToMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		sealed, _, err := s.Seal("m1", message.Content{Text: "body"})
		if err != nil {
			t.Fatal(err)
		}
		sealed.MessageID = "m2"
		if err := content.Insert(t.Context(), db.Write, sealed, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(t.Context(), "m2"); !errors.Is(err, content.ErrUndecryptable) {
			t.Errorf("open m1's content as m2: got %v, want ErrUndecryptable", err)
		}
	})
}

// R25 retention: Expired pages through the held contents past their
// retention, oldest first, skipping erased ones and those still retained.
func TestR25_ExpiredPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		now := time.Now()
		for i, id := range []string{"a", "b", "c", "d"} {
			put(t, db, s, id, message.Content{Text: "a retained body"}, now.Add(time.Duration(i-4)*time.Minute))
		}
		put(t, db, s, "later", message.Content{Text: "a retained body"}, now.Add(time.Hour))
		if err := content.Erase(t.Context(), db.Write, "c"); err != nil {
			t.Fatal(err)
		}
		var got []string
		var after content.Expired
		for pages := 0; pages < 10; pages++ {
			page, err := s.Expired(t.Context(), now, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				got = append(got, e.MessageID)
			}
			after = page[len(page)-1]
		}
		if want := "a,b,d"; join(got) != want {
			t.Errorf("expired: got %s, want %s", join(got), want)
		}
	})
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

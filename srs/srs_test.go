package srs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	oldKey = []byte("the old key, 32 octets long.....")
	newKey = []byte("the new key, 32 octets long.....")
	day0   = time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
)

func clock(t *time.Time) func() time.Time { return func() time.Time { return *t } }

func rewriter(t *testing.T, now *time.Time, keys ...[]byte) *Rewriter {
	t.Helper()
	r, err := New(keys, WithClock(clock(now)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Reference vectors of postsrsd's tests/unit/test_srs2.c (libsrs2 as
// bundled by postsrsd 2.x): secret "tops3cr3t", faketime 1577836860
// (2020-01-01 00:01:00 UTC).
func TestR28_ReferenceVectorsOfPostsrsd(t *testing.T) {
	now := time.Unix(1577836860, 0)
	r := newUnchecked([][]byte{[]byte("tops3cr3t")}, clock(&now))
	for _, tc := range []struct{ sender, alias, want string }{
		{"test@example.com", "example.com", "test@example.com"},
		{"test@otherdomain.com", "example.com", "SRS0=vmyz=2W=otherdomain.com=test@example.com"},
	} {
		got, err := r.Forward(tc.sender, tc.alias)
		if err != nil || got != tc.want {
			t.Errorf("Forward(%q, %q): got %q, %v, want %q", tc.sender, tc.alias, got, err, tc.want)
		}
	}
	if _, err := r.Forward("foo", "example.com"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("Forward(foo): got %v, want ErrInvalidAddress", err)
	}
	got, err := r.Reverse("SRS0=vmyz=2W=otherdomain.com=test@example.com")
	if err != nil || got != "test@otherdomain.com" {
		t.Errorf("Reverse: got %q, %v, want test@otherdomain.com", got, err)
	}
	if _, err := r.Reverse("test@example.com"); !errors.Is(err, ErrNotSRS) {
		t.Errorf("Reverse(test@example.com): got %v, want ErrNotSRS", err)
	}
}

func TestR28_RoundTrip(t *testing.T) {
	now := day0
	r := rewriter(t, &now, newKey)
	for _, sender := range []string{"max@celanio.com", "Max.Mustermann+tag@Celanio.COM", "a=b@x.example", "müller@bücher.example"} {
		srs0, err := r.Forward(sender, "forward.example")
		if err != nil {
			t.Fatalf("Forward(%q): %v", sender, err)
		}
		if !strings.HasPrefix(srs0, "SRS0=") || !strings.HasSuffix(srs0, "@forward.example") || !IsSRS(srs0) {
			t.Fatalf("got %q, want SRS0=…@forward.example", srs0)
		}
		got, err := r.Reverse(srs0)
		if err != nil || got != sender {
			t.Fatalf("Reverse(%q): got %q, %v, want %q", srs0, got, err, sender)
		}
	}
	if got, err := r.Forward("", "forward.example"); got != "" || err != nil {
		t.Fatalf("null sender: got %q, %v, want it unchanged", got, err)
	}
}

func TestR28_SRS1ForReForwarding(t *testing.T) {
	now := day0
	first := rewriter(t, &now, oldKey)
	second := rewriter(t, &now, newKey)
	srs0, _ := first.Forward("max@celanio.com", "one.example")
	srs1, err := second.Forward(srs0, "two.example")
	if err != nil || !strings.HasPrefix(srs1, "SRS1=") || !strings.HasSuffix(srs1, "@two.example") {
		t.Fatalf("got %q, %v, want SRS1=…@two.example", srs1, err)
	}
	if !strings.Contains(srs1, "=one.example==") {
		t.Fatalf("got %q, want the first hop one.example kept", srs1)
	}
	// A third forwarder keeps the first hop and re-signs.
	srs1b, err := first.Forward(srs1, "three.example")
	if err != nil || !strings.Contains(srs1b, "=one.example==") || !strings.HasSuffix(srs1b, "@three.example") {
		t.Fatalf("got %q, %v, want SRS1 with first hop one.example at three.example", srs1b, err)
	}
	back, err := second.Reverse(srs1)
	if err != nil || back != srs0 {
		t.Fatalf("Reverse(SRS1): got %q, %v, want %q", back, err, srs0)
	}
	orig, err := first.Reverse(back)
	if err != nil || orig != "max@celanio.com" {
		t.Fatalf("Reverse(SRS0): got %q, %v, want max@celanio.com", orig, err)
	}
}

func TestR28_ExpiresAfter21Days(t *testing.T) {
	now := day0
	r := rewriter(t, &now, newKey)
	srs0, _ := r.Forward("max@celanio.com", "forward.example")
	for _, tc := range []struct {
		days int
		want error
	}{{0, nil}, {1, nil}, {21, nil}, {22, ErrExpired}, {100, ErrExpired}, {-1, ErrExpired}, {1024, nil}} { // the day number wraps after 1024 days, as in libsrs2
		now = day0.AddDate(0, 0, tc.days)
		if _, err := r.Reverse(srs0); !errors.Is(err, tc.want) {
			t.Errorf("after %d days: got %v, want %v", tc.days, err, tc.want)
		}
	}
}

func TestR28_TamperingRefused(t *testing.T) {
	now := day0
	r := rewriter(t, &now, newKey)
	srs0, _ := r.Forward("max@celanio.com", "forward.example") // SRS0=HHHH=TT=celanio.com=max@forward.example
	parts := strings.SplitN(srs0, "=", 5)
	for name, tc := range map[string]struct {
		address string
		want    error
	}{
		"other user":       {strings.Replace(srs0, "=max@", "=eve@", 1), ErrHash},
		"other host":       {strings.Replace(srs0, "=celanio.com=", "=evil.example=", 1), ErrHash},
		"other timestamp":  {parts[0] + "=" + parts[1] + "=" + flip(parts[2]) + "=" + parts[3] + "=" + parts[4], ErrHash},
		"other hash":       {parts[0] + "=" + flip(parts[1]) + "=" + parts[2] + "=" + parts[3] + "=" + parts[4], ErrHash},
		"foreign key":      {mustForward(t, rewriter(t, &now, oldKey), "max@celanio.com"), ErrHash},
		"short hash":       {"SRS0=abc=" + parts[2] + "=celanio.com=max@forward.example", ErrHash},
		"missing parts":    {"SRS0=abcd=AA@forward.example", ErrMalformed},
		"bad timestamp":    {"SRS0=abcd=A=celanio.com=max@forward.example", ErrMalformed},
		"not SRS":          {"max@forward.example", ErrNotSRS},
		"control char":     {"SRS0=abcd=AA=celanio.com=m\nax@forward.example", ErrInvalidAddress},
		"too long":         {"SRS0=" + strings.Repeat("a", 2000) + "@x.example", ErrInvalidAddress},
		"SRS1 other first": {"SRS1=abcd=evil.example==" + strings.Join(parts[1:], "="), ErrHash},
	} {
		if _, err := r.Reverse(tc.address); !errors.Is(err, tc.want) {
			t.Errorf("%s: Reverse(%q): got %v, want %v", name, tc.address, err, tc.want)
		}
	}
}

func TestR28_HashComparedWithoutCase(t *testing.T) {
	now := day0
	r := rewriter(t, &now, newKey)
	srs0, _ := r.Forward("max@celanio.com", "forward.example")
	for _, address := range []string{strings.ToUpper(srs0), strings.ToLower(srs0), "srs0+" + srs0[5:]} {
		got, err := r.Reverse(address)
		if err != nil || !strings.EqualFold(got, "max@celanio.com") {
			t.Errorf("Reverse(%q): got %q, %v, want max@celanio.com in any case", address, got, err)
		}
	}
}

func TestR28_KeyRotationOldKeyStillReverses(t *testing.T) {
	now := day0
	before := rewriter(t, &now, oldKey)
	after := rewriter(t, &now, newKey, oldKey)
	signedBefore := mustForward(t, before, "max@celanio.com")
	signedAfter := mustForward(t, after, "max@celanio.com")
	if signedBefore == signedAfter {
		t.Fatalf("got the same address %q, want the newest key to sign", signedAfter)
	}
	if got, _ := rewriter(t, &now, newKey).Reverse(signedAfter); got != "max@celanio.com" {
		t.Fatalf("the new key alone: got %q, want it to reverse what the ring signed", got)
	}
	for _, a := range []string{signedBefore, signedAfter} {
		if got, err := after.Reverse(a); err != nil || got != "max@celanio.com" {
			t.Errorf("Reverse(%q): got %q, %v, want max@celanio.com", a, got, err)
		}
	}
	if _, err := rewriter(t, &now, newKey).Reverse(signedBefore); !errors.Is(err, ErrHash) {
		t.Errorf("after the old key is dropped: got %v, want ErrHash", err)
	}
}

func TestNewRefusesWeakRing(t *testing.T) {
	for name, keys := range map[string][][]byte{"empty": nil, "short key": {[]byte("short")}} {
		if _, err := New(keys); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
	}
}

// newUnchecked is New without the key length check, for the reference
// vectors whose secret is short.
func newUnchecked(keys [][]byte, now func() time.Time) *Rewriter {
	return &Rewriter{keys: keys, now: now}
}

func mustForward(t *testing.T, r *Rewriter, sender string) string {
	t.Helper()
	s, err := r.Forward(sender, "forward.example")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// flip changes the first character of s to another base32/base64 character.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

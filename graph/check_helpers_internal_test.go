package graph

import (
	"errors"
	"testing"

	"github.com/absender/absender/domain"
)

// TestCheckLimiter: at most MaxChecksPerCaller checks of one caller run at
// once, and MaxChecks in all; beyond is RATE_LIMITED; a finished check
// frees its place (issue 11, checkMailServer's bound).
func TestCheckLimiter(t *testing.T) {
	var l checkLimiter
	var releases []func()
	for range MaxChecksPerCaller {
		r, err := l.acquire("user:a", "")
		if err != nil {
			t.Fatalf("acquire within the bound: %v", err)
		}
		releases = append(releases, r)
	}
	if _, err := l.acquire("user:a", ""); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("got %v, want RATE_LIMITED beyond %d per caller", err, MaxChecksPerCaller)
	}
	if _, err := l.acquire("user:b", ""); err != nil {
		t.Fatalf("another caller: got %v, want admitted", err)
	}
	releases[0]()
	if _, err := l.acquire("user:a", ""); err != nil {
		t.Fatalf("after a release: got %v, want admitted", err)
	}

	var all checkLimiter
	for i := range MaxChecks {
		if _, err := all.acquire(string(rune('a'+i)), ""); err != nil {
			t.Fatalf("caller %d within the total bound: %v", i, err)
		}
	}
	if _, err := all.acquire("one more", ""); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("got %v, want RATE_LIMITED beyond %d in all", err, MaxChecks)
	}
}

// TestCheckLimiterPanic: a check that panics (gqlgen recovers it and
// answers INTERNAL) still frees its place; otherwise MaxChecksPerCaller
// panics would lock a caller out of checkMailServer until the restart,
// and MaxChecks would lock everybody out (issue 11, review).
func TestCheckLimiterPanic(t *testing.T) {
	var l checkLimiter
	for range MaxChecks + 1 {
		func() {
			defer func() { _ = recover() }()
			_ = l.run("user:a", "t1", func() { panic("transport bug") })
		}()
	}
	ran := false
	if err := l.run("user:a", "t1", func() { ran = true }); err != nil || !ran {
		t.Fatalf("after panicking checks: got %v (ran %v), want admitted", err, ran)
	}
	if l.total != 0 || len(l.running) != 0 {
		t.Fatalf("after the checks ended: %d running, %v by caller and tenant, want none", l.total, l.running)
	}
}

// TestCheckLimiterPerTenant: the users of one tenant together run at most
// MaxChecksPerTenant checks, so a tenant administrator who creates users
// cannot take every place of MaxChecks and lock the other tenants (and
// the system administrators) out of checkMailServer (review of issue 11).
func TestCheckLimiterPerTenant(t *testing.T) {
	var l checkLimiter
	n := 0
	for i := 0; n < MaxChecksPerTenant; i++ {
		for range MaxChecksPerCaller {
			if n == MaxChecksPerTenant {
				break
			}
			if _, err := l.acquire(string(rune('a'+i)), "tenant-a"); err != nil {
				t.Fatalf("check %d of tenant A within the bound: %v", n, err)
			}
			n++
		}
	}
	if _, err := l.acquire("another user of A", "tenant-a"); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("got %v, want RATE_LIMITED beyond %d per tenant", err, MaxChecksPerTenant)
	}
	if _, err := l.acquire("a user of B", "tenant-b"); err != nil {
		t.Fatalf("another tenant: got %v, want admitted", err)
	}
	if _, err := l.acquire("token:system", ""); err != nil {
		t.Fatalf("a system administrator: got %v, want admitted", err)
	}
}

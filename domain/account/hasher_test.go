package account_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/absender/absender/domain/account"
)

// cheap parameters keep the tests fast; the benchmark uses the defaults.
var cheap = account.HashParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func hasher(t testing.TB, p account.HashParams, workers int) *account.Hasher {
	t.Helper()
	h, err := account.NewHasher(account.HasherConfig{Params: p, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestR27_Argon2idHashAsDovecotReadsIt(t *testing.T) {
	h := hasher(t, cheap, 2)
	pw, _ := account.NewPassword("Kx7#pqL2mv", "max")
	encoded, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(encoded) {
		t.Fatalf("got %q, want a PHC argon2id string", encoded)
	}
	again, _ := h.Hash(t.Context(), pw)
	if again == encoded {
		t.Fatalf("got the same hash twice, want a fresh salt each time")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{{"Kx7#pqL2mv", true}, {"kx7#pqL2mv", false}, {"", false}} {
		if ok, err := h.Verify(t.Context(), encoded, tc.password); err != nil || ok != tc.want {
			t.Errorf("Verify(%q): got %v, %v, want %v", tc.password, ok, err, tc.want)
		}
	}
}

// The reference implementation's test vector (phc-winner-argon2, test.sh:
// "password", salt "somesalt", t=2, m=2^16, p=1).
func TestR27_VerifiesTheReferenceImplementationsHash(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, err := hasher(t, cheap, 1).Verify(t.Context(), ref, "password")
	if err != nil || !ok {
		t.Fatalf("got %v, %v, want the reference hash verified", ok, err)
	}
}

func TestR34_HostileHashStringsRefused(t *testing.T) {
	h := hasher(t, cheap, 1)
	for _, encoded := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=64,t=100000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=64,t=1,p=1$!!$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$" + strings.Repeat("A", 600),
	} {
		if _, err := h.Verify(t.Context(), encoded, "password"); !errors.Is(err, account.ErrHashFormat) {
			t.Errorf("Verify(%.60q): got %v, want ErrHashFormat", encoded, err)
		}
	}
}

func TestR27_HasherConfigNamesEveryProblem(t *testing.T) {
	_, err := account.NewHasher(account.HasherConfig{Params: account.HashParams{}, Workers: 100})
	if err == nil {
		t.Fatal("got no error, want one")
	}
	for _, want := range []string{"memory", "iterations", "parallelism", "salt", "key length", "workers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to name %s", err, want)
		}
	}
	if _, err := account.NewHasher(account.HasherConfig{Params: account.DefaultHashParams()}); err != nil {
		t.Fatalf("defaults: got %v, want them valid", err)
	}
}

func TestR27_HashHonoursCancelledContext(t *testing.T) {
	h := hasher(t, cheap, 1)
	pw, _ := account.NewPassword("Kx7#pqL2mv", "max")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Hash(ctx, pw); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// BenchmarkArgon2idHashes reports hashes per second of the default
// parameters through a pool of two workers, callers in parallel.
func BenchmarkArgon2idHashes(b *testing.B) {
	h := hasher(b, account.DefaultHashParams(), 2)
	pw, _ := account.NewPassword("Kx7#pqL2mv", "max")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(context.Background(), pw); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

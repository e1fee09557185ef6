package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's cost parameters (R27: memory-hard).
type HashParams struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // octets
	KeyLength   uint32 // octets
}

// DefaultHashParams are the parameters Dovecot's own ARGON2ID scheme
// (libsodium's "moderate" limits) is commonly run with: 64 MiB, three
// passes, one lane — libsodium verifies only one lane, so Dovecot can read
// every hash made with these.
func DefaultHashParams() HashParams {
	return HashParams{Memory: 64 * 1024, Iterations: 3, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Bounds a hash string must keep to be verified: a stored hash is trusted
// no more than any other input, and its parameters decide the work.
const (
	maxMemory     = 1 << 20 // KiB: 1 GiB
	maxIterations = 64
	maxEncoded    = 512 // octets of a PHC string
)

// Validate joins every problem of p.
func (p HashParams) Validate() error {
	var errs []error
	if p.Memory < 8*max(1, uint32(p.Parallelism)) || p.Memory > maxMemory {
		errs = append(errs, fmt.Errorf("argon2id memory %d KiB: want 8×parallelism to %d", p.Memory, maxMemory))
	}
	if p.Iterations < 1 || p.Iterations > maxIterations {
		errs = append(errs, fmt.Errorf("argon2id iterations %d: want 1 to %d", p.Iterations, maxIterations))
	}
	if p.Parallelism < 1 {
		errs = append(errs, errors.New("argon2id parallelism: want at least 1"))
	}
	if p.SaltLength < 8 || p.SaltLength > 64 {
		errs = append(errs, fmt.Errorf("argon2id salt length %d: want 8 to 64", p.SaltLength))
	}
	if p.KeyLength < 16 || p.KeyLength > 64 {
		errs = append(errs, fmt.Errorf("argon2id key length %d: want 16 to 64", p.KeyLength))
	}
	return errors.Join(errs...)
}

// HasherConfig configures a Hasher.
type HasherConfig struct {
	Params  HashParams
	Workers int       // hashes computed at once; default 2
	Random  io.Reader // salt source; default crypto/rand
}

// Hasher computes and verifies argon2id hashes in a bounded worker pool:
// at most Workers hashes run at once (each needs Params.Memory), the rest
// wait for a slot or their context. It is safe for concurrent use.
type Hasher struct {
	params HashParams
	slots  chan struct{}
	random io.Reader
}

// NewHasher returns a Hasher, or an error naming every bad setting.
func NewHasher(cfg HasherConfig) (*Hasher, error) {
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	errs := []error{cfg.Params.Validate()}
	if cfg.Workers < 1 || cfg.Workers > 64 {
		errs = append(errs, fmt.Errorf("hasher workers %d: want 1 to 64", cfg.Workers))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Hasher{params: cfg.Params, slots: make(chan struct{}, cfg.Workers), random: cfg.Random}, nil
}

// ErrHashFormat: a stored hash is not an argon2id PHC string this package can verify.
var ErrHashFormat = errors.New("account: not a verifiable argon2id hash")

// Hash returns p's argon2id hash as the PHC string Dovecot reads (with
// its "{ARGON2ID}" scheme prefix added by whoever renders the passdb):
//
//	$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>
//
// salt and hash in unpadded standard base64. It waits for a slot of the
// pool and returns ctx's error if ctx ends first.
func (h *Hasher) Hash(ctx context.Context, p Password) (string, error) {
	if p.IsZero() {
		return "", errors.New("account: hash of the zero password")
	}
	salt := make([]byte, h.params.SaltLength)
	if _, err := io.ReadFull(h.random, salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	var key []byte
	err := h.run(ctx, func() {
		key = argon2.IDKey([]byte(p.secret), salt, h.params.Iterations, h.params.Memory, h.params.Parallelism, h.params.KeyLength)
	})
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory,
		h.params.Iterations, h.params.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, an argon2id PHC string,
// with the parameters the string names (within bounds: at most 1 GiB and 64
// passes). It runs in the pool like Hash. A malformed string is
// ErrHashFormat.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > 4*MaxPassword {
		return false, nil // longer than any password NewPassword accepts
	}
	var got []byte
	if err := h.run(ctx, func() {
		got = argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(want)))
	}); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// run calls f in a slot of the pool.
func (h *Hasher) run(ctx context.Context, f func()) error {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for a hasher slot: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	if err := ctx.Err(); err != nil { // both were ready: do not start work for a gone caller
		return fmt.Errorf("wait for a hasher slot: %w", err)
	}
	f()
	return nil
}

// decodeHash parses $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func decodeHash(encoded string) (p HashParams, salt, key []byte, err error) {
	if len(encoded) > maxEncoded {
		return p, nil, nil, ErrHashFormat
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrHashFormat
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, ErrHashFormat
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, ErrHashFormat
			}
			p.Parallelism = uint8(n)
		default:
			return p, nil, nil, ErrHashFormat
		}
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, ErrHashFormat
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, ErrHashFormat
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	if p.Validate() != nil {
		return p, nil, nil, ErrHashFormat
	}
	return p, salt, key, nil
}

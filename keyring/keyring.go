// Package keyring encrypts secrets (SMTP passwords, Microsoft Graph client
// secrets, …) before they are stored in an event (SPEC §3).
//
// A Ring holds named 32-byte keys. The primary key encrypts; every key in the
// ring decrypts. Encryption is AES-256-GCM with a random 96-bit nonce and the
// output names the key it was made with:
//
//	v1:<keyid>:<base64url(nonce || ciphertext || tag)>
//
// Rotating keys therefore means: add a new key as primary and keep the old ones
// in the ring for as long as ciphertexts made with them exist.
//
// Associated data lets callers bind a secret to its context (for example the
// stream id and the field name), so a ciphertext copied elsewhere fails to
// decrypt. The same associated data must be passed to Encrypt and Decrypt.
//
// Key material never appears in errors, String output or log values.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

// KeySize is the size of every key in a ring, in bytes (AES-256).
const KeySize = 32

// DefaultKeyID is the id given to a bare key in a spec and to the key that
// GenerateSpec and LoadOrCreateFile create.
const DefaultKeyID = "k1"

const (
	version   = "v1"
	maxIDLen  = 32
	nonceSize = 12 // standard GCM nonce
	tagSize   = 16 // standard GCM tag
)

var (
	// ErrUnknownKey means a ciphertext names a key id the ring does not hold.
	ErrUnknownKey = errors.New("keyring: unknown key id")
	// ErrMalformed means a ciphertext is not of the form "v1:<keyid>:<base64url>".
	ErrMalformed = errors.New("keyring: malformed ciphertext")
	// ErrDecrypt means authentication failed: wrong key, wrong associated data
	// or a tampered ciphertext.
	ErrDecrypt = errors.New("keyring: decryption failed")
	// ErrInvalidKeys is wrapped by every error of New and Parse (and of
	// LoadOrCreateFile for a file with bad content).
	ErrInvalidKeys = errors.New("keyring: invalid keys")
)

// Ring holds named 32-byte keys; the primary encrypts, all decrypt.
// A Ring is immutable and safe for concurrent use.
type Ring struct {
	primary string
	ids     []string // sorted
	// Only the AEADs are kept, never the raw key bytes, so that even a
	// reflection-based dump of a Ring cannot show key material.
	aeads  map[string]cipher.AEAD
	random io.Reader // nil means crypto/rand
}

// New builds a ring from keys, each exactly 32 bytes, named by ids of 1 to 32
// characters from [a-z0-9-]. primary must be one of the ids. The key slices
// are not retained.
func New(primary string, keys map[string][]byte) (*Ring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeys)
	}
	r := &Ring{
		primary: primary,
		ids:     make([]string, 0, len(keys)),
		aeads:   make(map[string]cipher.AEAD, len(keys)),
	}
	for id, key := range keys {
		if !validID(id) {
			return nil, fmt.Errorf("%w: key id %q is not 1-32 characters of a-z, 0-9 and -", ErrInvalidKeys, id)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("%w: key %q is %d bytes, want %d", ErrInvalidKeys, id, len(key), KeySize)
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidKeys, id, err)
		}
		r.aeads[id] = aead
		r.ids = append(r.ids, id)
	}
	if _, ok := r.aeads[primary]; !ok {
		if !validID(primary) {
			return nil, fmt.Errorf("%w: primary key id is not 1-32 characters of a-z, 0-9 and -", ErrInvalidKeys)
		}
		return nil, fmt.Errorf("%w: primary key %q is not in the ring", ErrInvalidKeys, primary)
	}
	slices.Sort(r.ids)
	return r, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key) // copies the key into its schedule
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Parse reads the ABSENDER_SECRET_KEY format: comma-separated "id:base64key"
// entries, the first being the primary. Keys may be standard or URL-safe
// base64, padded or not. A single bare base64 key (no "id:") gets the id "k1".
// Whitespace around entries is ignored, and newlines separate entries like
// commas (so a key file may hold one entry per line).
//
// Errors name the entry and what is wrong with it but never echo key material.
func Parse(spec string) (*Ring, error) {
	r, err := parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKeys, err)
	}
	return r, nil
}

// parse returns errors without the package prefix so that callers can add
// their own context (Parse, LoadOrCreateFile).
func parse(spec string) (*Ring, error) {
	entries := strings.FieldsFunc(spec, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' })
	var nonEmpty []string
	for _, e := range entries {
		if e = strings.TrimSpace(e); e != "" {
			nonEmpty = append(nonEmpty, e)
		}
	}
	if len(nonEmpty) == 0 {
		return nil, errors.New("no keys given (want \"id:base64key\", comma-separated)")
	}

	keys := make(map[string][]byte, len(nonEmpty))
	var primary string
	for i, entry := range nonEmpty {
		n := i + 1
		id, enc, hasID := strings.Cut(entry, ":")
		if !hasID {
			if len(nonEmpty) > 1 {
				return nil, fmt.Errorf("entry %d has no key id (want \"id:base64key\"; only a single key may be given bare)", n)
			}
			id, enc = DefaultKeyID, entry
		}
		id = strings.TrimSpace(id)
		enc = strings.TrimSpace(enc)
		// The id is not echoed when invalid: a mangled entry might put key
		// material where the id belongs.
		if !validID(id) {
			return nil, fmt.Errorf("entry %d: key id is not 1-32 characters of a-z, 0-9 and -", n)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("entry %d: duplicate key id %q", n, id)
		}
		if enc == "" {
			return nil, fmt.Errorf("entry %d (key %q): key is empty", n, id)
		}
		key, ok := decodeKey(enc)
		if !ok {
			return nil, fmt.Errorf("entry %d (key %q): key is not valid base64", n, id)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("entry %d (key %q): key is %d bytes, want %d", n, id, len(key), KeySize)
		}
		keys[id] = key
		if i == 0 {
			primary = id
		}
	}
	r, err := New(primary, keys)
	clear(keys) // best effort; the decoded slices are not used any more
	if err != nil {
		return nil, err // unreachable: every check of New is done above
	}
	return r, nil
}

var keyEncodings = []*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding,
	base64.URLEncoding, base64.RawURLEncoding,
}

func decodeKey(s string) ([]byte, bool) {
	for _, enc := range keyEncodings {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// GenerateSpec returns a fresh spec "k1:<base64 key>" read from random
// (crypto/rand when nil), for operators to put into ABSENDER_SECRET_KEY.
func GenerateSpec(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(random, key); err != nil {
		return "", fmt.Errorf("keyring: generating key: %w", err)
	}
	spec := DefaultKeyID + ":" + base64.StdEncoding.EncodeToString(key)
	clear(key)
	return spec, nil
}

// WithRandom returns a copy of r that draws nonces from random instead of
// crypto/rand (nil restores crypto/rand). Meant for tests.
func (r *Ring) WithRandom(random io.Reader) *Ring {
	c := *r
	c.random = random
	return &c
}

// PrimaryID is the id of the key that Encrypt uses.
func (r *Ring) PrimaryID() string { return r.primary }

// String lists the key ids, never key bytes, e.g.
// "keyring(primary=k2, keys=[k1 k2])".
func (r *Ring) String() string {
	if r == nil {
		return "keyring(<nil>)"
	}
	return fmt.Sprintf("keyring(primary=%s, keys=[%s])", r.primary, strings.Join(r.ids, " "))
}

// GoString makes %#v print the same as String.
func (r *Ring) GoString() string { return r.String() }

// LogValue makes slog print the same as String.
func (r *Ring) LogValue() slog.Value { return slog.StringValue(r.String()) }

// Encrypt seals plaintext with the primary key, binding associatedData (which
// is not stored in the result), and returns "v1:<keyid>:<base64url>".
func (r *Ring) Encrypt(plaintext, associatedData []byte) (string, error) {
	aead := r.aeads[r.primary]
	random := r.random
	if random == nil {
		random = rand.Reader
	}
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(random, buf); err != nil {
		return "", fmt.Errorf("keyring: reading nonce: %w", err)
	}
	buf = aead.Seal(buf, buf[:nonceSize], plaintext, associatedData)
	return version + ":" + r.primary + ":" + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Decrypt opens a ciphertext made by Encrypt with any key of the ring. Errors
// wrap ErrMalformed, ErrUnknownKey or ErrDecrypt.
func (r *Ring) Decrypt(ciphertext string, associatedData []byte) ([]byte, error) {
	ver, rest, ok := strings.Cut(ciphertext, ":")
	if !ok {
		return nil, fmt.Errorf("%w: want \"v1:<keyid>:<data>\"", ErrMalformed)
	}
	if ver != version {
		if len(ver) <= 8 && validID(ver) {
			return nil, fmt.Errorf("%w: unsupported version %q", ErrMalformed, ver)
		}
		return nil, fmt.Errorf("%w: unsupported version", ErrMalformed)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, fmt.Errorf("%w: want \"v1:<keyid>:<data>\"", ErrMalformed)
	}
	if !validID(id) {
		return nil, fmt.Errorf("%w: invalid key id", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("%w: data is not unpadded base64url", ErrMalformed)
	}
	if len(raw) < nonceSize+tagSize {
		return nil, fmt.Errorf("%w: data is too short (%d bytes)", ErrMalformed, len(raw))
	}
	aead, ok := r.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q (ring has %s)", ErrUnknownKey, id, strings.Join(r.ids, ", "))
	}
	plaintext, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], associatedData)
	if err != nil {
		return nil, fmt.Errorf("%w with key %q: wrong key, wrong associated data or tampered ciphertext", ErrDecrypt, id)
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	return plaintext, nil
}

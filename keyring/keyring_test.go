package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// testKey returns a deterministic 32-byte key filled with b.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustNew(t *testing.T, primary string, keys map[string][]byte) *Ring {
	t.Helper()
	r, err := New(primary, keys)
	if err != nil {
		t.Fatalf("New(%q): %v", primary, err)
	}
	return r
}

// keyStrings returns the forms in which key material could leak into text.
func keyStrings(key []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		fmt.Sprintf("%x", key),
		fmt.Sprint(key),
		string(key),
	}
}

func assertNoKey(t *testing.T, what, text string, key []byte) {
	t.Helper()
	for _, s := range keyStrings(key) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains key material %q: %s", what, s, text)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := mustNew(t, "k1", map[string][]byte{"k1": testKey(1)})
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty plaintext", []byte{}, nil},
		{"nil plaintext", nil, nil},
		{"password", []byte("hunter2"), nil},
		{"with associated data", []byte("graph-client-secret"), []byte("stream-42/clientSecret")},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}, []byte{0}},
		{"large", bytes.Repeat([]byte("x"), 1<<16), []byte("ad")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := r.Encrypt(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !strings.HasPrefix(ct, "v1:k1:") {
				t.Errorf("ciphertext %q does not start with v1:k1:", ct)
			}
			if len(tt.plaintext) > 0 && strings.Contains(ct, string(tt.plaintext)) {
				t.Errorf("ciphertext contains the plaintext")
			}
			got, err := r.Decrypt(ct, tt.ad)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if got == nil || !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Decrypt = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestEncryptUsesFreshNonces(t *testing.T) {
	r := mustNew(t, "k1", map[string][]byte{"k1": testKey(1)})
	a, err := r.Encrypt([]byte("same"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Encrypt([]byte("same"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two encryptions of the same plaintext are identical: %q", a)
	}
}

func TestWithRandom(t *testing.T) {
	r := mustNew(t, "k1", map[string][]byte{"k1": testKey(1)})
	nonce := bytes.Repeat([]byte{7}, nonceSize)
	det := r.WithRandom(bytes.NewReader(append(bytes.Clone(nonce), nonce...)))
	a, err := det.Encrypt([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := det.Encrypt([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("same injected nonce gave different ciphertexts %q, %q", a, b)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(a, "v1:k1:"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, nonce) {
		t.Errorf("payload does not start with the injected nonce")
	}
	// The reader is now exhausted.
	if _, err := det.Encrypt([]byte("x"), nil); !errors.Is(err, io.EOF) {
		t.Errorf("Encrypt with exhausted reader: err = %v, want io.EOF", err)
	}
	// The original ring is not affected.
	if _, err := r.Encrypt([]byte("x"), nil); err != nil {
		t.Errorf("original ring: %v", err)
	}
}

func TestRotation(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	old := mustNew(t, "k1", map[string][]byte{"k1": k1})
	oldCT, err := old.Encrypt([]byte("old secret"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}

	rotated := mustNew(t, "k2", map[string][]byte{"k1": k1, "k2": k2})
	if got := rotated.PrimaryID(); got != "k2" {
		t.Fatalf("PrimaryID = %q, want k2", got)
	}
	got, err := rotated.Decrypt(oldCT, []byte("ad"))
	if err != nil {
		t.Fatalf("rotated ring cannot decrypt old ciphertext: %v", err)
	}
	if string(got) != "old secret" {
		t.Errorf("Decrypt = %q", got)
	}

	newCT, err := rotated.Encrypt([]byte("new secret"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(newCT, "v1:k2:") {
		t.Errorf("new ciphertext %q is not made with k2", newCT)
	}
	if got, err := rotated.Decrypt(newCT, []byte("ad")); err != nil || string(got) != "new secret" {
		t.Errorf("Decrypt(new) = %q, %v", got, err)
	}
	// The old ring does not know k2.
	if _, err := old.Decrypt(newCT, []byte("ad")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring decrypting k2 ciphertext: err = %v, want ErrUnknownKey", err)
	}
	// After k1 is retired, its ciphertexts are reported as unknown key.
	retired := mustNew(t, "k2", map[string][]byte{"k2": k2})
	if _, err := retired.Decrypt(oldCT, []byte("ad")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("retired ring decrypting k1 ciphertext: err = %v, want ErrUnknownKey", err)
	}
}

func TestDecryptErrors(t *testing.T) {
	k1 := testKey(1)
	r := mustNew(t, "k1", map[string][]byte{"k1": k1, "k2": testKey(2)})
	const plaintext = "very-secret-password"
	ad := []byte("stream-1/password")
	ct, err := r.Encrypt([]byte(plaintext), ad)
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.TrimPrefix(ct, "v1:k1:")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return "v1:k1:" + base64.RawURLEncoding.EncodeToString(b)
	}
	validPayload := base64.RawURLEncoding.EncodeToString(make([]byte, nonceSize+tagSize))

	tests := []struct {
		name string
		ct   string
		ad   []byte
		want error
	}{
		{"wrong associated data", ct, []byte("stream-2/password"), ErrDecrypt},
		{"missing associated data", ct, nil, ErrDecrypt},
		{"tampered nonce", flip(0), ad, ErrDecrypt},
		{"tampered ciphertext", flip(nonceSize), ad, ErrDecrypt},
		{"tampered tag", flip(len(raw) - 1), ad, ErrDecrypt},
		{"other key id in ring", "v1:k2:" + payload, ad, ErrDecrypt},
		{"truncated payload", "v1:k1:" + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), ad, ErrDecrypt},
		{"unknown key id", "v1:k9:" + payload, ad, ErrUnknownKey},
		{"empty", "", ad, ErrMalformed},
		{"no separators", "garbage", ad, ErrMalformed},
		{"missing payload separator", "v1:k1", ad, ErrMalformed},
		{"unsupported version", "v2:k1:" + payload, ad, ErrMalformed},
		{"invalid key id", "v1:K1:" + payload, ad, ErrMalformed},
		{"empty key id", "v1::" + payload, ad, ErrMalformed},
		{"bad base64", "v1:k1:!!!" + payload, ad, ErrMalformed},
		{"padded base64", "v1:k1:" + base64.URLEncoding.EncodeToString(raw[:len(raw)-1]) + "=", ad, ErrMalformed},
		{"std base64 alphabet", "v1:k1:" + strings.NewReplacer("-", "+", "_", "/").Replace(validPayload+"-_"), ad, ErrMalformed},
		{"too short", "v1:k1:" + base64.RawURLEncoding.EncodeToString(make([]byte, nonceSize+tagSize-1)), ad, ErrMalformed},
		{"empty payload", "v1:k1:", ad, ErrMalformed},
	}
	sentinels := []error{ErrDecrypt, ErrUnknownKey, ErrMalformed}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Decrypt(tt.ct, tt.ad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt err = %v, want %v", err, tt.want)
			}
			for _, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("error %v also matches %v", err, s)
				}
			}
			if got != nil {
				t.Errorf("Decrypt returned data %q with an error", got)
			}
			if strings.Contains(err.Error(), plaintext) {
				t.Errorf("error contains the plaintext: %v", err)
			}
			assertNoKey(t, "error", err.Error(), k1)
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		primary string
		keys    map[string][]byte
	}{
		{"no keys", "k1", nil},
		{"primary missing", "k2", map[string][]byte{"k1": testKey(1)}},
		{"empty primary", "", map[string][]byte{"k1": testKey(1)}},
		{"short key", "k1", map[string][]byte{"k1": testKey(1)[:16]}},
		{"long key", "k1", map[string][]byte{"k1": append(testKey(1), 1)}},
		{"nil key", "k1", map[string][]byte{"k1": nil}},
		{"upper-case id", "K1", map[string][]byte{"K1": testKey(1)}},
		{"empty id", "", map[string][]byte{"": testKey(1)}},
		{"id with colon", "a:b", map[string][]byte{"a:b": testKey(1)}},
		{"id too long", strings.Repeat("a", 33), map[string][]byte{strings.Repeat("a", 33): testKey(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.primary, tt.keys)
			if !errors.Is(err, ErrInvalidKeys) {
				t.Fatalf("New = %v, %v; want ErrInvalidKeys", r, err)
			}
			for _, k := range tt.keys {
				assertNoKey(t, "error", err.Error(), k)
			}
		})
	}

	// Valid edge cases.
	long := strings.Repeat("z", 32)
	if _, err := New(long, map[string][]byte{long: testKey(1), "2024-01": testKey(2)}); err != nil {
		t.Errorf("New with 32-char id: %v", err)
	}
}

func TestNewDoesNotRetainKeys(t *testing.T) {
	key := testKey(1)
	r := mustNew(t, "k1", map[string][]byte{"k1": key})
	ct, err := r.Encrypt([]byte("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	if _, err := r.Decrypt(ct, nil); err != nil {
		t.Errorf("ring changed after the caller cleared its key slice: %v", err)
	}
}

func TestParse(t *testing.T) {
	k1, k2 := testKey(0xfb), testKey(0xbf) // both produce +/ resp. -_ in base64
	std1 := base64.StdEncoding.EncodeToString(k1)
	url2 := base64.RawURLEncoding.EncodeToString(k2)
	tests := []struct {
		name    string
		spec    string
		primary string
		ids     string
	}{
		{"bare std key", std1, "k1", "[k1]"},
		{"bare raw-url key", base64.RawURLEncoding.EncodeToString(k1), "k1", "[k1]"},
		{"one named key", "main:" + std1, "main", "[main]"},
		{"two keys, first is primary", "k2:" + url2 + ",k1:" + std1, "k2", "[k1 k2]"},
		{"whitespace and trailing newline", "  k2 : " + url2 + " ,\tk1:" + std1 + "\n", "k2", "[k1 k2]"},
		{"one per line", "k2:" + url2 + "\r\nk1:" + std1 + "\n", "k2", "[k1 k2]"},
		{"raw std and padded url", "a:" + base64.RawStdEncoding.EncodeToString(k1) + ",b:" + base64.URLEncoding.EncodeToString(k2), "a", "[a b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r.PrimaryID() != tt.primary {
				t.Errorf("PrimaryID = %q, want %q", r.PrimaryID(), tt.primary)
			}
			if want := fmt.Sprintf("keyring(primary=%s, keys=%s)", tt.primary, tt.ids); r.String() != want {
				t.Errorf("String = %q, want %q", r.String(), want)
			}
		})
	}

	// Parsed keys are the decoded bytes: a ring built with New interoperates.
	parsed, err := Parse("k2:" + url2 + ",k1:" + std1)
	if err != nil {
		t.Fatal(err)
	}
	direct := mustNew(t, "k1", map[string][]byte{"k1": k1, "k2": k2})
	ct, err := direct.Encrypt([]byte("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.Decrypt(ct, nil); err != nil {
		t.Errorf("parsed ring cannot decrypt: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	key := testKey(0xab)
	good := base64.StdEncoding.EncodeToString(key)
	short := base64.StdEncoding.EncodeToString(key[:31])
	long := base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 0xab))
	badB64 := good[:20] + "*" + good[21:]
	tests := []struct {
		name    string
		spec    string
		mention string // the error must say this
	}{
		{"empty", "", "no keys"},
		{"only whitespace and commas", " , \n ,", "no keys"},
		{"bad base64", "k1:" + badB64, "base64"},
		{"bad bare base64", badB64, "base64"},
		{"truncated base64", "k1:" + good[:len(good)-3], "base64"},
		{"too short", "k1:" + short, "31 bytes"},
		{"too long", "k1:" + long, "33 bytes"},
		{"duplicate id", "k1:" + good + ",k1:" + good, `duplicate key id "k1"`},
		{"empty key", "k1:", "empty"},
		{"empty id", ":" + good, "key id"},
		{"invalid id", "Key_1:" + good, "key id"},
		{"bare key among several", good + ",k2:" + good, "entry 1 has no key id"},
		{"second entry bad", "k1:" + good + ",k2:" + short, "entry 2"},
		{"key where id belongs", good + ":" + good, "key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.spec)
			if !errors.Is(err, ErrInvalidKeys) {
				t.Fatalf("Parse = %v, %v; want ErrInvalidKeys", r, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("error %q does not mention %q", msg, tt.mention)
			}
			for _, leak := range []string{good, short, long, badB64, good[:16]} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q echoes key material", msg)
				}
			}
			assertNoKey(t, "error", msg, key)
		})
	}
}

func TestStringHidesKeys(t *testing.T) {
	k1, k2 := testKey(0x5a), testKey(0xa5)
	r := mustNew(t, "k2", map[string][]byte{"k1": k1, "k2": k2})
	if got, want := r.String(), "keyring(primary=k2, keys=[k1 k2])"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "ring", r)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("loaded", "ring", r)
	outputs := map[string]string{
		"%v":    fmt.Sprintf("%v", r),
		"%+v":   fmt.Sprintf("%+v", r),
		"%#v":   fmt.Sprintf("%#v", r),
		"%s":    fmt.Sprintf("%s", r),
		"value": fmt.Sprintf("%+v", *r),
		"%x":    fmt.Sprintf("%x", r),
		"slog":  logged.String(),
	}
	for name, out := range outputs {
		assertNoKey(t, name, out, k1)
		assertNoKey(t, name, out, k2)
	}
	if !strings.Contains(logged.String(), "primary=k2") {
		t.Errorf("slog output does not describe the ring: %s", logged.String())
	}
	var nilRing *Ring
	if got := nilRing.String(); got != "keyring(<nil>)" {
		t.Errorf("nil String = %q", got)
	}
}

func TestGenerateSpec(t *testing.T) {
	spec, err := GenerateSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(spec, "k1:") {
		t.Errorf("spec %q does not start with k1:", spec)
	}
	r, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(GenerateSpec()): %v", err)
	}
	if r.PrimaryID() != "k1" {
		t.Errorf("PrimaryID = %q", r.PrimaryID())
	}
	other, err := GenerateSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	if other == spec {
		t.Errorf("two generated specs are equal")
	}

	det, err := GenerateSpec(bytes.NewReader(testKey(3)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "k1:" + base64.StdEncoding.EncodeToString(testKey(3)); det != want {
		t.Errorf("GenerateSpec(reader) = %q, want %q", det, want)
	}
	if _, err := GenerateSpec(bytes.NewReader(make([]byte, 5))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

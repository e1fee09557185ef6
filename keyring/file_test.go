package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateFileCreatesAndReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absender.key")
	key := testKey(9)

	r1, created, err := LoadOrCreateFile(path, bytes.NewReader(key))
	if err != nil {
		t.Fatalf("first LoadOrCreateFile: %v", err)
	}
	if !created {
		t.Errorf("first call: created = false, want true")
	}
	if r1.PrimaryID() != "k1" {
		t.Errorf("PrimaryID = %q, want k1", r1.PrimaryID())
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode = %04o, want 0600", perm)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "k1:" + base64.StdEncoding.EncodeToString(key) + "\n"; string(data) != want {
		t.Errorf("key file content = %q, want %q", data, want)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (temporary file left behind?)", len(entries))
	}

	ct, err := r1.Encrypt([]byte("smtp-password"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}

	// The second call must reuse the file, not draw a new key.
	r2, created, err := LoadOrCreateFile(path, bytes.NewReader(testKey(10)))
	if err != nil {
		t.Fatalf("second LoadOrCreateFile: %v", err)
	}
	if created {
		t.Errorf("second call: created = true, want false")
	}
	got, err := r2.Decrypt(ct, []byte("ad"))
	if err != nil {
		t.Fatalf("ring from second call cannot decrypt: %v", err)
	}
	if string(got) != "smtp-password" {
		t.Errorf("Decrypt = %q", got)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Errorf("key file changed on second call")
	}
}

func TestLoadOrCreateFileReadsExisting(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	tests := []struct {
		name    string
		content string
		primary string
	}{
		{"comma-separated", "k2:" + base64.StdEncoding.EncodeToString(k2) + ",k1:" + base64.StdEncoding.EncodeToString(k1), "k2"},
		{"one per line", "k2:" + base64.RawURLEncoding.EncodeToString(k2) + "\nk1:" + base64.StdEncoding.EncodeToString(k1) + "\n", "k2"},
		{"bare key", base64.StdEncoding.EncodeToString(k1) + "\n", "k1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			r, created, err := LoadOrCreateFile(path, nil)
			if err != nil {
				t.Fatalf("LoadOrCreateFile: %v", err)
			}
			if created {
				t.Errorf("created = true for an existing file")
			}
			if r.PrimaryID() != tt.primary {
				t.Errorf("PrimaryID = %q, want %q", r.PrimaryID(), tt.primary)
			}
		})
	}
}

func TestLoadOrCreateFileErrors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not meaningful on Windows")
	}
	key := testKey(4)
	goodContent := "k1:" + base64.StdEncoding.EncodeToString(key) + "\n"
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		want    error
		mention []string
	}{
		{"world-readable", goodContent, 0o644, ErrInsecureKeyFile, []string{"0644", "chmod 600"}},
		{"group-readable", goodContent, 0o640, ErrInsecureKeyFile, []string{"0640", "chmod 600"}},
		{"group-writable only", goodContent, 0o620, ErrInsecureKeyFile, []string{"0620"}},
		{"other-executable", goodContent, 0o601, ErrInsecureKeyFile, []string{"0601"}},
		{"empty file", "", 0o600, ErrInvalidKeys, []string{"no keys"}},
		{"wrong key length", "k1:" + base64.StdEncoding.EncodeToString(key[:16]), 0o600, ErrInvalidKeys, []string{"16 bytes"}},
		{"bad base64", "k1:" + strings.Repeat("*", 44), 0o600, ErrInvalidKeys, []string{"base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "absender.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // not subject to umask
				t.Fatal(err)
			}
			r, created, err := LoadOrCreateFile(path, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("LoadOrCreateFile = %v, %v, %v; want %v", r, created, err, tt.want)
			}
			msg := err.Error()
			for _, m := range append([]string{path}, tt.mention...) {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
			assertNoKey(t, "error", msg, key)
			if strings.Contains(msg, strings.TrimSpace(goodContent)) {
				t.Errorf("error echoes the file content")
			}
			// The refused file is left alone.
			if after, _ := os.ReadFile(path); string(after) != tt.content {
				t.Errorf("file content changed")
			}
		})
	}

	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no-such-dir", "absender.key")
		if _, _, err := LoadOrCreateFile(path, nil); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("directory instead of file", func(t *testing.T) {
		path := t.TempDir()
		if _, _, err := LoadOrCreateFile(path, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err = %v, want 'not a regular file'", err)
		}
	})
	t.Run("random source fails", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absender.key")
		if _, _, err := LoadOrCreateFile(path, bytes.NewReader(nil)); err == nil {
			t.Fatal("err = nil with an empty random source")
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a key file was created although key generation failed: %v", err)
		}
	})
}

// Concurrent first runs must agree on one key: exactly one creates the file,
// the others load it.
func TestLoadOrCreateFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absender.key")
	const n = 16
	rings := make([]*Ring, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, created, err := LoadOrCreateFile(path, nil)
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
				return
			}
			rings[i] = r
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if createdCount != 1 {
		t.Errorf("%d callers report created=true, want 1", createdCount)
	}
	ct, err := rings[0].Encrypt([]byte("shared"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rings {
		if _, err := r.Decrypt(ct, nil); err != nil {
			t.Errorf("ring %d holds a different key: %v", i, err)
		}
	}
}

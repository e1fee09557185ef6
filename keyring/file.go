package keyring

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ErrInsecureKeyFile is wrapped by the error LoadOrCreateFile returns for a
// key file that group or other users may access.
var ErrInsecureKeyFile = errors.New("keyring: key file is accessible by group or other users")

// maxKeyFileSize bounds what LoadOrCreateFile reads; a real key file is well
// under 1 KiB.
const maxKeyFileSize = 64 << 10

// LoadOrCreateFile reads the key file at path (Parse format; entries may also
// be on separate lines). If the file does not exist it is created with mode
// 0600 holding one new key "k1" drawn from random (crypto/rand when nil), and
// created is true. Creation is atomic and exclusive: the key is written to a
// temporary file in the same directory which is then hard-linked to path, so
// no reader ever sees a partial file and concurrent callers end up sharing
// the one key that won.
//
// A file whose mode allows group or other access is refused (ErrInsecureKeyFile).
// The parent directory must exist.
func LoadOrCreateFile(path string, random io.Reader) (ring *Ring, created bool, err error) {
	ring, err = loadFile(path)
	if err == nil {
		return ring, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}

	spec, err := GenerateSpec(random)
	if err != nil {
		return nil, false, err
	}
	ring, err = parse(spec)
	if err != nil {
		return nil, false, fmt.Errorf("keyring: generated key: %w", err) // unreachable
	}
	switch err := createExclusive(path, []byte(spec+"\n")); {
	case err == nil:
		return ring, true, nil
	case errors.Is(err, fs.ErrExist):
		// Someone else created it between our read and our link: use theirs.
		ring, err = loadFile(path)
		if err != nil {
			return nil, false, err
		}
		return ring, false, nil
	default:
		return nil, false, fmt.Errorf("keyring: creating key file %s: %w", path, err)
	}
}

func loadFile(path string) (*Ring, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("keyring: opening key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: key file %s is not a regular file (mode %s)", path, info.Mode())
	}
	// Windows has no such permission bits; Go reports 0666 there.
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s",
			ErrInsecureKeyFile, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: reading key file %s: %w", path, err)
	}
	defer clear(data)
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: key file %s is larger than %d bytes", ErrInvalidKeys, path, maxKeyFileSize)
	}
	ring, err := parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("%w: key file %s: %v", ErrInvalidKeys, path, err)
	}
	return ring, nil
}

// createExclusive writes data to a new file at path with mode 0600. It
// returns an error wrapping fs.ErrExist if path already exists.
func createExclusive(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	// CreateTemp opens with O_EXCL and mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName) // after a successful link, path keeps the data
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return err
	}
	// link(2) fails with EEXIST instead of replacing path, unlike rename(2).
	if err := os.Link(tmpName, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable; best effort, since not every
// platform can fsync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

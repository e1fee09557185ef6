//go:build unix

package migrations

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile holds an exclusive flock(2) on path (created with mode 0600)
// until unlock is called or the process ends, also by a crash. It is a
// file of its own: the database file must not be opened and closed beside
// SQLite, since closing any descriptor of it drops SQLite's POSIX locks.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("migrations: lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("migrations: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

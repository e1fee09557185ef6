package database_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/absender/absender/database"
)

// TestSQLiteFilesArePrivate: the database file and the -wal and -shm files
// SQLite creates beside it are readable by their owner only (mode 0600),
// like the key file; secrets sealed in the log stay out of other users'
// reach, and so does message content.
func TestSQLiteFilesArePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absender.db")
	db, err := database.Open(t.Context(), path, database.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	if _, err := db.Write.ExecContext(t.Context(), "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := db.Read.ExecContext(t.Context(), "SELECT count(*) FROM t"); err != nil {
		t.Fatalf("read: %v", err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("stat %s: %v", filepath.Base(name), err)
		}
		if got, want := fi.Mode().Perm(), fs.FileMode(0o600); got != want {
			t.Errorf("%s: got mode %v, want %v", filepath.Base(name), got, want)
		}
	}
}

// TestSQLiteJournalIsPrivate: a rollback journal (a database opened outside
// WAL mode, e.g. by the sqlite3 shell) takes the database file's mode too.
func TestSQLiteJournalIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absender.db")
	db, err := database.Open(t.Context(), path, database.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	ctx := t.Context()
	for _, q := range []string{"PRAGMA journal_mode=DELETE", "PRAGMA locking_mode=EXCLUSIVE", "CREATE TABLE t (x TEXT)", "BEGIN IMMEDIATE", "INSERT INTO t VALUES ('a')"} {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	fi, err := os.Stat(path + "-journal")
	if err != nil {
		t.Fatalf("stat journal: %v", err)
	}
	if got, want := fi.Mode().Perm(), fs.FileMode(0o600); got != want {
		t.Errorf("journal: got mode %v, want %v", got, want)
	}
	_, _ = db.Write.ExecContext(ctx, "ROLLBACK")
}

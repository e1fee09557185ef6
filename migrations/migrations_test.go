package migrations_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/migrations"
)

// Re-running up is a no-op, and processes starting together migrate once.
func TestUpIsIdempotentAndSerialised(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		// dbtest already migrated: nothing left to apply.
		applied, err := migrations.Up(ctx, db)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second up: applied %v, err %v; want nothing", applied, err)
		}
		pending, err := migrations.Pending(ctx, db)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after up: %v, %v", pending, err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := migrations.Up(ctx, db); err != nil {
					t.Errorf("concurrent up: %v", err)
				}
			}()
		}
		wg.Wait()
	})
}

// Fresh PostgreSQL databases migrated by several processes at once end up
// migrated once, without errors (the advisory lock covers bun's own tables).
func TestConcurrentFirstMigration(t *testing.T) {
	url := dbtest.NewPostgresDatabase(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(t.Context(), url, database.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			if _, err := migrations.Up(t.Context(), db); err != nil {
				t.Errorf("up: %v", err)
			}
		}()
	}
	wg.Wait()
}

// TestConcurrentFirstMigrationSQLite: processes that open one fresh SQLite
// file and migrate it at once (serve starting while a command opens the
// database it is creating) end up with it migrated once, without errors
// (review of issue 11: SQLite has no advisory lock).
func TestConcurrentFirstMigrationSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absender.db")
	first, err := database.Open(t.Context(), path, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(t.Context(), path, database.Options{MustExist: true})
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			if _, err := migrations.Up(t.Context(), db); err != nil {
				t.Errorf("up: %v", err)
			}
		}()
	}
	wg.Wait()
	if pending, err := migrations.Pending(t.Context(), first); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the concurrent ups: %v, %v", pending, err)
	}
}

// TestMigrationsSharedOrPerDialect: a migration is in common/ (both
// dialects run the same SQL) or in postgres/ and sqlite/ alike (the SQL
// differs), never in common/ and a dialect's directory; and a migration
// whose files are the same in both dialects belongs in common/, so the
// schema is not written twice.
func TestMigrationsSharedOrPerDialect(t *testing.T) {
	read := func(dir string) map[string][]byte {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
		return out
	}
	common, pg, lite := read("common"), read("postgres"), read("sqlite")
	if len(common) == 0 {
		t.Fatal("common/ is empty")
	}
	for name := range common {
		if pg[name] != nil || lite[name] != nil {
			t.Errorf("%s is in common/ and in a dialect's directory", name)
		}
	}
	same := map[string]bool{} // migration (file name without .up/.down.sql) → all its files equal
	for name, b := range pg {
		other, ok := lite[name]
		if !ok {
			t.Errorf("%s is in postgres/ but not in sqlite/", name)
			continue
		}
		migration := strings.TrimSuffix(strings.TrimSuffix(name, ".up.sql"), ".down.sql")
		if eq, seen := same[migration]; !seen || eq {
			same[migration] = bytes.Equal(b, other)
		}
	}
	for name := range lite {
		if _, ok := pg[name]; !ok {
			t.Errorf("%s is in sqlite/ but not in postgres/", name)
		}
	}
	for migration, eq := range same {
		if eq {
			t.Errorf("%s is the same in both dialects: move it to common/", migration)
		}
	}
	for _, kind := range []database.Kind{database.Postgres, database.SQLite} {
		set, err := migrations.Set(kind)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(set.Sorted()), (len(common)+len(pg))/2; got != want {
			t.Errorf("%s: got %d migrations, want %d (common/ and its own)", kind, got, want)
		}
	}
}

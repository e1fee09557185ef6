package migrations_test

import (
	"path/filepath"
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

package migrations_test

import (
	"sync"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/database/dbtest"
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

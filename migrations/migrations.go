// Package migrations holds the SQL schema as embedded files — common/ for
// migrations both dialects run as they are, postgres/ and sqlite/ for those
// whose SQL differs — and runs them with bun's migrator (under a lock:
// PostgreSQL's advisory lock, a lock file beside a SQLite database; so
// several processes may start at once). Re-running is a no-op.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"testing/fstest"

	"github.com/uptrace/bun/migrate"

	"github.com/absender/absender/database"
)

// migrationLock is the advisory lock key that serialises migrations.
const migrationLock int64 = 0x616273656e646572 // "absender"

// LockSuffix names the lock file beside a SQLite database (its path plus
// the suffix) that serialises migrations of processes sharing the file.
const LockSuffix = ".migrate-lock"

//go:embed common/*.sql postgres/*.sql sqlite/*.sql
var files embed.FS

// Set returns the migrations of the database's dialect.
func Set(kind database.Kind) (*migrate.Migrations, error) {
	var dir string
	switch kind {
	case database.Postgres:
		dir = "postgres"
	case database.SQLite:
		dir = "sqlite"
	default:
		return nil, fmt.Errorf("migrations: no migrations for database kind %q", kind)
	}
	sub, err := dialect(files, dir)
	if err != nil {
		return nil, err
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrations: discover %s: %w", dir, err)
	}
	return m, nil
}

func migrator(ctx context.Context, db *database.DB) (*migrate.Migrator, error) {
	set, err := Set(db.Kind)
	if err != nil {
		return nil, err
	}
	m := migrate.NewMigrator(db.Write, set, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations: init: %w", err)
	}
	return m, nil
}

// Up applies every pending migration and reports the ones it applied.
func Up(ctx context.Context, db *database.DB) ([]string, error) {
	if db.Kind == database.Postgres {
		// A session advisory lock on a connection of its own keeps two
		// processes from migrating (or creating bun's tables) at once; unlike
		// a lock row, it goes away with a crashed process.
		conn, err := db.Write.DB.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrations: lock: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return nil, fmt.Errorf("migrations: lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
		}()
	}
	if db.Kind == database.SQLite {
		// SQLite has no advisory lock: a lock file beside the database
		// keeps two processes (serve starting, a command opening the file
		// it creates) from applying the same migration twice.
		unlock, err := lockFile(db.Path + LockSuffix)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	m, err := migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: up: %w", err)
	}
	var applied []string
	if group != nil && !group.IsZero() {
		for _, mg := range group.Migrations {
			applied = append(applied, mg.Name+"_"+mg.Comment)
		}
	}
	return applied, nil
}

// Status lists every migration with whether it has been applied.
type Status struct {
	Name    string
	Applied bool
}

// Pending reports the migrations not yet applied (empty when up to date).
func Pending(ctx context.Context, db *database.DB) ([]Status, error) {
	all, err := List(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, s := range all {
		if !s.Applied {
			out = append(out, s)
		}
	}
	return out, nil
}

// List reports every known migration and whether it is applied.
func List(ctx context.Context, db *database.DB) ([]Status, error) {
	m, err := migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]Status, 0, len(ms))
	for _, mg := range ms {
		out = append(out, Status{Name: mg.Name + "_" + mg.Comment, Applied: mg.IsApplied()})
	}
	return out, nil
}

// Applied tells whether any migration was ever applied to db — false for a
// database without Absender's schema — without creating anything (List
// and Up create bun's tables).
func Applied(ctx context.Context, db *database.DB) (bool, error) {
	q := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'bun_migrations'`
	if db.Kind == database.SQLite {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'bun_migrations'`
	}
	var n int
	if err := db.Read.DB.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return false, fmt.Errorf("migrations: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	if err := db.Read.DB.QueryRowContext(ctx, `SELECT count(*) FROM bun_migrations`).Scan(&n); err != nil {
		return false, fmt.Errorf("migrations: %w", err)
	}
	return n > 0, nil
}

// dialect is the migrations of one dialect: those in common/, which both
// dialects run as they are, and those in the dialect's own directory,
// where the SQL differs. A file name in both is an error: a migration is
// shared or per dialect, never both.
func dialect(files fs.FS, dir string) (fs.FS, error) {
	out := fstest.MapFS{}
	for _, d := range []string{"common", dir} {
		entries, err := fs.ReadDir(files, d)
		if err != nil {
			return nil, fmt.Errorf("migrations: %s: %w", d, err)
		}
		for _, e := range entries {
			if _, dup := out[e.Name()]; dup {
				return nil, fmt.Errorf("migrations: %s is in common/ and in %s/", e.Name(), dir)
			}
			b, err := fs.ReadFile(files, d+"/"+e.Name())
			if err != nil {
				return nil, err
			}
			out[e.Name()] = &fstest.MapFile{Data: b, Mode: 0o444}
		}
	}
	return out, nil
}

// Package dbtest gives tests a fresh, migrated database: SQLite in a
// temporary directory always, and PostgreSQL when ABSENDER_TEST_POSTGRES_URL
// names a server. Every PostgreSQL test gets a database of its own, so
// parallel tests and packages never share a log or consumer groups.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/absender/absender/database"
	"github.com/absender/absender/migrations"
)

// EnvPostgres names the PostgreSQL server for tests (any database on it;
// tests create their own).
const EnvPostgres = "ABSENDER_TEST_POSTGRES_URL"

// Each runs fn as a subtest on SQLite and, when configured, on PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachBench runs fn as a sub-benchmark on SQLite and, when configured, on
// PostgreSQL (as Each does for tests).
func EachBench(b *testing.B, fn func(b *testing.B, db *database.DB)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { fn(b, SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, Postgres(b)) })
}

// SQLite opens a migrated SQLite database in t.TempDir().
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "absender.db"))
}

// PostgresURL returns the test server's URL, skipping the test when none is
// configured (failing it under CI=true, where a skipped PostgreSQL suite is
// a failure).
func PostgresURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvPostgres)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: the PostgreSQL suite must run under CI", EnvPostgres)
		}
		t.Skipf("PostgreSQL suite skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it", EnvPostgres)
	}
	return raw
}

// Postgres creates a fresh PostgreSQL database for this test, migrates it
// and drops it when the test ends.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return open(t, NewPostgresDatabase(t))
}

// NewPostgresDatabase creates an empty database and returns its URL.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", database.Redact(base), err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "absender_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

func open(t testing.TB, raw string) *database.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, raw, database.Options{MaxConns: 40})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

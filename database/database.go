// Package database opens the SQL database Absender keeps its event store and
// read models in: an embedded SQLite file by default, PostgreSQL in
// production. Everything above this package talks to bun and, where SQL
// really differs, switches on Kind.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/attribute"
)

// Kind names the database engine.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// DB is an open database. Write takes every transaction that writes; Read
// serves queries. On PostgreSQL both are the same pool. On SQLite, Write is
// a single connection whose transactions begin IMMEDIATE (one writer: a
// read-to-write upgrade would fail with SQLITE_BUSY whatever the busy
// timeout), and Read is a pool of connections that see the WAL snapshot.
type DB struct {
	Kind  Kind
	Write *bun.DB
	Read  *bun.DB
	// Path is the SQLite file (empty for PostgreSQL).
	Path string
	// URL is the PostgreSQL connection string (empty for SQLite); LISTEN
	// connections are opened from it.
	URL string
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.Read != db.Write {
		return errors.Join(db.Write.Close(), db.Read.Close())
	}
	return db.Write.Close()
}

// Options tune the pools; zero values take defaults.
type Options struct {
	// MaxConns caps the PostgreSQL pool (default 20) and the SQLite read
	// pool (default 8).
	MaxConns int
	// MustExist refuses a SQLite file that does not exist (ErrNotExist)
	// instead of creating it. A PostgreSQL database is never created here;
	// one that does not exist is ErrNotExist either way.
	MustExist bool
}

// Validate reports a bad option.
func (o Options) Validate() error {
	if o.MaxConns < 0 {
		return fmt.Errorf("database: MaxConns %d must not be negative", o.MaxConns)
	}
	return nil
}

// ErrNotExist is the error (errors.Is) of Open for a database that does
// not exist: a missing SQLite file under Options.MustExist, or a
// PostgreSQL database the server does not have.
var ErrNotExist = errors.New("database does not exist")

// ErrEmpty is the error of Open under Options.MustExist for an empty
// SQLite file (no schema: opening it would write to it).
var ErrEmpty = errors.New("database file is empty")

// notExist keeps the driver's text and matches ErrNotExist.
type notExist struct{ err error }

func (e notExist) Error() string   { return e.err.Error() }
func (e notExist) Unwrap() []error { return []error{ErrNotExist, e.err} }

// Open opens the database named by raw: a postgres:// or postgresql:// URL,
// or a SQLite file path (optionally prefixed with sqlite: or file:).
func Open(ctx context.Context, raw string, opt Options) (*DB, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	kind, target, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	var db *DB
	switch kind {
	case Postgres:
		db, err = openPostgres(target, opt)
	case SQLite:
		db, err = openSQLite(target, opt)
	default:
		err = fmt.Errorf("database: unsupported kind %q", kind)
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Write.PingContext(pingCtx); err != nil {
		_ = db.Close()
		var pgErr *pgconn.PgError
		switch {
		case kind == SQLite && (strings.Contains(err.Error(), "(14)") || strings.Contains(err.Error(), "unable to open")):
			// SQLite says "out of memory (14)" (SQLITE_CANTOPEN) for a file
			// it cannot open or whose -wal file it cannot create.
			return nil, fmt.Errorf("database: cannot open the SQLite file %s: the file and its directory must be readable and writable (SQLite creates %s-wal beside it): %w",
				db.Path, filepath.Base(db.Path), err)
		case errors.As(err, &pgErr) && pgErr.Code == "3D000": // invalid_catalog_name
			return nil, notExist{fmt.Errorf("database: connect to %s: %w", Redact(raw), err)}
		}
		return nil, fmt.Errorf("database: connect to %s: %w", Redact(raw), err)
	}
	return db, nil
}

// Parse tells the kind of database a URL names and the driver's target.
func Parse(raw string) (Kind, string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", "", errors.New("database URL is empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := pgx.ParseConfig(raw); err != nil {
			return "", "", fmt.Errorf("database URL %s: %w", Redact(raw), err)
		}
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite://"):
		return SQLite, strings.TrimPrefix(raw, "sqlite://"), nil
	case strings.HasPrefix(raw, "sqlite:"):
		return SQLite, strings.TrimPrefix(raw, "sqlite:"), nil
	case strings.HasPrefix(raw, "file:"):
		return SQLite, strings.TrimPrefix(raw, "file:"), nil
	case strings.Contains(raw, "://"):
		return "", "", fmt.Errorf("database URL %s: unsupported scheme (use postgres:// or a SQLite file path)", Redact(raw))
	default:
		return SQLite, raw, nil
	}
}

// Redact hides the password of a database URL for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func openPostgres(target string, opt Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(target)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", Redact(target), err)
	}
	// pgx prepares every statement; after five runs PostgreSQL may switch
	// to a generic plan, which for the consumers' "next batch after this
	// position" query scans the log instead of walking the key from the
	// position (seen: 190 ms instead of 0.3 ms per batch at 1,000,000
	// events). Custom plans cost a little planning each time. A setting in
	// the URL wins.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	sqldb := stdlib.OpenDB(*cfg)
	n := opt.MaxConns
	if n <= 0 {
		n = 20
	}
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	traced(db, "postgresql")
	return &DB{Kind: Postgres, Write: db, Read: db, URL: target}, nil
}

// sqlitePragmas hold under concurrent use: WAL lets readers run beside the
// writer, the busy timeout covers other processes (a CLI beside serve), and
// foreign keys are on. secure_delete overwrites what is deleted or
// replaced, so purged message content (R25) does not linger in free pages.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)"

func openSQLite(path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("database: SQLite path is empty")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("database: %s is a directory, not a SQLite file", abs)
	case err == nil && !fi.Mode().IsRegular():
		return nil, fmt.Errorf("database: %s is not a regular file", abs)
	case err == nil && fi.Size() == 0 && opt.MustExist:
		return nil, fmt.Errorf("database: %s: %w", abs, ErrEmpty)
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if opt.MustExist {
			return nil, notExist{fmt.Errorf("database: %s does not exist", abs)}
		}
		dir := filepath.Dir(abs)
		if di, derr := os.Stat(dir); derr != nil || !di.IsDir() {
			return nil, fmt.Errorf("database: cannot create %s: the directory %s does not exist", abs, dir)
		}
		if err := createPrivate(abs); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return nil, fmt.Errorf("database: cannot create %s: the directory %s is not writable", abs, dir)
			}
			return nil, err
		}
	default:
		return nil, fmt.Errorf("database: cannot open %s: %w", abs, err)
	}
	w, err := sql.Open(sqliteshim.ShimName, "file:"+abs+"?"+sqlitePragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open(sqliteshim.ShimName, "file:"+abs+"?"+sqlitePragmas)
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("database: open %s: %w", abs, err)
	}
	n := opt.MaxConns
	if n <= 0 {
		n = 8
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{
		Kind:  SQLite,
		Write: bun.NewDB(w, sqlitedialect.New()),
		Read:  bun.NewDB(r, sqlitedialect.New()),
		Path:  abs,
	}, nil
}

// createPrivate creates an empty SQLite file at path with mode 0600 when
// none exists. SQLite gives the -wal, -shm and -journal files it creates
// beside a database the database file's mode, so none of them is readable
// by other local users (it would create the file itself 0644 less umask).
// An existing file keeps the mode its operator gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("database: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("database: create %s: %w", path, err)
	}
	return nil
}

// Rebind turns ? placeholders into PostgreSQL's $1, $2, … for a query
// written once for both databases (the query must hold no other ?).
func Rebind(k Kind, q string) string {
	if k != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// traced reports bun's queries as spans (through bunotel, with the
// statement without its arguments) when tracing is on.
func traced(db *bun.DB, system string) {
	db.AddQueryHook(bunotel.NewQueryHook(bunotel.WithAttributes(attribute.String("db.system", system))))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
	"github.com/absender/absender/telemetry"
)

// dbConfig is how every subcommand that opens the database finds it and
// the key that encrypts secrets.
type dbConfig struct {
	URL           string
	SecretKeyFile string
}

func (c *dbConfig) register(fs *flagSet) {
	fs.StringVar(&c.URL, "database-url", "./absender.db", "database: a SQLite file path, or postgres://user:pass@host:5432/db; only serve and migrate up create it, every other command needs one that exists")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", "", "SQLite only: key file for secrets (default: <database>.key beside the database, created with mode 0600 on first run); with PostgreSQL set ABSENDER_SECRET_KEY instead")
	fs.settings("database-url", "secret-key-file")
}

// Validate names the setting that is wrong.
func (c dbConfig) Validate() error {
	if _, _, err := database.Parse(c.URL); err != nil {
		return fmt.Errorf("--database-url (ABSENDER_DATABASE_URL): %w", err)
	}
	return nil
}

// open opens the database. With create (serve and migrate up only) a
// missing SQLite file is created; otherwise a database that does not exist
// or has no schema (no migration ever applied) is refused with an error
// naming it and how to create it, and nothing is created.
func (c dbConfig) open(ctx context.Context, create bool) (*database.DB, error) {
	if err := c.Validate(); err != nil {
		return nil, usageError{err.Error()}
	}
	conn, err := database.Open(ctx, c.URL, database.Options{MustExist: !create})
	if create {
		return conn, err
	}
	name := database.Redact(strings.TrimSpace(c.URL))
	const howTo = "start the server once (absender serve) or run: absender migrate up"
	if errors.Is(err, database.ErrNotExist) {
		if kind, _, _ := database.Parse(c.URL); kind == database.Postgres {
			return nil, fmt.Errorf("database %s does not exist; create it on the PostgreSQL server (e.g. createdb), then %s", name, howTo)
		}
		return nil, fmt.Errorf("database %s does not exist; %s", name, howTo)
	}
	if errors.Is(err, database.ErrEmpty) {
		return nil, fmt.Errorf("database %s has no schema (the file is empty); %s", name, howTo)
	}
	if err != nil {
		return nil, err
	}
	ok, err := migrations.Applied(ctx, conn)
	if err == nil && !ok {
		err = fmt.Errorf("database %s has no schema (no migration was ever applied); %s", name, howTo)
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// keyring loads the key ring for secrets: ABSENDER_SECRET_KEY when set
// (required with PostgreSQL, where several processes must share it), else a
// key file beside the SQLite database, created on first run.
func (c dbConfig) keyring(db *database.DB) (*keyring.Ring, error) {
	if ring, set, err := envKeyring(db.Kind); set || err != nil {
		return ring, err
	}
	path := c.SecretKeyFile
	if path == "" {
		path = db.Path + ".key"
	}
	ring, _, err := keyring.LoadOrCreateFile(path, nil)
	if err != nil {
		return nil, fmt.Errorf("--secret-key-file (ABSENDER_SECRET_KEY_FILE): %w", err)
	}
	return ring, nil
}

// envKeyring reads the key ring from ABSENDER_SECRET_KEY; set is false
// when the variable is empty, which PostgreSQL does not allow.
func envKeyring(kind database.Kind) (ring *keyring.Ring, set bool, err error) {
	spec := os.Getenv("ABSENDER_SECRET_KEY")
	if spec == "" {
		if kind == database.Postgres {
			example, _ := keyring.GenerateSpec(nil)
			return nil, false, usageError{"ABSENDER_SECRET_KEY is required with PostgreSQL; every process must use the same key ring, e.g. ABSENDER_SECRET_KEY=" + example}
		}
		return nil, false, nil
	}
	if ring, err = keyring.Parse(spec); err != nil {
		return nil, true, fmt.Errorf("ABSENDER_SECRET_KEY: %w", err)
	}
	return ring, true, nil
}

// logConfig chooses the log format and level.
type logConfig struct {
	Format string
	Level  string
}

func (c *logConfig) register(fs *flagSet) {
	fs.StringVar(&c.Format, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), json or text")
	fs.StringVar(&c.Level, "log-level", "info", "log level: debug, info, warn or error")
	fs.settings("log-format", "log-level")
}

func (c logConfig) Validate() error {
	var errs []error
	switch c.Format {
	case "auto", "json", "text":
	default:
		errs = append(errs, fmt.Errorf("--log-format (ABSENDER_LOG_FORMAT): %q is not auto, json or text", c.Format))
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.Level)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level (ABSENDER_LOG_LEVEL): %q is not debug, info, warn or error", c.Level))
	}
	return errors.Join(errs...)
}

func (c logConfig) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := c.Format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "text"
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	// Lines logged with a request's or a message's context carry its trace
	// id, correlation id, tenant and actor.
	return slog.New(telemetry.LogHandler(h, server.LogContext))
}

// displayPath shortens a path for messages.
func displayPath(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return p
}

// server opens the database, which must exist (see open), applies pending
// migrations and assembles the parts a command needs (with the key ring
// when it runs commands that seal secrets). closeDB releases the database.
func (c dbConfig) server(ctx context.Context, withKeyring bool) (srv *server.Server, closeDB func(), err error) {
	conn, err := c.open(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	closeDB = func() { _ = conn.Close() }
	defer func() {
		if err != nil {
			closeDB()
		}
	}()
	if _, err := migrations.Up(ctx, conn); err != nil {
		return nil, nil, err
	}
	opt := server.Options{DB: conn, NoSaga: true, App: appConfig(0)}
	if withKeyring {
		if opt.Keyring, err = c.keyring(conn); err != nil {
			return nil, nil, err
		}
	}
	if srv, err = server.New(opt); err != nil {
		return nil, nil, err
	}
	return srv, closeDB, nil
}

// sagaOptions are the send saga's settings of this binary, as serve runs
// it: workers delivery workers (0: the default), the default attempt
// timeout and clock. retry-parked re-applies the saga's parked events with
// the same settings.
func sagaOptions(workers int) saga.Options {
	return saga.Options{Workers: workers}
}

// appConfig is the command layer's configuration of this binary: its
// version for support requests (R7) and the message retention (R25, 0:
// the default).
func appConfig(retention time.Duration) app.Config {
	return app.Config{Version: version, MessageRetention: retention}
}

package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/server"
)

// processConfig is a serving process on a fresh SQLite file.
func processConfig(t *testing.T, listen string, log *bytes.Buffer) server.Config {
	t.Setenv("OTEL_SDK_DISABLED", "true")
	path := filepath.Join(t.TempDir(), "a.db")
	return server.Config{
		Version: "test",
		Log:     slog.New(slog.NewJSONHandler(log, nil)),
		OpenDB: func(ctx context.Context) (*database.DB, error) {
			return database.Open(ctx, path, database.Options{})
		},
		Keyring: func(db *database.DB) (*keyring.Ring, error) {
			ring, _, err := keyring.LoadOrCreateFile(db.Path+".key", nil)
			return ring, err
		},
		AutoMigrate: true,
		Listen:      listen,
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	err := server.Config{Listen: "nonsense", ShutdownTimeout: -time.Second, BrokerURL: "http://x",
		Server: server.Options{WaitTimeout: -1}}.Validate()
	if err == nil {
		t.Fatal("got no error for an empty Config")
	}
	for _, field := range []string{"Config.Log", "Config.OpenDB", "Config.Keyring", "Config.Listen", "Config.BrokerURL",
		"Config.ShutdownTimeout", "WaitTimeout"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Validate: %v does not name %s", err, field)
		}
	}
}

// The composition root builds a whole process: it migrates, serves, and
// at the end of its context drains HTTP, stops its parts and returns nil.
func TestProcessServesAndShutsDown(t *testing.T) {
	var log bytes.Buffer
	p, err := server.NewProcess(t.Context(), processConfig(t, "127.0.0.1:0", &log))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	res, err := http.Get("http://" + p.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz: got %d, want 200", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after the end of its context: got %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	for _, line := range []string{"applied migrations", "absender serving", "shutting down"} {
		if !strings.Contains(log.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, log.String())
		}
	}
	if _, err := net.DialTimeout("tcp", p.Addr().String(), time.Second); err == nil {
		t.Error("the listener is still open after Run")
	}
	if err := p.Database().Read.PingContext(context.Background()); err == nil {
		t.Error("the database is still open after Run")
	}
}

// An address in use fails the start, naming the setting, and releases
// what was built.
func TestProcessListenInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = server.NewProcess(t.Context(), processConfig(t, ln.Addr().String(), &bytes.Buffer{}))
	var se *server.SettingError
	if !errors.As(err, &se) || se.Setting != "Listen" || se.Usage {
		t.Errorf("got %v, want a SettingError for Listen that is no usage error", err)
	}
}

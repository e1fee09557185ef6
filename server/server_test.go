package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/server"
)

func get(t *testing.T, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", path, rec.Body.String(), err)
	}
	return rec.Code, body
}

func TestHealthAndReadiness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newServer(t, db).Handler()
		if code, _ := get(t, h, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz: got %d, want 200", code)
		}
		code, body := get(t, h, "/readyz")
		if code != http.StatusOK || body["status"] != "ready" {
			t.Errorf("/readyz on a migrated database: got %d %v, want 200 ready", code, body)
		}
	})
}

// /readyz names the failing part: pending migrations, then an unreachable
// database.
func TestReadinessNamesFailingPart(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, filepath.Join(t.TempDir(), "fresh.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := newServer(t, db).Handler()
	code, body := get(t, h, "/readyz")
	checks, _ := body["checks"].(map[string]any)
	if code != http.StatusServiceUnavailable || checks["migrations"] == "ok" || checks["database"] != "ok" {
		t.Errorf("unmigrated: got %d %v, want 503 naming migrations", code, body)
	}
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("after migrating: got %d %v, want 200", code, body)
	}
	_ = db.Close()
	code, body = get(t, h, "/readyz")
	checks, _ = body["checks"].(map[string]any)
	if code != http.StatusServiceUnavailable || checks["database"] == "ok" {
		t.Errorf("closed database: got %d %v, want 503 naming the database", code, body)
	}
}

func newServer(t *testing.T, db *database.DB) *server.Server {
	t.Helper()
	s, err := server.New(server.Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

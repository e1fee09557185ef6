package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// With --broker-url, /readyz checks the broker: one nobody listens on
// makes the server unready, naming the broker and nothing else.
func TestServeReadinessChecksBroker(t *testing.T) {
	t.Setenv("ABSENDER_SECRET_KEY", "")
	addr, broker := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--database-url", filepath.Join(t.TempDir(), "a.db"),
			"--broker-url", "nats://" + broker, "--log-format", "json"}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	var code int
	for range 100 {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		code = resp.StatusCode
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if code != http.StatusServiceUnavailable || body.Checks["broker"] != "unreachable" {
		t.Fatalf("/readyz: got %d %+v, want 503 with broker unreachable", code, body)
	}
	for name, v := range body.Checks {
		if name != "broker" && v != "ok" {
			t.Errorf("check %q: got %q, want ok", name, v)
		}
	}
}

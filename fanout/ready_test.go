package fanout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/absender/absender/fanout"
	"github.com/absender/absender/internal/dbtest"
)

// Ready follows the broker: not connected before Run, connected once Run
// has connected, not connected while the broker is down, connected again
// after it returns, and not connected once Run has ended.
func TestReadyFollowsBroker(t *testing.T) {
	f := setup(t, dbtest.SQLite(t))
	b := startBroker(t)
	fw, err := fanout.New(f.store, fanout.Config{URL: b.url(), RetryInterval: 50 * time.Millisecond,
		MaxRetryInterval: 500 * time.Millisecond, Logger: f.log})
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Ready(t.Context()); !errors.Is(err, fanout.ErrNotConnected) {
		t.Errorf("before Run: got %v, want ErrNotConnected", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("forwarder: %v", err)
			}
		}
	}
	defer stop()

	waitReady(t, fw, true, "broker up")
	b.stop()
	waitReady(t, fw, false, "broker stopped")
	b.start()
	waitReady(t, fw, true, "broker back")
	stop()
	waitReady(t, fw, false, "forwarder stopped")
}

func waitReady(t *testing.T, fw *fanout.Forwarder, want bool, when string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fw.Ready(t.Context())
		if (err == nil) == want {
			if err != nil && !errors.Is(err, fanout.ErrNotConnected) {
				t.Errorf("%s: got %v, want an error wrapping ErrNotConnected", when, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: Ready got %v after 10s, want ready=%v", when, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

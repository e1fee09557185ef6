package account

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// R27: at most Workers hashes at once; a waiting caller leaves when its
// context ends.
func TestR27_PoolBoundsConcurrentHashes(t *testing.T) {
	h, err := NewHasher(HasherConfig{Params: HashParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = h.run(t.Context(), func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				running.Add(-1)
			})
		}()
	}
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Fatalf("got %d hashes at once, want 2", got)
	}

	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		go func() { _ = h.run(t.Context(), func() { started <- struct{}{}; <-release }) }()
	}
	<-started
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := h.run(ctx, func() { t.Error("ran while the pool was full") }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	close(release)
}

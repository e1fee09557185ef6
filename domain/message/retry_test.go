package message_test

import (
	"testing"
	"time"

	"github.com/absender/absender/domain/message"
)

const noJitter = 0.5 // Delay's u that varies nothing

func TestR23_DefaultRetryPolicy(t *testing.T) {
	p := message.DefaultRetryPolicy
	if p.MaxAttempts != 8 {
		t.Fatalf("got %d attempts, want 8", p.MaxAttempts)
	}
	var total time.Duration
	prev := time.Duration(0)
	for n := 1; n < p.MaxAttempts; n++ { // the pauses between 8 attempts
		d := p.Delay(n, noJitter)
		if d <= 0 {
			t.Fatalf("delay after attempt %d: got %v, want positive", n, d)
		}
		if d < prev {
			t.Errorf("delay after attempt %d: got %v, want at least the previous %v (exponential backoff)", n, d, prev)
		}
		prev = d
		total += d
	}
	if total < 20*time.Hour || total > 26*time.Hour {
		t.Fatalf("got the 7 delays summing to %v, want about 24 h (20–26 h)", total)
	}
	if first := p.Delay(1, noJitter); first > 10*time.Minute {
		t.Errorf("got a first delay of %v, want a quick first retry (minutes)", first)
	}
}

func TestR23_RetryJitterBounds(t *testing.T) {
	p := message.DefaultRetryPolicy
	if p.Jitter != 0.2 {
		t.Fatalf("got jitter %v, want 0.2 (±20 %%)", p.Jitter)
	}
	for n := 1; n < p.MaxAttempts; n++ {
		base := float64(p.Delay(n, noJitter))
		lo, hi := time.Duration(base*0.8), time.Duration(base*1.2)
		for _, u := range []float64{0, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999999} {
			d := p.Delay(n, u)
			if d < lo-time.Millisecond || d > hi+time.Millisecond {
				t.Errorf("Delay(%d, %v): got %v, want within ±20 %% of %v [%v, %v]", n, u, d, time.Duration(base), lo, hi)
			}
		}
		if d := p.Delay(n, 0); d > time.Duration(base*0.8)+time.Millisecond {
			t.Errorf("Delay(%d, 0): got %v, want the lower bound %v", n, d, lo)
		}
		if d := p.Delay(n, 0.999999); d < time.Duration(base*1.2)-time.Second {
			t.Errorf("Delay(%d, ~1): got %v, want about the upper bound %v", n, d, hi)
		}
		if p.Delay(n, 0.25) >= p.Delay(n, 0.75) {
			t.Errorf("Delay(%d, u): got no spread between u=0.25 and u=0.75, want jitter", n)
		}
	}
}

func TestR23_RetryDelayOfFirstAttempt(t *testing.T) {
	p := message.DefaultRetryPolicy
	if got, want := p.Delay(0, noJitter), p.Delay(1, noJitter); got != want {
		t.Errorf("Delay(0): got %v, want the first delay %v", got, want)
	}
	custom := message.RetryPolicy{MaxAttempts: 3, First: time.Minute, Factor: 2}
	for n, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute} {
		if got := custom.Delay(n, 0.3); got != want {
			t.Errorf("custom Delay(%d) without jitter: got %v, want %v", n, got, want)
		}
	}
}

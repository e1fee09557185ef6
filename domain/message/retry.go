package message

import (
	"math"
	"time"
)

// RetryPolicy is R23's schedule of temporary failures: at most MaxAttempts
// attempts, the n-th retry after First·Factor^(n-1), each delay varied by
// ±Jitter (a fraction) so that messages failing together do not retry
// together.
type RetryPolicy struct {
	MaxAttempts int
	First       time.Duration
	Factor      float64
	Jitter      float64
}

// DefaultRetryPolicy is 8 attempts over about 24 hours (R23): the seven
// retries come 2.5, 7.5, 22.5, 67.5 and 202.5 minutes and then twice 9
// hours (the cap) after the failure before them, 23 hours in all, each
// ±20 %.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 8, First: 150 * time.Second, Factor: 3, Jitter: 0.2}

// maxDelay caps one delay of the default schedule.
const maxDelay = 9 * time.Hour

// Delay is the pause after failed attempt n (1-based); u in [0,1) picks
// the jitter (0.5 is none).
func (p RetryPolicy) Delay(n int, u float64) time.Duration {
	if n < 1 {
		n = 1
	}
	d := float64(p.First) * math.Pow(p.Factor, float64(n-1))
	if d > float64(maxDelay) {
		d = float64(maxDelay)
	}
	d *= 1 + p.Jitter*(2*u-1)
	return time.Duration(d)
}

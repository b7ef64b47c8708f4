package eventing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy is a bounded exponential backoff: attempt n (n >= 2) waits
// Initial * Multiplier^(n-2), capped at Max, then spread by +-Jitter.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included; 1
	// means no retries.
	MaxAttempts int
	// Initial is the wait before the second attempt.
	Initial time.Duration
	// Max caps every wait.
	Max time.Duration
	// Multiplier grows the wait per attempt; at least 1.
	Multiplier float64
	// Jitter is the fraction (0 to 1) by which each wait is randomly
	// shortened or lengthened, so instances do not retry in lockstep.
	Jitter float64
}

// DefaultRetryPolicy makes 5 attempts waiting about 100ms, 200ms, 400ms and
// 800ms (at most 5s each, +-20%).
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, Initial: 100 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: 0.2}

func (p RetryPolicy) validate() error {
	if p.MaxAttempts < 1 || p.Initial < 0 || p.Max < p.Initial || p.Multiplier < 1 || p.Jitter < 0 || p.Jitter > 1 {
		return fmt.Errorf("runtime: invalid retry policy %+v: need MaxAttempts >= 1, 0 <= Initial <= Max, Multiplier >= 1, 0 <= Jitter <= 1", p)
	}
	return nil
}

// Backoff returns the wait before attempt (2, 3, ...).
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	d := float64(p.Initial)
	for i := 2; i < attempt && d < float64(p.Max); i++ {
		d *= p.Multiplier
	}
	d = min(d, float64(p.Max))
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}

// AttemptFailed is called by the retry middleware after each failed
// attempt; retrying says whether another attempt follows.
type AttemptFailed func(ctx context.Context, m *Message, attempt int, err error, retrying bool)

// RetryMiddleware retries transient errors under p, setting m.Attempt before
// each attempt. Permanent, poison and panic errors return at once. A wait
// ends early when ctx ends; the error returned then wraps both the ctx
// error and the last handler error. onFailure may be nil.
func RetryMiddleware(p RetryPolicy, onFailure AttemptFailed) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, m *Message) error {
			for attempt := 1; ; attempt++ {
				m.Attempt = attempt
				err := next(ctx, m)
				if err == nil {
					return nil
				}
				retrying := retryable(err) && attempt < p.MaxAttempts && ctx.Err() == nil
				if onFailure != nil {
					onFailure(ctx, m, attempt, err, retrying)
				}
				if !retrying {
					if ctx.Err() != nil && retryable(err) {
						return errors.Join(ctx.Err(), err)
					}
					return err
				}
				if !sleep(ctx, p.Backoff(attempt+1)) {
					return errors.Join(ctx.Err(), err)
				}
			}
		}
	}
}

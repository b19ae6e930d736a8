package service

import (
	"context"
	"errors"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Rate-limit handling of the service's own calls (REFERENCE Q8: -32004 with retryAfterMs).
const (
	rateLimitAttempts   = 5
	rateLimitDefaultGap = time.Second
	rateLimitMaxGap     = 30 * time.Second
)

// retryRateLimited runs call, repeating it after the advertised delay while the server
// answers RateLimited (at most rateLimitAttempts times).
func retryRateLimited(ctx context.Context, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		var rl protocol.RateLimitedError
		if err == nil || attempt >= rateLimitAttempts || !errors.As(err, &rl) {
			return err
		}
		gap := rateLimitDefaultGap
		if rl.Data != nil && rl.Data.RetryAfterMs > 0 {
			gap = time.Duration(rl.Data.RetryAfterMs) * time.Millisecond
		}
		gap = min(gap, rateLimitMaxGap)
		t := time.NewTimer(gap)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

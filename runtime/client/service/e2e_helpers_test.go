package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/client"
)

// dial connects an agent to url with a fast reconnect policy.
func dial(t *testing.T, url, key string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{
		URL: url, AgentKey: key,
		Reconnect: client.Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

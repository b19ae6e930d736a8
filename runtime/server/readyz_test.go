package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/server"
)

func TestReadyzReportsEveryCheck(t *testing.T) {
	var busDown atomic.Bool
	e := newEnv(t, func(c *server.Config) {
		c.ReadinessChecks = map[string]func(context.Context) error{"bus": func(context.Context) error {
			if busDown.Load() {
				return errors.New("nats: no servers available")
			}
			return nil
		}}
	})
	get := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(e.http.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	code, body := get()
	checks, _ := body["checks"].(map[string]any)
	if code != http.StatusOK || checks["store"] != "ok" || checks["bus"] != "ok" {
		t.Fatalf("healthy: %d %v, want 200 with store and bus ok", code, body)
	}
	busDown.Store(true)
	code, body = get()
	checks, _ = body["checks"].(map[string]any)
	if code != http.StatusServiceUnavailable || body["status"] != "unavailable" || checks["bus"] != "nats: no servers available" || checks["store"] != "ok" {
		t.Fatalf("bus down: %d %v, want 503 naming the bus", code, body)
	}
}

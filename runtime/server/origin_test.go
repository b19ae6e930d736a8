package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/server"
)

// TestAllowedOriginsAndSeparateMetrics: a browser upgrade from an origin outside
// AllowedOrigins gets 403 (programs without Origin are not affected), and SeparateMetrics
// takes /metrics off the public handler while MetricsHandler serves it.
func TestAllowedOriginsAndSeparateMetrics(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.AllowedOrigins = []string{"https://app.example.com"}
		c.SeparateMetrics = true
	})
	upgrade := func(origin string) int {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/ws", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := upgrade("https://evil.example.com"); code != http.StatusForbidden {
		t.Fatalf("foreign origin: %d, want 403", code)
	}
	if code := upgrade("https://app.example.com"); code != http.StatusSwitchingProtocols {
		t.Fatalf("allowed origin: %d, want 101", code)
	}
	e.connectAs(e.register("alice")) // no Origin: a program
	if code, _ := get(t, e.http.URL+"/metrics"); code == http.StatusOK {
		t.Fatal("/metrics still on the public handler")
	}
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), "moltzap_build_info") {
		t.Fatalf("MetricsHandler: %d %.200s", rec.Code, body)
	}
}

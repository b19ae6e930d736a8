package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// testServer starts an in-process MoltZap server on 127.0.0.1 over a fresh SQLite store,
// with the per-agent limits raised for load, and returns its base URL.
func testServer(t *testing.T) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	srv, err := server.New(server.Config{Limits: server.Limits{
		MessagesPerMinute: 10_000_000, RequestsPerMinute: 10_000_000,
	}}, st)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
		_ = st.Close()
	})
	return hs.URL
}

// waitNoConnections waits until the server reports no open socket.
func waitNoConnections(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := connections(base)
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still has %d connections (err %v)", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func connections(base string) (int, error) {
	resp, err := http.Get(base + "/health")
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	var h struct {
		Connections int `json:"connections"`
	}
	if err := decodeJSON(resp, &h); err != nil {
		return -1, err
	}
	return h.Connections, nil
}

// checkLatency fails unless the result carries ordered percentiles.
func checkLatency(t *testing.T, r Result) {
	t.Helper()
	l := r.Latency
	if l == nil {
		t.Fatalf("%s: no latency", r.Workload)
	}
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Fatalf("%s: percentiles not ordered: %+v", r.Workload, *l)
	}
	if r.Rate <= 0 || r.Elapsed <= 0 {
		t.Fatalf("%s: rate %v elapsed %v", r.Workload, r.Rate, r.Elapsed)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

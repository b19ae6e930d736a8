package loadgen

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{
		"http://10.0.0.1:8080", "http://example.com", "http://[2001:db8::1]:80", "https://8.8.8.8",
		"http://127.0.0.1.nip.io:80", "http://0.0.0.0:8080", "ftp://127.0.0.1:21", "127.0.0.1:8080", "",
		"http://user@127.0.0.1:1", "http://localhost.example.com",
	} {
		for name, run := range workloads() {
			_, err := run(context.Background(), Config{BaseURL: u, Count: 1, Duration: time.Second})
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s %q: err %v, want ErrInvalidConfig", name, u, err)
			}
		}
	}
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1", "http://127.4.5.6:9/", "https://LOCALHOST:1/base"} {
		if _, err := (Config{BaseURL: u, Count: 1, Duration: time.Second}).check(1); err != nil {
			t.Errorf("%q refused: %v", u, err)
		}
	}
}

func TestBoundsRequired(t *testing.T) {
	for _, cfg := range []Config{
		{Count: 0, Duration: time.Second},
		{Count: 10, Duration: 0},
		{Count: -1, Duration: time.Second},
		{Count: 10, Duration: -time.Second},
		{Count: 10, Duration: time.Second, Concurrency: -1},
		{Count: 10, Duration: time.Second, GroupSize: 1},
		{Count: 10, Duration: time.Second, ServerPIDs: []int{-1}},
		{Count: 10, Duration: time.Second, ServerPIDs: []int{0}},
		{Count: 10, Duration: time.Second, ServerPIDs: []int{7, 7}},
		{Count: 10, Duration: time.Second, SourceAddrs: []string{"10.1.2.3"}},
		{Count: 10, Duration: time.Second, SourceAddrs: []string{"not-an-ip"}},
	} {
		cfg.BaseURL = "http://127.0.0.1:1"
		for name, run := range workloads() {
			if _, err := run(context.Background(), cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s %+v: err %v, want ErrInvalidConfig", name, cfg, err)
			}
		}
	}
}

func TestDerivedURLs(t *testing.T) {
	c, err := Config{BaseURL: "http://127.0.0.1:8080/", Count: 1, Duration: time.Second, SourceAddrs: []string{"127.0.0.2"}}.check(7)
	if err != nil {
		t.Fatal(err)
	}
	if c.httpBase() != "http://127.0.0.1:8080" || len(c.nodes) != 1 || c.nodes[0].ws != "ws://127.0.0.1:8080/ws" || c.Concurrency != 7 || c.GroupSize != DefaultGroupSize {
		t.Fatalf("%+v", c)
	}
	c, _ = Config{BaseURL: "https://[::1]:9/mz", Count: 1, Duration: time.Second}.check(1)
	if c.nodes[0].ws != "wss://[::1]:9/mz/ws" {
		t.Fatalf("ws url %q", c.nodes[0].ws)
	}
}

func TestSourceAddrs(t *testing.T) {
	base := testServer(t)
	res, err := Connect(context.Background(), Config{
		BaseURL: base, Count: 6, Duration: 10 * time.Second, Concurrency: 2,
		SourceAddrs: []string{"127.0.0.2", "127.0.0.3"},
	})
	if err != nil {
		t.Fatalf("connect from 127.0.0.2-3: %v", err)
	}
	if res.Count != 6 {
		t.Fatalf("count %d", res.Count)
	}
}

// workloads maps each workload to a uniform signature.
func workloads() map[string]func(context.Context, Config) (Result, error) {
	return map[string]func(context.Context, Config) (Result, error){
		"connect": Connect,
		"dm":      DM,
		"fanout":  Fanout,
	}
}

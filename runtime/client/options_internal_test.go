package client

import (
	"testing"
	"time"
)

func TestWebsocketURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":     "ws://127.0.0.1:8080/ws",
		"http://127.0.0.1:8080/":    "ws://127.0.0.1:8080/ws",
		"https://example.com/mz":    "wss://example.com/mz/ws",
		"https://example.com/mz/ws": "wss://example.com/mz/ws",
		"ws://h:1/ws":               "ws://h:1/ws",
		"WSS://h:1":                 "wss://h:1/ws",
		"ws://h:1/custom":           "ws://h:1/custom",
	} {
		got, err := websocketURL(in)
		if err != nil || got != want {
			t.Errorf("websocketURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://h", "http://", "::"} {
		if _, err := websocketURL(bad); err == nil {
			t.Errorf("websocketURL(%q) succeeded", bad)
		}
	}
}

func TestHTTPBase(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:1":        "http://h:1",
		"http://h:1/":       "http://h:1",
		"ws://h:1/ws":       "http://h:1",
		"wss://h/prefix/ws": "https://h/prefix",
	} {
		got, err := httpBase(in)
		if err != nil || got != want {
			t.Errorf("httpBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	if got := releaseLineMax("2026.525.0"); got != "2026.525.999999" {
		t.Fatalf("releaseLineMax = %q", got)
	}
	o := Options{URL: "http://h:1", AgentKey: "k"}
	if _, err := o.normalize(); err != nil {
		t.Fatal(err)
	}
	if o.CallTimeout != 30*time.Second || o.MinProtocol != "2026.525.0" || o.MaxProtocol != "2026.525.999999" {
		t.Fatalf("defaults = %+v", o)
	}
	if b := o.Reconnect; b.Base != time.Second || b.Max != 30*time.Second || b.Jitter != 0.2 {
		t.Fatalf("backoff defaults = %+v", b)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 30 * time.Second, Jitter: 0.2}
	for n, want := range []time.Duration{1, 2, 4, 8, 16, 30, 30} {
		want *= time.Second
		if got := b.delay(n, 0.5); got != want {
			t.Errorf("delay(%d, mid) = %v, want %v", n, got, want)
		}
	}
	if got := b.delay(0, 0); got != 800*time.Millisecond {
		t.Errorf("low jitter = %v", got)
	}
	if got := b.delay(10, 0.9999999); got < 35*time.Second || got > 36*time.Second {
		t.Errorf("high jitter at the cap = %v", got)
	}
	if got := b.delay(1000, 0.5); got != 30*time.Second {
		t.Errorf("large n = %v", got)
	}
	if nj := (Backoff{Jitter: -1}).withDefaults(); nj.Jitter != 0 {
		t.Errorf("negative jitter = %v", nj.Jitter)
	}
}

func TestEndpoints(t *testing.T) {
	eps, err := endpoints("http://a:1", []string{"ws://b:2/ws", "http://a:1/", "https://c"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ep := range eps {
		got = append(got, ep.url+" "+ep.ws)
	}
	want := []string{"http://a:1 ws://a:1/ws", "ws://b:2/ws ws://b:2/ws", "https://c wss://c/ws"}
	if len(got) != len(want) {
		t.Fatalf("endpoints = %v, want %v (a repeated endpoint once, URL first)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("endpoints = %v, want %v", got, want)
		}
	}
	if _, err := endpoints("", nil); err == nil {
		t.Error("no URL at all was accepted")
	}
	if _, err := endpoints("", []string{"http://a:1", "ftp://x"}); err == nil {
		t.Error("a bad URL among URLs was accepted")
	}
}

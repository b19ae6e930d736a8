package server_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
)

const hookSecret = "s3cret"

// hookRecorder is an httptest webhook that records every POST and answers with status(n)
// for the n-th call (1-based); block, when set, holds every call until it is closed.
type hookRecorder struct {
	srv    *httptest.Server
	status func(n int) int
	block  chan struct{}

	mu     sync.Mutex
	bodies [][]byte
	hdrs   []http.Header
	got    chan struct{}
}

func newHookRecorder(t *testing.T, status func(n int) int) *hookRecorder {
	h := &hookRecorder{status: status, got: make(chan struct{}, 64)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.hdrs = append(h.hdrs, r.Header.Clone())
		n := len(h.bodies)
		h.mu.Unlock()
		h.got <- struct{}{}
		if h.block != nil {
			select {
			case <-h.block:
			case <-r.Context().Done():
			}
		}
		code := http.StatusOK
		if h.status != nil {
			code = h.status(n)
		}
		w.WriteHeader(code)
	}))
	return h
}

// wait blocks until n calls arrived.
func (h *hookRecorder) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for h.count() < n {
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("webhook got %d calls, want %d", h.count(), n)
		}
	}
}

func (h *hookRecorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func (h *hookRecorder) call(i int) ([]byte, http.Header) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[i], h.hdrs[i]
}

func deliveryCfg(url string) func(*server.Config) {
	return func(c *server.Config) {
		c.DeliveryWebhook, c.DeliveryWebhookSecret = url, hookSecret
		c.DeliveryWebhookBackoff = 20 * time.Millisecond
	}
}

// goOffline closes member i's connection and waits until the server has dropped it (alice
// watches its presence).
func (w *mwWorld) goOffline(i int) {
	w.t.Helper()
	id := w.members[i].ID
	w.a.mustCall("presence/subscribe", map[string]any{"agentIds": []string{id}}, nil)
	w.peers[i].close()
	w.a.waitNote("presence/changed", func(raw json.RawMessage) bool {
		return field("agentId", id)(raw) && field("status", "offline")(raw)
	}, nil)
}

// TestDeliveryWebhookOffline: a message to an offline member is posted once, signed, with
// the conversation, the message and only the offline recipient.
func TestDeliveryWebhookOffline(t *testing.T) {
	h := newHookRecorder(t, nil)
	defer h.srv.Close()
	w := newMW(t, mwOptions{cfg: deliveryCfg(h.srv.URL)})
	w.goOffline(1)
	msg := w.send(w.a, "hello", nil)
	h.wait(t, 1)
	body, hdr := h.call(0)
	if got, want := hdr.Get(server.DeliverySignatureHeader), server.SignDelivery(hookSecret, body); !hmac.Equal([]byte(got), []byte(want)) {
		t.Fatalf("signature %q, want %q", got, want)
	}
	if got := hdr.Get(server.DeliveryEventHeader); got != "messages.offline" {
		t.Fatalf("event header %q", got)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	ids, _ := p["offlineRecipientAgentIds"].([]any)
	if p["conversationId"] != w.convID || p["messageId"] != string(msg.ID) || len(ids) != 1 || ids[0] != w.members[1].ID || len(p) != 3 {
		t.Fatalf("payload %s", body)
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.count(); n != 1 {
		t.Fatalf("%d calls after a success, want 1", n)
	}
}

// TestDeliveryWebhookRetries: 500 twice, then 200: three attempts, the same signed body.
func TestDeliveryWebhookRetries(t *testing.T) {
	h := newHookRecorder(t, func(n int) int {
		if n < 3 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	defer h.srv.Close()
	w := newMW(t, mwOptions{cfg: deliveryCfg(h.srv.URL)})
	w.goOffline(0)
	w.send(w.a, "hello", nil)
	h.wait(t, 3)
	first, _ := h.call(0)
	last, hdr := h.call(2)
	if string(first) != string(last) || hdr.Get(server.DeliverySignatureHeader) != server.SignDelivery(hookSecret, last) {
		t.Fatalf("retry changed the body or signature: %s vs %s", first, last)
	}
	time.Sleep(150 * time.Millisecond)
	if n := h.count(); n != 3 {
		t.Fatalf("%d calls, want 3 (2 failures, then success)", n)
	}
}

// TestDeliveryWebhookGivesUp: always 500: exactly 3 attempts.
func TestDeliveryWebhookGivesUp(t *testing.T) {
	h := newHookRecorder(t, func(int) int { return http.StatusBadGateway })
	defer h.srv.Close()
	w := newMW(t, mwOptions{cfg: deliveryCfg(h.srv.URL)})
	w.goOffline(0)
	w.send(w.a, "hello", nil)
	h.wait(t, 3)
	time.Sleep(200 * time.Millisecond)
	if n := h.count(); n != 3 {
		t.Fatalf("%d calls, want 3 attempts", n)
	}
}

// TestDeliveryWebhookAllOnline: no call when every recipient has a live connection.
func TestDeliveryWebhookAllOnline(t *testing.T) {
	h := newHookRecorder(t, nil)
	defer h.srv.Close()
	w := newMW(t, mwOptions{cfg: deliveryCfg(h.srv.URL)})
	w.send(w.a, "hello", nil)
	w.peers[0].waitNote("messages/received", nil, nil)
	time.Sleep(200 * time.Millisecond)
	if n := h.count(); n != 0 {
		t.Fatalf("%d webhook calls with everyone online", n)
	}
}

// TestDeliveryWebhookNeverBlocksSend: while the webhook hangs, messages/send returns at
// once, and Shutdown stops the pending deliveries promptly.
func TestDeliveryWebhookNeverBlocksSend(t *testing.T) {
	h := newHookRecorder(t, nil)
	h.block = make(chan struct{})
	defer h.srv.Close()
	defer close(h.block)
	w := newMW(t, mwOptions{cfg: func(c *server.Config) {
		deliveryCfg(h.srv.URL)(c)
		c.DeliveryWebhookTimeout = time.Minute
	}})
	w.goOffline(0)
	w.send(w.a, "first", nil)
	h.wait(t, 1) // the webhook now hangs
	start := time.Now()
	for i := 0; i < 10; i++ {
		w.send(w.a, "more", nil)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("10 sends took %s while the webhook hangs", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start = time.Now()
	if err := w.e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a hanging webhook: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
}

// TestDeliveryWebhookQueueFull: with a queue of 1 and a hanging webhook, extra events are
// dropped (not queued without bound) and sends still succeed.
func TestDeliveryWebhookQueueFull(t *testing.T) {
	h := newHookRecorder(t, nil)
	h.block = make(chan struct{})
	defer h.srv.Close()
	defer close(h.block)
	w := newMW(t, mwOptions{cfg: func(c *server.Config) {
		deliveryCfg(h.srv.URL)(c)
		c.DeliveryWebhookTimeout = time.Minute
		c.DeliveryWebhookQueue = 1
	}})
	w.goOffline(0)
	for i := 0; i < 20; i++ {
		w.send(w.a, "m", nil)
	}
	h.wait(t, 4) // the 4 workers each hang on one event
	time.Sleep(100 * time.Millisecond)
	if n := h.count(); n != 4 {
		t.Fatalf("%d calls in flight, want 4 (one per worker; the rest queued or dropped)", n)
	}
}

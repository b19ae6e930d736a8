package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
)

// contactHook is an httptest contact webhook: answer decides the reply to each query.
type contactHook struct {
	srv *httptest.Server

	mu      sync.Mutex
	answer  func(q server.ContactQuery) (int, string)
	queries []server.ContactQuery
}

func newContactHook(t *testing.T) *contactHook {
	h := &contactHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var q server.ContactQuery
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&q) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.queries = append(h.queries, q)
		answer := h.answer
		h.mu.Unlock()
		code, body := http.StatusOK, `{"inContact":false}`
		if answer != nil {
			code, body = answer(q)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *contactHook) set(f func(server.ContactQuery) (int, string)) {
	h.mu.Lock()
	h.answer = f
	h.mu.Unlock()
}

func (h *contactHook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queries)
}

func answers(code int, body string) func(server.ContactQuery) (int, string) {
	return func(server.ContactQuery) (int, string) { return code, body }
}

func contactCfg(url string, ttl time.Duration) func(*server.Config) {
	return func(c *server.Config) {
		c.ContactPolicy, c.ContactWebhook = true, url
		c.ContactWebhookTimeout, c.ContactWebhookCacheTTL = 300*time.Millisecond, ttl
	}
}

// TestContactWebhookTaskGate: task invitations follow the webhook's answer, which is
// asked with both owners; siblings and unclaimed agents are decided without a call.
func TestContactWebhookTaskGate(t *testing.T) {
	h := newContactHook(t)
	e := newEnv(t, contactCfg(h.srv.URL, 0))
	a := tkJoin(e, "req", tkOwner)
	stranger := tkJoin(e, "stranger", tkOtherOwner)
	sibling := tkJoin(e, "sibling", tkOwner)
	unclaimed := tkJoin(e, "unclaimed", "")

	tkRequest(a.p, server.DefaultAppID, []string{sibling.ID}, nil) // same owner: no call
	unclaimed.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{sibling.ID}}, -32005)
	if n := h.count(); n != 0 {
		t.Fatalf("%d webhook calls for a sibling / an unclaimed requester", n)
	}
	a.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{stranger.ID}}, -32005)
	h.mu.Lock()
	q := h.queries[0]
	h.mu.Unlock()
	if string(q.UserA) != tkOwner || string(q.UserB) != tkOtherOwner {
		t.Fatalf("query %+v, want userA=%s userB=%s", q, tkOwner, tkOtherOwner)
	}
	// The webhook, not the contacts table, decides: it now says yes.
	h.set(answers(http.StatusOK, `{"inContact":true}`))
	tkRequest(a.p, server.DefaultAppID, []string{stranger.ID}, nil)
	stranger.p.waitNote("task/created", nil, nil)
}

// TestContactWebhookFailsClosed: a 500, a malformed or incomplete answer and a timeout all
// count as not in contact.
func TestContactWebhookFailsClosed(t *testing.T) {
	h := newContactHook(t)
	e := newEnv(t, contactCfg(h.srv.URL, time.Minute))
	a := tkJoin(e, "req", tkOwner)
	stranger := tkJoin(e, "stranger", tkOtherOwner)
	invite := map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{stranger.ID}}
	for name, f := range map[string]func(server.ContactQuery) (int, string){
		"500":      answers(http.StatusInternalServerError, `{"inContact":true}`),
		"garbage":  answers(http.StatusOK, `yes`),
		"no field": answers(http.StatusOK, `{"contact":true}`),
		"not bool": answers(http.StatusOK, `{"inContact":"true"}`),
		"timeout": func(server.ContactQuery) (int, string) {
			time.Sleep(time.Second)
			return http.StatusOK, `{"inContact":true}`
		},
	} {
		h.set(f)
		before := h.count()
		a.p.wantError("task/request", invite, -32005)
		if h.count() == before {
			t.Fatalf("%s: the webhook was not asked (a failure must not be cached)", name)
		}
	}
}

// TestContactWebhookPresenceAndCache: presence visibility asks the webhook too, and a
// cached answer is reused within its TTL.
func TestContactWebhookPresenceAndCache(t *testing.T) {
	h := newContactHook(t)
	h.set(answers(http.StatusOK, `{"inContact":true}`))
	e := newEnv(t, contactCfg(h.srv.URL, time.Minute))
	a := tkJoin(e, "alice", tkOwner)
	stranger := tkJoin(e, "stranger", tkOtherOwner)
	a.p.mustCall("presence/subscribe", map[string]any{"agentIds": []string{stranger.ID}}, nil)
	stranger.p.mustCall("presence/subscribe", map[string]any{"agentIds": []string{a.ID}}, nil) // symmetric key
	tkRequest(a.p, server.DefaultAppID, []string{stranger.ID}, nil)
	if n := h.count(); n != 1 {
		t.Fatalf("%d webhook calls, want 1 (then cached)", n)
	}
}

// TestContactWebhookPresenceRefused: without the webhook's yes, a stranger's presence is
// refused (-32005) even though presence is checked without a call for siblings.
func TestContactWebhookPresenceRefused(t *testing.T) {
	h := newContactHook(t)
	e := newEnv(t, contactCfg(h.srv.URL, 0))
	a := tkJoin(e, "alice", tkOwner)
	sibling := tkJoin(e, "sibling", tkOwner)
	stranger := tkJoin(e, "stranger", tkOtherOwner)
	a.p.wantError("presence/subscribe", map[string]any{"agentIds": []string{stranger.ID}}, -32005)
	a.p.mustCall("presence/subscribe", map[string]any{"agentIds": []string{sibling.ID}}, nil)
	if n := h.count(); n != 1 {
		t.Fatalf("%d webhook calls, want 1 (the stranger only)", n)
	}
}

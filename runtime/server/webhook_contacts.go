package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Contact-policy webhook (REFERENCE 15.6): with Config.ContactPolicy on and
// Config.ContactWebhook set, areInContact(userA, userB) is asked of an HTTP service instead
// of the contacts table: POST {"userA","userB"} -> {"inContact": bool}. It fails closed:
// a transport error, a timeout, a non-2xx status or a body without a boolean inContact all
// mean "not in contact". The same user is in contact with itself without a call.

const contactCacheMax = 4096

// ContactQuery is the JSON body the contact webhook receives.
type ContactQuery struct {
	UserA protocol.UserID `json:"userA"`
	UserB protocol.UserID `json:"userB"`
}

// ContactAnswer is the JSON body the contact webhook answers.
type ContactAnswer struct {
	InContact *bool `json:"inContact"`
}

type contactWebhook struct {
	url     string
	timeout time.Duration
	ttl     time.Duration // 0: no cache
	client  *http.Client

	mu    sync.Mutex
	cache map[[2]protocol.UserID]contactEntry
}

type contactEntry struct {
	in      bool
	expires time.Time
}

// startContactWebhook installs the webhook when both the policy and the URL are set.
func (s *Server) startContactWebhook() {
	c := s.cfg
	if !c.ContactPolicy || c.ContactWebhook == "" {
		return
	}
	w := &contactWebhook{url: c.ContactWebhook, timeout: c.ContactWebhookTimeout, ttl: c.ContactWebhookCacheTTL,
		client: &http.Client{}, cache: map[[2]protocol.UserID]contactEntry{}}
	setDur(&w.timeout, 2*time.Second)
	if w.ttl < 0 {
		w.ttl = 0
	}
	s.contacts = w
}

// areInContact is the contact predicate of the contact policy and of presence visibility:
// the webhook when configured, otherwise the contacts table.
func (s *Server) areInContact(ctx context.Context, a, b protocol.UserID) (bool, error) {
	w := s.contacts
	if w == nil {
		return s.store.AreInContact(ctx, a, b)
	}
	if a == "" || b == "" {
		return false, nil
	}
	if a == b {
		return true, nil
	}
	key := [2]protocol.UserID{min(a, b), max(a, b)} // the relation is symmetric
	if in, ok := w.cached(key); ok {
		return in, nil
	}
	in, err := w.ask(ctx, a, b)
	if err != nil {
		s.log.Warn("contact webhook failed closed", "userA", a, "userB", b, "err", err)
		return false, nil
	}
	w.remember(key, in)
	return in, nil
}

func (w *contactWebhook) cached(key [2]protocol.UserID) (bool, bool) {
	if w.ttl == 0 {
		return false, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.cache[key]
	if !ok || time.Now().After(e.expires) {
		return false, false
	}
	return e.in, true
}

func (w *contactWebhook) remember(key [2]protocol.UserID, in bool) {
	if w.ttl == 0 {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.cache) >= contactCacheMax {
		for k, e := range w.cache {
			if now.After(e.expires) {
				delete(w.cache, k)
			}
		}
		if len(w.cache) >= contactCacheMax {
			clear(w.cache)
		}
	}
	w.cache[key] = contactEntry{in: in, expires: now.Add(w.ttl)}
}

// ask makes one bounded POST; any failure is an error (the caller fails closed).
func (w *contactWebhook) ask(ctx context.Context, a, b protocol.UserID) (bool, error) {
	body, err := json.Marshal(ContactQuery{UserA: a, UserB: b})
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	var ans ContactAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil {
		return false, fmt.Errorf("decode answer: %w", err)
	}
	if ans.InContact == nil {
		return false, fmt.Errorf("answer has no boolean inContact")
	}
	return *ans.InContact, nil
}

package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Offline-delivery webhook (REFERENCE 15.2 step 10): after messages/send has stored a
// message and fanned it out, the Forward recipients without a live connection are posted to
// Config.DeliveryWebhook, in the background, through a bounded queue.

const (
	// DeliverySignatureHeader carries "sha256=" + hex HMAC-SHA256 of the body with
	// Config.DeliveryWebhookSecret.
	DeliverySignatureHeader = "X-MoltZap-Signature"
	// DeliveryEventHeader names the event of a webhook POST.
	DeliveryEventHeader = "X-MoltZap-Event"
	// DeliveryEventOffline is the event of the offline-delivery webhook.
	DeliveryEventOffline = "messages.offline"

	deliveryAttempts = 3
	deliveryWorkers  = 4
)

// DeliveryPayload is the JSON body of the offline-delivery webhook.
type DeliveryPayload struct {
	ConversationID           protocol.ConversationID `json:"conversationId"`
	MessageID                protocol.MessageID      `json:"messageId"`
	OfflineRecipientAgentIDs []protocol.AgentID      `json:"offlineRecipientAgentIds"`
}

// SignDelivery returns the X-MoltZap-Signature value of body: "sha256=" + hex HMAC-SHA256.
func SignDelivery(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// deliveryWebhook posts offline recipients from a bounded queue drained by a few workers
// (tracked by Server.wg, stopped by Shutdown's cancel of Server.ctx).
type deliveryWebhook struct {
	url, secret string
	timeout     time.Duration
	backoff     time.Duration
	client      *http.Client
	queue       chan []byte
}

// startDeliveryWebhook starts the workers when Config.DeliveryWebhook is set.
func (s *Server) startDeliveryWebhook() {
	c := s.cfg
	if c.DeliveryWebhook == "" {
		return
	}
	d := &deliveryWebhook{url: c.DeliveryWebhook, secret: c.DeliveryWebhookSecret,
		timeout: c.DeliveryWebhookTimeout, backoff: c.DeliveryWebhookBackoff, client: &http.Client{}}
	setDur(&d.timeout, 5*time.Second)
	setDur(&d.backoff, time.Second)
	n := c.DeliveryWebhookQueue
	setInt(&n, 1024)
	d.queue = make(chan []byte, n)
	s.delivery = d
	for range deliveryWorkers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-s.ctx.Done():
					return
				case body := <-d.queue:
					s.postDelivery(body)
				}
			}
		}()
	}
}

// notifyOffline queues the webhook for the recipients (the sender excluded) that have no
// live connection. It never blocks: a full queue drops the event with a warning.
func (s *Server) notifyOffline(convID protocol.ConversationID, msgID protocol.MessageID, recipients []protocol.AgentID, sender protocol.AgentID) {
	d := s.delivery
	if d == nil || s.closing.Load() {
		return
	}
	offline := make([]protocol.AgentID, 0, len(recipients))
	seen := make(map[protocol.AgentID]bool, len(recipients))
	for _, id := range recipients {
		if id == sender || seen[id] {
			continue
		}
		seen[id] = true
		if !s.conns.online(id) {
			offline = append(offline, id)
		}
	}
	if len(offline) == 0 {
		return
	}
	body, err := json.Marshal(DeliveryPayload{ConversationID: convID, MessageID: msgID, OfflineRecipientAgentIDs: offline})
	if err != nil {
		s.log.Error("delivery webhook: encode payload", "message", msgID, "err", err)
		return
	}
	select {
	case d.queue <- body:
	default:
		s.log.Warn("delivery webhook queue full: event dropped", "conversation", convID, "message", msgID, "offline", len(offline))
	}
}

// postDelivery makes up to deliveryAttempts POSTs, backing off base x 2^n with jitter
// (50-150 %) between them; 2xx succeeds, 4xx other than 408/429 is not retried.
func (s *Server) postDelivery(body []byte) {
	d := s.delivery
	sig := SignDelivery(d.secret, body)
	for attempt := 1; ; attempt++ {
		retry, err := d.post(s.ctx, body, sig)
		if err == nil {
			return
		}
		if !retry || attempt >= deliveryAttempts || s.ctx.Err() != nil {
			s.log.Warn("delivery webhook failed", "attempts", attempt, "err", err)
			return
		}
		wait := d.backoff << (attempt - 1)
		wait = time.Duration(float64(wait) * (0.5 + rand.Float64()))
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// post makes one attempt; retry reports whether a failure is worth another.
func (d *deliveryWebhook) post(ctx context.Context, body []byte, sig string) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(DeliveryEventHeader, DeliveryEventOffline)
	req.Header.Set(DeliverySignatureHeader, sig)
	resp, err := d.client.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return false, nil
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return true, fmt.Errorf("status %d", code)
	default:
		return false, fmt.Errorf("status %d", code)
	}
}

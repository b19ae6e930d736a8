package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// SessionValidator resolves the sessionToken of a network/connect (REFERENCE 6.3). Validate
// returns the session's agent, or an error when the token is not valid; the server answers
// every error with -32000 "Authentication failed" (fail-closed).
type SessionValidator interface {
	Validate(ctx context.Context, token string) (Session, error)
}

// Session is what a validator says about a token.
type Session struct {
	AgentID     protocol.AgentID
	OwnerUserID protocol.UserID
	// AgentStatus, when set, is used as is; when empty the server reads the agent's status
	// from its store (an unknown agent is then refused).
	AgentStatus protocol.AgentStatus
}

// ErrInvalidSession is a token the validator refused.
var ErrInvalidSession = errors.New("session token not valid")

// WebhookValidator is the reference validator: POST {"token"} to URL with
// X-MoltZap-Event: sessions.validate; a 2xx {"valid": true, "agentId", "ownerUserId",
// "agentStatus"?} is a session, anything else (another status, a network error, a timeout,
// a body that is not that object, ids that are not UUIDs) is a refusal.
type WebhookValidator struct {
	URL     string
	Timeout time.Duration // per request; 5 s when zero
	Client  *http.Client  // http.DefaultClient when nil
}

// maxValidatorResponse bounds the body read from a validator.
const maxValidatorResponse = 64 << 10

// Validate asks the webhook about token.
func (v WebhookValidator) Validate(ctx context.Context, token string) (Session, error) {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"token": token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, bytes.NewReader(body))
	if err != nil {
		return Session{}, fmt.Errorf("session validator request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-MoltZap-Event", "sessions.validate")
	client := v.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Session{}, fmt.Errorf("session validator: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Session{}, fmt.Errorf("session validator answered %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxValidatorResponse))
	if err != nil {
		return Session{}, fmt.Errorf("session validator body: %w", err)
	}
	return parseValidatorAnswer(raw)
}

// parseValidatorAnswer reads a validator's 2xx body.
func parseValidatorAnswer(raw []byte) (Session, error) {
	var ans struct {
		Valid       *bool   `json:"valid"`
		AgentID     string  `json:"agentId"`
		OwnerUserID string  `json:"ownerUserId"`
		AgentStatus *string `json:"agentStatus"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Valid == nil {
		return Session{}, fmt.Errorf("session validator: body is not {\"valid\": ...}")
	}
	if !*ans.Valid {
		return Session{}, ErrInvalidSession
	}
	if uuid.Validate(ans.AgentID) != nil || uuid.Validate(ans.OwnerUserID) != nil {
		return Session{}, fmt.Errorf("session validator: agentId and ownerUserId must be UUIDs")
	}
	s := Session{AgentID: protocol.AgentID(ans.AgentID), OwnerUserID: protocol.UserID(ans.OwnerUserID)}
	if ans.AgentStatus != nil {
		if s.AgentStatus = protocol.AgentStatus(*ans.AgentStatus); !s.AgentStatus.Valid() {
			return Session{}, fmt.Errorf("session validator: unknown agentStatus %q", *ans.AgentStatus)
		}
	}
	return s, nil
}

// verifySessionToken resolves a sessionToken to the agent the connection becomes.
func (s *Server) verifySessionToken(ctx context.Context, token string) (store.Agent, error) {
	if s.cfg.SessionValidator == nil {
		return store.Agent{}, protocol.UnauthorizedError{Message: "Session tokens not supported by this server"}
	}
	sess, err := s.cfg.SessionValidator.Validate(ctx, token)
	if err != nil {
		s.log.Debug("session token refused", "err", err)
		return store.Agent{}, authFailed()
	}
	a, err := s.store.GetAgent(ctx, sess.AgentID)
	switch {
	case errors.Is(err, store.ErrNotFound) && sess.AgentStatus != "":
		a = store.Agent{ID: sess.AgentID} // an agent known only to the validator
	case errors.Is(err, store.ErrNotFound):
		return store.Agent{}, authFailed()
	case err != nil:
		return store.Agent{}, fmt.Errorf("look up session agent: %w", err)
	}
	a.OwnerUserID = sess.OwnerUserID
	if sess.AgentStatus != "" {
		a.Status = sess.AgentStatus
	}
	if a.Status == protocol.AgentStatusSuspended {
		return store.Agent{}, authFailed()
	}
	return a, nil
}

package observatory

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Authentication frames (Options.Auth).
const (
	// DefaultAuthTopic is the topic of the authentication frame when
	// Auth.Topic is empty.
	DefaultAuthTopic = "observatory"
	// EventAuth is the client event of the authentication frame
	// [topic, "auth", {"token": "..."}].
	EventAuth = "auth"
	// EventAuthenticated answers a successful authentication frame, with
	// payload {}.
	EventAuthenticated = "authenticated"
	// DefaultAuthTimeout is Auth.Timeout when it is not set.
	DefaultAuthTimeout = 10 * time.Second
)

// Auth makes a Server require authentication. A connection authenticates
// with an "Authorization: Bearer <token>" header on its upgrade request
// (ServeHTTP) or, since browsers cannot set headers on a WebSocket, with the
// frame [Topic, "auth", {"token": "<token>"}], answered
// [Topic, "authenticated", {}]. Until then every frame is answered with an
// error event of code UNAUTHORIZED on Topic (not on the frame's topic, so
// that it cannot be mistaken for an event of that topic), and a connection still not
// authenticated after Timeout is closed with 1008 "Authentication timeout".
type Auth struct {
	// Verify reports whether token is valid. It must be safe for concurrent
	// use; TokenVerifier builds one for a shared secret.
	Verify func(token string) bool
	// Topic is the topic of the authentication frame (DefaultAuthTopic when
	// empty).
	Topic string
	// Timeout is how long a connection may stay unauthenticated
	// (DefaultAuthTimeout when zero or negative).
	Timeout time.Duration
}

// TokenVerifier returns an Auth.Verify accepting exactly secret, compared in
// constant time. An empty secret accepts nothing.
func TokenVerifier(secret string) func(token string) bool {
	want := []byte(secret)
	return func(token string) bool {
		return len(want) > 0 && subtle.ConstantTimeCompare([]byte(token), want) == 1
	}
}

func (a *Auth) topic() string {
	if a.Topic == "" {
		return DefaultAuthTopic
	}
	return a.Topic
}

func (a *Auth) timeout() time.Duration {
	if a.Timeout <= 0 {
		return DefaultAuthTimeout
	}
	return a.Timeout
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// authPayload is the payload of the authentication frame.
type authPayload struct {
	Token string `json:"token"`
}

// authenticate handles a frame of a connection that has not authenticated:
// the authentication frame with a valid token authenticates it, anything
// else is answered UNAUTHORIZED.
func (s *Server) authenticate(c *conn, topic, event string, payload json.RawMessage) {
	a := s.opts.Auth
	if topic != a.topic() || event != EventAuth {
		s.sendError(c, a.topic(), CodeUnauthorized, "Authenticate first: send ["+a.topic()+`, "auth", {"token": ...}]`)
		return
	}
	var p authPayload
	if json.Unmarshal(payload, &p) != nil || !a.Verify(p.Token) {
		s.log.Warn("observatory: authentication refused", "conn", c.id)
		s.sendError(c, topic, CodeUnauthorized, "Invalid token")
		return
	}
	c.authed.Store(true)
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	s.log.Debug("observatory: authenticated", "conn", c.id)
	s.sendTo(c, topic, EventAuthenticated, struct{}{})
}

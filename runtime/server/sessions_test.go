package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
)

// validator is a session webhook: token "good" is agent, "stranger" an agent unknown to the
// store with a status, "slow" never answers in time, "broken" answers 500, "nonuuid" a
// malformed id; anything else is {"valid": false}.
func validator(t *testing.T, agentID func() string, owner string) *httptest.Server {
	t.Helper()
	v := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Token string }
		if r.Header.Get("X-MoltZap-Event") != "sessions.validate" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch body.Token {
		case "good":
			_ = json.NewEncoder(w).Encode(map[string]any{"valid": true, "agentId": agentID(), "ownerUserId": owner})
		case "stranger":
			_ = json.NewEncoder(w).Encode(map[string]any{"valid": true, "agentId": "0190a1b2-0000-7000-8000-00000000abcd",
				"ownerUserId": owner, "agentStatus": "active"})
		case "slow":
			time.Sleep(500 * time.Millisecond)
		case "broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "nonuuid":
			_ = json.NewEncoder(w).Encode(map[string]any{"valid": true, "agentId": "x", "ownerUserId": owner})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"valid": false})
		}
	}))
	t.Cleanup(v.Close)
	return v
}

func sessionParams(token string) map[string]any {
	return map[string]any{"sessionToken": token, "minProtocol": "0", "maxProtocol": "9999.9999.9999"}
}

// TestSessionTokens: network/connect with a sessionToken goes through the webhook validator
// (REFERENCE 6.3) and fails closed on every failure.
func TestSessionTokens(t *testing.T) {
	owner := "5b0e7c1a-3d2f-4e6a-9b8c-1f2e3d4c5b6a"
	var agentID string // alice, registered below
	v := validator(t, func() string { return agentID }, owner)
	e := newEnv(t, func(c *server.Config) {
		c.SessionValidator = server.WebhookValidator{URL: v.URL, Timeout: 200 * time.Millisecond}
	})
	a := e.register("alice")
	agentID = a.ID

	var hello struct{ AgentID string }
	e.dial().mustCall("network/connect", sessionParams("good"), &hello)
	if hello.AgentID != agentID {
		t.Fatalf("connected as %q, want %q", hello.AgentID, agentID)
	}
	e.dial().mustCall("network/connect", sessionParams("stranger"), nil) // known to the validator only
	for _, tok := range []string{"bad", "slow", "broken", "nonuuid"} {
		werr := e.dial().wantError("network/connect", sessionParams(tok), -32000)
		if !strings.Contains(werr.Message, "Authentication failed") {
			t.Fatalf("token %s: %q", tok, werr.Message)
		}
	}
}

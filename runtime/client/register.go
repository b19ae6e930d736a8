package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxHTTPBody bounds the answer read from a registration endpoint.
const maxHTTPBody = 1 << 20

// Registration is the answer of a registration endpoint: the agent's id and API key (shown
// once), and for the public endpoint the claim token and URL. The admin endpoint may leave
// ClaimToken and ClaimURL empty (REFERENCE 6.4).
type Registration struct {
	AgentID, APIKey, ClaimToken, ClaimURL string
}

// RegisterOptions are the optional parts of a registration.
type RegisterOptions struct {
	// Description of the agent (at most 500 characters).
	Description string
	// InviteCode is the server's registration secret; required by servers that have one
	// and always by the admin endpoint.
	InviteCode string
	// OwnerUserID, when set, registers through the secret-gated admin endpoint
	// (/api/v1/admin/register-agent), which pre-claims the agent for this user (or
	// rotates the key of an existing agent of that owner and name).
	OwnerUserID string
	// HTTPClient sends the request; default: a new http.Client (ctx bounds the request).
	HTTPClient *http.Client
}

// HTTPError is a non-2xx answer of a registration or claim endpoint, with the body's
// "error" text and optional "code" tag (for instance NAME_TAKEN, CLAIM_OWNER_MISMATCH).
type HTTPError struct {
	Status  int
	Message string
	Code    string
}

// Error formats the status, message and code.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("moltzap: HTTP %d", e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

// RegisterAgent registers an agent over HTTP (REFERENCE 6.4, 17.5): POST
// /api/v1/auth/register, or /api/v1/admin/register-agent when o.OwnerUserID is set.
// baseURL is the server's http(s)://host:port (a ws(s):// URL and a trailing /ws are
// accepted too). A refusal is returned as *HTTPError.
func RegisterAgent(ctx context.Context, baseURL, name string, o RegisterOptions) (Registration, error) {
	body := map[string]string{"name": name}
	if o.Description != "" {
		body["description"] = o.Description
	}
	if o.InviteCode != "" {
		body["inviteCode"] = o.InviteCode
	}
	path := "/api/v1/auth/register"
	if o.OwnerUserID != "" {
		path = "/api/v1/admin/register-agent"
		body["ownerUserId"] = o.OwnerUserID
	}
	var out struct {
		AgentID    string `json:"agentId"`
		APIKey     string `json:"apiKey"`
		ClaimToken string `json:"claimToken"`
		ClaimURL   string `json:"claimUrl"`
	}
	if err := postJSON(ctx, o.HTTPClient, baseURL, path, body, &out); err != nil {
		return Registration{}, fmt.Errorf("moltzap: register agent %q: %w", name, err)
	}
	if out.AgentID == "" || out.APIKey == "" {
		return Registration{}, fmt.Errorf("moltzap: register agent %q: answer lacks agentId or apiKey", name)
	}
	return Registration{AgentID: out.AgentID, APIKey: out.APIKey, ClaimToken: out.ClaimToken, ClaimURL: out.ClaimURL}, nil
}

// Claim binds an agent to its owner user (POST /api/v1/auth/claim). A repeat claim by the
// same owner succeeds; a refusal is returned as *HTTPError. inviteCode may be empty.
func Claim(ctx context.Context, baseURL, claimToken, ownerUserID, inviteCode string) error {
	body := map[string]string{"claimToken": claimToken, "ownerUserId": ownerUserID}
	if inviteCode != "" {
		body["inviteCode"] = inviteCode
	}
	if err := postJSON(ctx, nil, baseURL, "/api/v1/auth/claim", body, nil); err != nil {
		return fmt.Errorf("moltzap: claim agent: %w", err)
	}
	return nil
}

// postJSON posts body to baseURL+path and decodes a 2xx answer into out (when not nil).
func postJSON(ctx context.Context, hc *http.Client, baseURL, path string, body, out any) error {
	base, err := httpBase(baseURL)
	if err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	if err != nil {
		return fmt.Errorf("POST %s: read answer: %w", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		_ = json.Unmarshal(raw, &e)
		return &HTTPError{Status: resp.StatusCode, Message: e.Error, Code: e.Code}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("POST %s: decode answer: %w", path, err)
	}
	return nil
}

// httpBase turns a server URL into its http(s)://host[:port][/prefix] base.
func httpBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("server URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("server URL %q: scheme is not http, https, ws or wss", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server URL %q has no host", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ws")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

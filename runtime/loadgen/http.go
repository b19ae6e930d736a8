package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// credentials are a registered agent's id, API key and claim token.
type credentials struct {
	AgentID    string `json:"agentId"`
	APIKey     string `json:"apiKey"`
	ClaimToken string `json:"claimToken"`
}

// register creates an agent named name on the node whose HTTP base is base (POST
// /api/v1/auth/register).
func (r *runner) register(ctx context.Context, base, name string) (credentials, error) {
	var c credentials
	if err := r.post(ctx, base, "/api/v1/auth/register", map[string]string{"name": name}, &c, http.StatusCreated); err != nil {
		return credentials{}, fmt.Errorf("register %s: %w", name, err)
	}
	if c.APIKey == "" || c.ClaimToken == "" {
		return credentials{}, fmt.Errorf("register %s: answer without apiKey or claimToken", name)
	}
	return c, nil
}

// claim binds the agent to owner on the node whose HTTP base is base (POST
// /api/v1/auth/claim).
func (r *runner) claim(ctx context.Context, base string, c credentials, owner string) error {
	body := map[string]string{"claimToken": c.ClaimToken, "ownerUserId": owner}
	if err := r.post(ctx, base, "/api/v1/auth/claim", body, nil, http.StatusCreated, http.StatusOK); err != nil {
		return fmt.Errorf("claim %s: %w", c.AgentID, err)
	}
	return nil
}

// post sends body as JSON to base+path and decodes the answer into out (if set); any status
// but the wanted ones is an error carrying the server's error text.
func (r *runner) post(ctx context.Context, base, path string, body, out any, want ...int) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read answer: %w", path, err)
	}
	ok := false
	for _, w := range want {
		ok = ok || resp.StatusCode == w
	}
	if !ok {
		return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("POST %s: decode answer: %w", path, err)
		}
	}
	return nil
}

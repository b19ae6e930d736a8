package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
)

func TestRegisterEndpoint(t *testing.T) {
	e := newEnv(t)
	code, body := e.post("/api/v1/auth/register", map[string]any{"name": "alice-1", "description": "first"})
	if code != 201 || body["agentId"] == nil || !strings.HasPrefix(body["apiKey"].(string), "moltzap_agent_") ||
		!strings.HasPrefix(body["claimToken"].(string), "MZAP-") || !strings.HasSuffix(body["claimUrl"].(string), "/api/v1/auth/claim") {
		t.Fatalf("register: %d %v", code, body)
	}
	if code, body := e.post("/api/v1/auth/register", map[string]any{"name": "alice-1"}); code != 409 || body["code"] != "NAME_TAKEN" {
		t.Fatalf("duplicate: %d %v", code, body)
	}
	for _, bad := range []map[string]any{{"name": "Not A Name!"}, {"name": "ab"}, {"name": "x-", "extra": 1}, {}, {"name": "good-name", "description": strings.Repeat("d", 501)}} {
		if code, body := e.post("/api/v1/auth/register", bad); code != 400 || body["error"] != "Invalid parameters" {
			t.Fatalf("register %v: %d %v", bad, code, body)
		}
	}
	resp, err := http.Post(e.http.URL+"/api/v1/auth/register", "application/json", strings.NewReader("{nope"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("invalid JSON: %d", resp.StatusCode)
	}
}

func TestClaimEndpoint(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	p := e.connectAs(a)
	if p.HasOwnerProbe() {
		t.Fatal("fresh agent already has an owner")
	}
	if code, body := e.post("/api/v1/auth/claim", map[string]any{"claimToken": a.ClaimToken, "ownerUserId": ownerA}); code != 201 || body["ownerUserId"] != ownerA {
		t.Fatalf("first claim: %d %v", code, body)
	}
	// The live connection sees its new owner at once: contacts RPCs now work.
	p.mustCall("contacts/list", map[string]any{}, nil)
	if code, _ := e.post("/api/v1/auth/claim", map[string]any{"claimToken": a.ClaimToken, "ownerUserId": ownerA}); code != 200 {
		t.Fatalf("repeat claim: %d", code)
	}
	if code, body := e.post("/api/v1/auth/claim", map[string]any{"claimToken": a.ClaimToken, "ownerUserId": ownerB}); code != 403 || body["code"] != "CLAIM_OWNER_MISMATCH" {
		t.Fatalf("other owner: %d %v", code, body)
	}
	if code, body := e.post("/api/v1/auth/claim", map[string]any{"claimToken": "MZAP-NOPE", "ownerUserId": ownerA}); code != 401 || body["code"] != "CLAIM_NOT_FOUND" {
		t.Fatalf("unknown token: %d %v", code, body)
	}
	if code, _ := e.post("/api/v1/auth/claim", map[string]any{"claimToken": a.ClaimToken, "ownerUserId": "not-a-uuid"}); code != 400 {
		t.Fatalf("bad owner: %d", code)
	}
}

// HasOwnerProbe reports whether contacts RPCs pass the owner check.
func (p *peer) HasOwnerProbe() bool {
	_, werr := p.call("contacts/list", map[string]any{})
	return werr == nil
}

func TestAdminRegistration(t *testing.T) {
	plain := newEnv(t)
	if code, body := plain.post("/api/v1/admin/register-agent", map[string]any{"name": "x-agent", "inviteCode": "s"}); code != 404 || body["error"] != "Admin registration unavailable" {
		t.Fatalf("admin without secret: %d %v", code, body)
	}
	e := newEnv(t, func(c *server.Config) { c.AdminSecret = "s3cret" })
	if code, _ := e.post("/api/v1/auth/register", map[string]any{"name": "no-invite"}); code != 403 {
		t.Fatalf("register without invite code: %d", code)
	}
	if code, _ := e.post("/api/v1/auth/register", map[string]any{"name": "with-invite", "inviteCode": "s3cret"}); code != 201 {
		t.Fatalf("register with invite code: %d", code)
	}
	if code, _ := e.post("/api/v1/admin/register-agent", map[string]any{"name": "bot-1", "inviteCode": "wrong"}); code != 403 {
		t.Fatalf("admin with wrong code: %d", code)
	}
	if code, _ := e.post("/api/v1/admin/register-agent", map[string]any{"name": "bot-1", "inviteCode": "s3cret", "ownerUserId": "nope"}); code != 400 {
		t.Fatalf("admin with bad owner: %d", code)
	}
	code, first := e.post("/api/v1/admin/register-agent", map[string]any{"name": "bot-1", "inviteCode": "s3cret", "ownerUserId": ownerA})
	if code != 201 {
		t.Fatalf("admin create: %d %v", code, first)
	}
	code, rotated := e.post("/api/v1/admin/register-agent", map[string]any{"name": "bot-1", "inviteCode": "s3cret", "ownerUserId": ownerA})
	if code != 200 || rotated["agentId"] != first["agentId"] || rotated["apiKey"] == first["apiKey"] {
		t.Fatalf("admin rotate: %d %v", code, rotated)
	}
	// The old key stops working, the new one works.
	e.dial().wantError("network/connect", connectParams(first["apiKey"].(string), "0", "9999"), -32000)
	e.dial().mustCall("network/connect", connectParams(rotated["apiKey"].(string), "0", "9999"), nil)
	if code, body := e.post("/api/v1/admin/register-agent", map[string]any{"name": "bot-1", "inviteCode": "s3cret", "ownerUserId": ownerB}); code != 409 || body["code"] != "REGISTRATION_CONFLICT" {
		t.Fatalf("admin other owner: %d %v", code, body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	e.dial()
	// The server counts the socket once its upgrade returns, which may be just after the
	// client's handshake completes.
	var (
		code int
		body string
	)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		code, body = get(t, e.http.URL+"/health")
		if strings.Contains(body, `"connections":1`) || time.Now().After(deadline) {
			break
		}
	}
	if code != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"connections":1`) ||
		!strings.Contains(body, `"version":`) || !strings.Contains(body, `"commit":`) {
		t.Fatalf("health: %d %s", code, body)
	}
	a := e.register("alice")
	p := e.connectAs(a)
	p.mustCall("network/ping", map[string]any{}, nil)
	p.call("no/such", map[string]any{})
	code, body = get(t, e.http.URL+"/metrics")
	for _, want := range []string{"# TYPE moltzap_connections gauge", "moltzap_frames_in_total", `moltzap_rpc_duration_seconds_count{method="network/ping"} 1`,
		`moltzap_rpc_errors_total{code="-32601"} 1`, "moltzap_fanout_dropped_total", "moltzap_build_info{commit="} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics (%d) lack %q", code, want)
		}
	}
	if code, _ := get(t, e.http.URL+"/ws"); code != 400 {
		t.Fatalf("plain GET /ws: %d, want 400", code)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// TestRegisterAgent covers the public and admin registration paths and the claim.
func TestRegisterAgent(t *testing.T) {
	const secret = "s3cret"
	e := newEnv(t, func(c *server.Config) { c.AdminSecret = secret })
	ctx := ctxFor(t, 10*time.Second)

	// Public path: the invite code is required once the server has a secret.
	name := uniqueName("pub")
	_, err := client.RegisterAgent(ctx, e.url, name, client.RegisterOptions{})
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("register without invite code: err = %v", err)
	}
	reg, err := client.RegisterAgent(ctx, e.url, name, client.RegisterOptions{Description: "public", InviteCode: secret})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if !strings.HasPrefix(reg.APIKey, "moltzap_agent_") || !strings.HasPrefix(reg.ClaimToken, "MZAP-") || !strings.HasSuffix(reg.ClaimURL, "/api/v1/auth/claim") {
		t.Fatalf("registration = %+v", reg)
	}
	_, err = client.RegisterAgent(ctx, e.url, name, client.RegisterOptions{InviteCode: secret})
	if !errors.As(err, &he) || he.Status != http.StatusConflict || he.Code != "NAME_TAKEN" {
		t.Fatalf("duplicate name: err = %v", err)
	}
	owner := uuid.NewString()
	if err := client.Claim(ctx, e.url, reg.ClaimToken, owner, secret); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if err := client.Claim(ctx, e.url, reg.ClaimToken, owner, secret); err != nil {
		t.Fatalf("repeat claim: %v", err)
	}
	err = client.Claim(ctx, e.url, reg.ClaimToken, uuid.NewString(), secret)
	if !errors.As(err, &he) || he.Code != "CLAIM_OWNER_MISMATCH" {
		t.Fatalf("claim by another owner: err = %v", err)
	}

	// Admin path: pre-claimed for the owner; the base URL may be given as ws://.../ws.
	wsBase := "ws" + strings.TrimPrefix(e.url, "http") + "/ws"
	adm, err := client.RegisterAgent(ctx, wsBase, uniqueName("adm"), client.RegisterOptions{OwnerUserID: owner, InviteCode: secret})
	if err != nil {
		t.Fatalf("admin register: %v", err)
	}
	_, err = client.RegisterAgent(ctx, e.url, uniqueName("adm"), client.RegisterOptions{OwnerUserID: owner})
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("admin register without secret: err = %v", err)
	}

	// Both agents connect, and the admin one is claimed by the same owner: it sees the
	// public one in agents/list.
	e.dial(reg)
	c := e.dial(adm)
	list, err := c.AgentsList(ctx, protocol.AgentsListParams{})
	if err != nil {
		t.Fatalf("agents/list: %v", err)
	}
	ids := map[string]bool{}
	for _, a := range list.Agents {
		ids[string(a.ID)] = true
	}
	if !ids[reg.AgentID] || !ids[adm.AgentID] {
		t.Fatalf("agents/list = %+v, want both agents of the owner", list.Agents)
	}
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/moltzap/moltzap-go/internal/buildinfo"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// maxBodyBytes bounds registration request bodies.
const maxBodyBytes = 64 << 10

var agentNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,30}[a-z0-9]$`)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("GET /readyz", s.ready)
	if !s.cfg.SeparateMetrics {
		mux.Handle("GET /metrics", s.metrics.handler())
	}
	mux.HandleFunc("POST /api/v1/auth/register", s.register)
	mux.HandleFunc("POST /api/v1/auth/claim", s.claim)
	mux.HandleFunc("POST /api/v1/admin/register-agent", s.adminRegister)
	return mux
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	b := buildinfo.Read()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "connections": s.conns.count(), "version": b.Version, "commit": b.Commit})
}

// readyTimeout bounds each readiness check of /readyz.
const readyTimeout = 2 * time.Second

// ready answers /readyz: 200 {"status":"ready","checks":{...}} when the store (if it can be
// pinged) and every Config.ReadinessChecks pass, else 503 naming what failed.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down"})
		return
	}
	checks, ok := s.readiness(r.Context())
	if !ok {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

// readiness runs the readiness checks: "ok" or the error text per component.
func (s *Server) readiness(ctx context.Context) (map[string]string, bool) {
	checks := map[string]func(context.Context) error{}
	if p, ok := s.store.(store.Pinger); ok {
		checks["store"] = p.Ping
	}
	for name, f := range s.cfg.ReadinessChecks {
		checks[name] = f
	}
	out := make(map[string]string, len(checks))
	ok := true
	for name, f := range checks {
		cctx, cancel := context.WithTimeout(ctx, readyTimeout)
		err := f(cctx)
		cancel()
		if err != nil {
			out[name], ok = err.Error(), false
			continue
		}
		out[name] = "ok"
	}
	return out, ok
}

// httpError is the body of every failed HTTP call: {"error": text, "code"?: TAG}.
type httpError struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg, code string) {
	writeJSON(w, status, httpError{Error: msg, Code: code})
}

// decodeBody reads a closed JSON object into v; it answers 400 itself and reports false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		fail(w, http.StatusBadRequest, "Invalid JSON", "")
		return false
	}
	if !json.Valid(body) {
		fail(w, http.StatusBadRequest, "Invalid JSON", "")
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "Invalid parameters", "")
		return false
	}
	return true
}

type registerRequest struct {
	Name        protocol.AgentName `json:"name"`
	Description *string            `json:"description"`
	InviteCode  *string            `json:"inviteCode"`
	OwnerUserID *string            `json:"ownerUserId"` // admin endpoint only
}

type registerResponse struct {
	AgentID    protocol.AgentID `json:"agentId"`
	APIKey     string           `json:"apiKey"`
	ClaimToken string           `json:"claimToken"`
	ClaimURL   string           `json:"claimUrl"`
}

func (r registerRequest) valid() bool {
	if !agentNamePattern.MatchString(string(r.Name)) {
		return false
	}
	if r.Description != nil && len([]rune(*r.Description)) > 500 {
		return false
	}
	return r.InviteCode == nil || *r.InviteCode != ""
}

// inviteOK applies the invite-code gate: required and equal to the secret when one is set.
func (s *Server) inviteOK(code *string) bool {
	if s.cfg.AdminSecret == "" {
		return true
	}
	return code != nil && constantTimeEqual(*code, s.cfg.AdminSecret)
}

func claimURL(r *http.Request) string {
	proto := "http"
	if fp := r.Header.Get("X-Forwarded-Proto"); fp != "" {
		proto = strings.TrimSpace(strings.Split(fp, ",")[0])
	}
	return proto + "://" + r.Host + "/api/v1/auth/claim"
}

// register is POST /api/v1/auth/register: agent self-registration.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.OwnerUserID != nil || !req.valid() {
		fail(w, http.StatusBadRequest, "Invalid parameters", "")
		return
	}
	if !s.inviteOK(req.InviteCode) {
		fail(w, http.StatusForbidden, "Invalid or missing invite code", "")
		return
	}
	resp, err := s.createAgent(r, req, "")
	switch {
	case errors.Is(err, store.ErrConflict):
		fail(w, http.StatusConflict, "Name taken", "NAME_TAKEN")
	case err != nil:
		s.log.Error("register agent", "name", req.Name, "err", err)
		fail(w, http.StatusInternalServerError, "Registration failed", "")
	default:
		writeJSON(w, http.StatusCreated, resp)
	}
}

func (s *Server) createAgent(r *http.Request, req registerRequest, owner protocol.UserID) (registerResponse, error) {
	key, err := newAPIKey()
	if err != nil {
		return registerResponse{}, err
	}
	token, err := newClaimToken()
	if err != nil {
		return registerResponse{}, err
	}
	a := store.Agent{ID: newID[protocol.AgentID](), Name: req.Name, OwnerUserID: owner, Status: protocol.AgentStatusActive,
		APIKeyID: key.KeyID, APIKeySecretHash: key.SecretHash, ClaimToken: token, CreatedAt: now()}
	if req.Description != nil {
		a.Description = *req.Description
	}
	a, err = s.store.CreateAgent(r.Context(), a)
	if err != nil {
		return registerResponse{}, fmt.Errorf("create agent: %w", err)
	}
	return registerResponse{AgentID: a.ID, APIKey: key.Full, ClaimToken: token, ClaimURL: claimURL(r)}, nil
}

type claimResponse struct {
	AgentID     protocol.AgentID `json:"agentId"`
	OwnerUserID protocol.UserID  `json:"ownerUserId"`
}

type claimRequest struct {
	ClaimToken  string  `json:"claimToken"`
	OwnerUserID string  `json:"ownerUserId"`
	InviteCode  *string `json:"inviteCode"`
}

// claim is POST /api/v1/auth/claim: bind an agent to its owner user.
func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	var req claimRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.ClaimToken == "" || uuid.Validate(req.OwnerUserID) != nil || (req.InviteCode != nil && *req.InviteCode == "") {
		fail(w, http.StatusBadRequest, "Invalid parameters", "")
		return
	}
	if !s.inviteOK(req.InviteCode) {
		fail(w, http.StatusForbidden, "Invalid or missing invite code", "")
		return
	}
	owner := protocol.UserID(strings.ToLower(req.OwnerUserID))
	a, first, err := s.store.ClaimAgent(r.Context(), req.ClaimToken, owner, now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusUnauthorized, "Invalid claim token", "CLAIM_NOT_FOUND")
		return
	case errors.Is(err, store.ErrOwnerMismatch):
		fail(w, http.StatusForbidden, "Agent already claimed by a different owner", "CLAIM_OWNER_MISMATCH")
		return
	case err != nil:
		s.log.Error("claim agent", "err", err)
		fail(w, http.StatusInternalServerError, "Claim failed", "")
		return
	}
	for _, c := range s.conns.ofAgent(a.ID) {
		c.setOwner(a.OwnerUserID)
	}
	status := http.StatusOK
	if first {
		status = http.StatusCreated
	}
	writeJSON(w, status, claimResponse{AgentID: a.ID, OwnerUserID: a.OwnerUserID})
}

// adminRegister is POST /api/v1/admin/register-agent: register or rotate, optionally pre-claimed.
func (s *Server) adminRegister(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminSecret == "" {
		fail(w, http.StatusNotFound, "Admin registration unavailable", "")
		return
	}
	var req registerRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.OwnerUserID != nil && uuid.Validate(*req.OwnerUserID) != nil {
		fail(w, http.StatusBadRequest, "ownerUserId must be a UUID", "")
		return
	}
	if !req.valid() {
		fail(w, http.StatusBadRequest, "Invalid parameters", "")
		return
	}
	if req.InviteCode == nil || !s.inviteOK(req.InviteCode) {
		fail(w, http.StatusForbidden, "Invalid or missing invite code", "")
		return
	}
	var owner protocol.UserID // "" = unclaimed
	if req.OwnerUserID != nil {
		owner = protocol.UserID(strings.ToLower(*req.OwnerUserID))
	}
	resp, err := s.createAgent(r, req, owner)
	if err == nil {
		writeJSON(w, http.StatusCreated, resp)
		return
	}
	if !errors.Is(err, store.ErrConflict) {
		s.log.Error("admin register", "name", req.Name, "err", err)
		fail(w, http.StatusInternalServerError, "Registration failed", "")
		return
	}
	s.rotateKey(w, r, req.Name, owner)
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request, name protocol.AgentName, owner protocol.UserID) {
	key, err := newAPIKey()
	if err != nil {
		fail(w, http.StatusInternalServerError, "Registration failed", "")
		return
	}
	a, err := s.store.RotateAgentKey(r.Context(), name, owner, key.KeyID, key.SecretHash, now())
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusConflict, "Registration conflict", "REGISTRATION_CONFLICT")
	case err != nil:
		s.log.Error("rotate agent key", "name", name, "err", err)
		fail(w, http.StatusInternalServerError, "Registration failed", "")
	default:
		s.revokeSessions(a.ID)
		writeJSON(w, http.StatusOK, registerResponse{AgentID: a.ID, APIKey: key.Full, ClaimToken: a.ClaimToken, ClaimURL: claimURL(r)})
	}
}

// revokeSessions closes the sockets of an agent whose key was just rotated: they were
// authenticated with the old key (1008 "credentials revoked").
func (s *Server) revokeSessions(agentID protocol.AgentID) {
	for _, c := range s.conns.ofAgent(agentID) {
		s.log.Info("closing a socket authenticated with a rotated key", "conn", c.id, "agent", agentID)
		go func() { _ = c.ws.Close(transport.ClosePolicyViolation, "credentials revoked") }()
	}
}

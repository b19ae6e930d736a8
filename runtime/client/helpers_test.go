package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// fastBackoff keeps reconnect tests short.
var fastBackoff = client.Backoff{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond}

// env is a real server over a fresh SQLite store behind an httptest listener.
type env struct {
	t      *testing.T
	url    string // http://127.0.0.1:port
	owner  string // owner user of every agent registered with agent()
	secret string // the server's AdminSecret, if any
}

func newEnv(t *testing.T, mod ...func(*server.Config)) *env {
	t.Helper()
	var secret string
	srv := clienttest.NewServer(t, append(mod, func(c *server.Config) { secret = c.AdminSecret })...)
	return &env{t: t, url: srv.URL, owner: srv.Owner, secret: secret}
}

// uniqueName returns a valid, unique agent name.
func uniqueName(prefix string) string { return clienttest.UniqueName(prefix) }

// agent registers an agent over HTTP and claims it for the env's owner, so that every
// agent of a test passes the contact policy.
func (e *env) agent(prefix string) client.Registration {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reg, err := client.RegisterAgent(ctx, e.url, uniqueName(prefix), client.RegisterOptions{InviteCode: e.secret})
	if err != nil {
		e.t.Fatalf("register: %v", err)
	}
	if err := client.Claim(ctx, e.url, reg.ClaimToken, e.owner, e.secret); err != nil {
		e.t.Fatalf("claim: %v", err)
	}
	return reg
}

// options returns the options of a connection of reg to url.
func options(url string, reg client.Registration, mod ...func(*client.Options)) client.Options {
	o := client.Options{URL: url, AgentKey: reg.APIKey, Reconnect: fastBackoff}
	for _, m := range mod {
		m(&o)
	}
	return o
}

// dial connects reg directly to the env's server; the client is closed at cleanup.
func (e *env) dial(reg client.Registration, mod ...func(*client.Options)) *client.Client {
	e.t.Helper()
	return dialURL(e.t, e.url, reg, mod...)
}

func dialURL(t *testing.T, url string, reg client.Registration, mod ...func(*client.Options)) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, options(url, reg, mod...))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ctx returns a context bounded by d and cancelled at cleanup.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// waitUntil polls cond.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

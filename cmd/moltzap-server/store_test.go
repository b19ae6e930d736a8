package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/client/clustertest"
)

// TestDatabaseURLKeepsStateInPostgreSQL registers an agent on a server started with
// --database-url, restarts it, and finds the agent still there; /readyz reports the store.
func TestDatabaseURLKeepsStateInPostgreSQL(t *testing.T) {
	dir := t.TempDir()
	bin := buildServer(t, dir)
	dbURL := clustertest.FreshSchema(t)
	addr := freeAddr(t)
	run := func() func() {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, "--addr", addr, "--database-url", dbURL)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitHealthy(t, "http://"+addr+"/health")
		return func() { cancel(); _ = cmd.Wait() }
	}
	post := func(body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post("http://"+addr+"/api/v1/auth/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	stop := run()
	if code, out := post(`{"name":"pg-agent"}`); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, out)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if checks, _ := ready["checks"].(map[string]any); resp.StatusCode != http.StatusOK || checks["store"] != "ok" {
		t.Fatalf("/readyz: %d %v, want 200 with store ok", resp.StatusCode, ready)
	}
	stop()

	stop = run()
	defer stop()
	if code, out := post(`{"name":"pg-agent"}`); code != http.StatusConflict {
		t.Fatalf("registering the same name after a restart: %d %v, want 409 (the agent was kept)", code, out)
	}
}

func TestDatabaseURLMustBePostgres(t *testing.T) {
	cmd := newRootCmd()
	cmd.SetArgs([]string{"--database-url", "mysql://x", "--addr", "127.0.0.1:0"})
	cmd.SetOut(new(strings.Builder))
	cmd.SetErr(new(strings.Builder))
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--database-url") {
		t.Fatalf("err = %v, want one naming --database-url", err)
	}
}

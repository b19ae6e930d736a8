package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testDatabaseURL is the PostgreSQL the tests use (MOLTZAP_TEST_DATABASE_URL overrides it).
func testDatabaseURL() string {
	if u := os.Getenv("MOLTZAP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// freshSchema creates an empty schema and returns a --database-url selecting it; the
// schema is dropped at cleanup. PostgreSQL must be running: the test fails otherwise.
func freshSchema(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testDatabaseURL())
	if err != nil {
		t.Fatalf("PostgreSQL is required at %s (start it, e.g. with .ci/run, or set MOLTZAP_TEST_DATABASE_URL): %v", testDatabaseURL(), err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("t_server_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, testDatabaseURL()); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(testDatabaseURL(), "?") {
		sep = "&"
	}
	return testDatabaseURL() + sep + "search_path=" + schema
}

// TestDatabaseURLKeepsStateInPostgreSQL registers an agent on a server started with
// --database-url, restarts it, and finds the agent still there; /readyz reports the store.
func TestDatabaseURLKeepsStateInPostgreSQL(t *testing.T) {
	dir := t.TempDir()
	bin := buildServer(t, dir)
	dbURL := freshSchema(t)
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

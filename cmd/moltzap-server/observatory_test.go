package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// TestObservatoryEndpoints runs the built server three ways: without a token the
// Observatory is not served; with --observatory-token the page is served and the
// WebSocket takes the bearer token (401 for a wrong one); with only --admin-secret the
// view falls back to it.
func TestObservatoryEndpoints(t *testing.T) {
	dir := t.TempDir()
	bin := buildServer(t, dir)
	start := func(name string, args ...string) string {
		t.Helper()
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, append([]string{"--addr", addr, "--data", filepath.Join(dir, name)}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); _ = cmd.Wait() })
		waitHealthy(t, "http://"+addr+"/health")
		return addr
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	dialStatus := func(addr, token string) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		c, err := transport.DialHeader(ctx, "ws://"+addr+observatorySocketPath, h, transport.Config{PingInterval: -1})
		var st ws.StatusError
		switch {
		case err == nil:
			_ = c.Close(transport.CloseNormal, "")
			return http.StatusSwitchingProtocols
		case errors.As(err, &st):
			return int(st)
		}
		t.Fatalf("dial observatory: %v", err)
		return 0
	}

	off := start("off")
	if code, _ := get("http://" + off + observatoryPagePath); code != http.StatusNotFound {
		t.Errorf("page without a token: HTTP %d, want 404", code)
	}
	if code := dialStatus(off, "x"); code != http.StatusNotFound {
		t.Errorf("socket without a token: HTTP %d, want 404", code)
	}

	on := start("on", "--observatory-token", "obs-secret")
	if code, body := get("http://" + on + observatoryPagePath); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("page: HTTP %d, want 200 with the page", code)
	}
	if code := dialStatus(on, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong bearer token: HTTP %d, want 401", code)
	}
	if code := dialStatus(on, "obs-secret"); code != http.StatusSwitchingProtocols {
		t.Errorf("right bearer token: HTTP %d, want 101", code)
	}
	if code := dialStatus(on, ""); code != http.StatusSwitchingProtocols {
		t.Errorf("no header (browser, first-frame auth): HTTP %d, want 101", code)
	}

	admin := start("admin", "--admin-secret", "adm")
	if code := dialStatus(admin, "adm"); code != http.StatusSwitchingProtocols {
		t.Errorf("admin secret as the token: HTTP %d, want 101", code)
	}
}

func TestObservatoryMaxConnsMustBePositive(t *testing.T) {
	cmd := newRootCmd()
	cmd.SetArgs([]string{"--observatory-max-conns", "0", "--data", t.TempDir(), "--addr", "127.0.0.1:0"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "--observatory-max-conns") {
		t.Fatalf("--observatory-max-conns 0: err = %v, want one naming the flag", err)
	}
}

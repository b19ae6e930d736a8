package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondServerOnSameDataRefuses starts the built server, then a second one on the same
// --data: the second exits non-zero, naming the data directory's holder. It also checks
// --version on the built binary.
func TestSecondServerOnSameDataRefuses(t *testing.T) {
	dir := t.TempDir()
	bin := buildServer(t, dir)
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.Contains(string(out), "moltzap-server version") {
		t.Fatalf("--version: %v %q", err, out)
	}
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := exec.CommandContext(ctx, bin, "--addr", addr, "--data", data)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Process.Kill(); _ = first.Wait() }()
	waitHealthy(t, "http://"+addr+"/health")

	var stderr bytes.Buffer
	second := exec.CommandContext(ctx, bin, "--addr", freeAddr(t), "--data", data)
	second.Stderr = &stderr
	err := second.Run()
	if err == nil {
		t.Fatal("a second server on the same data directory started")
	}
	msg := stderr.String()
	if !strings.Contains(msg, "in use") || !strings.Contains(msg, "process "+strconv.Itoa(first.Process.Pid)) {
		t.Fatalf("the refusal does not name the holder: %q", msg)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s never became healthy", url)
}

// buildServer builds this command into dir and returns the binary's path.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "moltzap-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

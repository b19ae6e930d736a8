package main

import (
	"context"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/transport"
)

// TestHTTPTimeouts: a request body trickled slower than --http-read-timeout is cut off, while
// a WebSocket stays open past it (net/http clears its deadlines when the upgrade hijacks
// the connection).
func TestHTTPTimeouts(t *testing.T) {
	dir := t.TempDir()
	bin := buildServer(t, dir)
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "--addr", addr, "--data", filepath.Join(dir, "data"),
		"--http-read-timeout", "500ms", "--heartbeat", "200ms")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	waitHealthy(t, "http://"+addr+"/health")

	ws, err := transport.Dial(ctx, "ws://"+addr+"/ws", transport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	wsDone := make(chan transport.CloseInfo, 1)
	go func() { wsDone <- ws.Serve(ctx, func([]byte) {}) }()

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, "POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	cut := make(chan struct{})
	go func() {
		defer close(cut)
		for i := 0; i < 40; i++ { // one byte every 100 ms: 4 s if nobody stops us
			time.Sleep(100 * time.Millisecond)
			if _, err := nc.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.ReadAll(nc) // the server answers (or not) and closes
	select {
	case <-cut:
	case <-time.After(3 * time.Second):
		t.Fatal("a trickled request body was read for more than 3 s with --http-read-timeout 500ms")
	}
	select {
	case info := <-wsDone:
		t.Fatalf("the WebSocket closed (%v) though it answers pings", info)
	default:
	}
	_ = ws.Close(transport.CloseNormal, "done")
}

package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// listenerWorld is a Listener on loopback serving /ws directly (echoing every message)
// and an http.Server behind it answering everything else: /health with "ok", /ws (an
// upgrade the direct path left to it) through Upgrade, tagging its answer "via http".
type listenerWorld struct {
	l       *Listener
	addr    string
	served  chan UpgradeRequest // upgrades of the direct path
	viaHTTP chan string         // paths the HTTP server got
}

// path reports which side took the last request: "direct", "http" or "".
func (w *listenerWorld) path() string {
	select {
	case <-w.served:
		return "direct"
	case <-w.viaHTTP:
		return "http"
	case <-time.After(2 * time.Second):
		return ""
	}
}

func newListenerWorld(t *testing.T, admit func(UpgradeRequest) bool, headerTimeout time.Duration) *listenerWorld {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &listenerWorld{addr: ln.Addr().String(), served: make(chan UpgradeRequest, 16), viaHTTP: make(chan string, 16)}
	echo := func(c *Conn) {
		c.Start(func(m []byte) { _ = c.Send(append([]byte(nil), m...)) }, nil)
	}
	w.l, err = NewListener(ln, ListenerOptions{Path: "/ws", Admit: admit, HeaderTimeout: headerTimeout,
		Serve: func(c *Conn, r UpgradeRequest) { w.served <- r; echo(c) }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "ok") })
	mux.HandleFunc("/ws", func(rw http.ResponseWriter, r *http.Request) {
		w.viaHTTP <- r.URL.Path
		if c, err := Upgrade(rw, r, Config{}); err == nil {
			echo(c)
		}
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(w.l) }()
	t.Cleanup(func() { _ = hs.Close() })
	return w
}

const upgradeHead = "GET /ws HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://app.example\r\n\r\n"

// rawRequest writes head (and extra) on a fresh socket and reads the response head.
func rawRequest(t *testing.T, addr, head string, extra []byte) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(append([]byte(head), extra...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return nc, br, resp
}

// readTextFrame reads one small unmasked server frame from br.
func readTextFrame(br *bufio.Reader) ([]byte, error) {
	h, err := ws.ReadHeader(br)
	if err != nil {
		return nil, err
	}
	if h.Length > 1<<16 {
		return nil, fmt.Errorf("frame of %d bytes", h.Length)
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(br, p)
	return p, err
}

func TestListenerUpgradesDirectly(t *testing.T) {
	w := newListenerWorld(t, nil, 0)
	// The first frame comes in the same write as the head: it must not be lost.
	frame := ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("hello"))))
	nc, br, resp := rawRequest(t, w.addr, upgradeHead, frame)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	// RFC 6455 section 1.3's example key and accept value.
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	r := <-w.served
	if r.Host != "example" || r.Origin != "https://app.example" || r.RemoteAddr.String() != nc.LocalAddr().String() {
		t.Fatalf("request %+v", r)
	}
	if p, err := readTextFrame(br); err != nil || string(p) != "hello" {
		t.Fatalf("echo %q, %v", p, err)
	}
}

func TestListenerHandsOtherRequestsToTheHTTPServer(t *testing.T) {
	w := newListenerWorld(t, nil, 0)
	resp, err := http.Get("http://" + w.addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("/health: %d %q", resp.StatusCode, body)
	}

	// A head longer than the direct path reads is the HTTP server's too.
	big := strings.Replace(upgradeHead, "\r\n\r\n", "\r\nCookie: "+strings.Repeat("c", 6000)+"\r\n\r\n", 1)
	if _, _, resp := rawRequest(t, w.addr, big, nil); resp.StatusCode != http.StatusSwitchingProtocols || w.path() != "http" {
		t.Fatalf("long head: status %d, want 101 through the HTTP server", resp.StatusCode)
	}
	for name, head := range map[string]string{
		"version 8":         strings.Replace(upgradeHead, "Version: 13", "Version: 8", 1),
		"no Upgrade header": strings.Replace(upgradeHead, "Upgrade: websocket\r\n", "", 1),
	} {
		_, _, resp := rawRequest(t, w.addr, head, nil)
		if via := w.path(); resp.StatusCode != http.StatusBadRequest || via != "http" {
			t.Errorf("%s: status %d via %q, want the HTTP server's 400", name, resp.StatusCode, via)
		}
	}
	// An upgrade the direct path does not take (a repeated key) is the HTTP server's to
	// answer: net/http takes the first value, and upgrades.
	repeated := strings.Replace(upgradeHead, "\r\n\r\n", "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 1)
	nc, br, resp := rawRequest(t, w.addr, repeated, nil)
	if via := w.path(); resp.StatusCode != http.StatusSwitchingProtocols || via != "http" {
		t.Fatalf("repeated key: status %d via %q, want 101 through the HTTP server", resp.StatusCode, via)
	}
	// The socket upgraded through the HTTP server works like a direct one.
	if _, err := nc.Write(ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("again"))))); err != nil {
		t.Fatal(err)
	}
	if p, err := readTextFrame(br); err != nil || string(p) != "again" {
		t.Fatalf("echo through the HTTP server's upgrade: %q, %v", p, err)
	}
}

func TestListenerAdmitRefusalGoesToTheHTTPServer(t *testing.T) {
	w := newListenerWorld(t, func(r UpgradeRequest) bool { return r.Origin != "https://app.example" }, 0)
	_, _, resp := rawRequest(t, w.addr, upgradeHead, nil)
	if via := w.path(); resp.StatusCode != http.StatusSwitchingProtocols || via != "http" {
		t.Fatalf("refused by Admit: status %d via %q, want the HTTP server's answer", resp.StatusCode, via)
	}
	// Admitted: direct.
	_, _, resp = rawRequest(t, w.addr, strings.Replace(upgradeHead, "app.example", "other.example", 1), nil)
	if via := w.path(); resp.StatusCode != http.StatusSwitchingProtocols || via != "direct" {
		t.Fatalf("admitted: status %d via %q, want the direct path", resp.StatusCode, via)
	}
}

func TestListenerClosesASilentSocketAfterTheHeaderTimeout(t *testing.T) {
	w := newListenerWorld(t, nil, 100*time.Millisecond)
	nc, err := net.Dial("tcp", w.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read on a silent socket: %v, want EOF", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %s", d)
	}
}

func TestListenerCloseEndsAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewListener(ln, ListenerOptions{Path: "/ws", Serve: func(c *Conn, _ UpgradeRequest) { _ = c.Close(CloseNormal, "") }})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(); errc <- err }()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("the underlying listener still accepts")
	}
	if _, err := NewListener(ln, ListenerOptions{Path: "ws", Serve: func(*Conn, UpgradeRequest) {}}); err == nil {
		t.Fatal("a relative path was accepted")
	}
}

func TestParseUpgrade(t *testing.T) {
	ok := upgradeHead[:len(upgradeHead)-2] // parseUpgrade gets the head with its final CRLF
	for _, tc := range []struct {
		name string
		head string
		want bool
	}{
		{"plain", ok, true},
		{"lower-case names", strings.ToLower(ok[:4]) + ok[4:], false}, // "get" is not GET
		{"header names in any case", strings.NewReplacer("Sec-WebSocket-Key", "sec-websocket-key", "Upgrade:", "UPGRADE:").Replace(ok), true},
		{"query", strings.Replace(ok, "/ws ", "/ws?x=1 ", 1), true},
		{"other path", strings.Replace(ok, "/ws ", "/wss ", 1), false},
		{"HTTP/1.0", strings.Replace(ok, "HTTP/1.1", "HTTP/1.0", 1), false},
		{"POST", strings.Replace(ok, "GET", "POST", 1), false},
		{"no Host", strings.Replace(ok, "Host: example\r\n", "", 1), false},
		{"empty Host", strings.Replace(ok, "Host: example", "Host: ", 1), false},
		{"two Hosts", strings.Replace(ok, "Host: example\r\n", "Host: a\r\nHost: b\r\n", 1), false},
		{"body", strings.Replace(ok, "Host: example\r\n", "Host: example\r\nContent-Length: 0\r\n", 1), false},
		{"Connection without upgrade", strings.Replace(ok, "keep-alive, Upgrade", "keep-alive", 1), false},
		{"short key", strings.Replace(ok, "dGhlIHNhbXBsZSBub25jZQ==", "dGhl", 1), false},
		{"space in name", strings.Replace(ok, "Origin:", "Ori gin:", 1), false},
		{"control byte in value", strings.Replace(ok, "app.example", "app\x01example", 1), false},
	} {
		_, _, got := parseUpgrade([]byte(tc.head), "/ws")
		if got != tc.want {
			t.Errorf("%s: parseUpgrade = %v, want %v", tc.name, got, tc.want)
		}
	}
}

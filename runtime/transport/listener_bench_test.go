package transport

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
)

// BenchmarkUpgrade measures one WebSocket handshake, client and server in this process:
// dial, request head, 101, close. "listener" is the direct path of Listener; "net-http" is
// the same request through an http.Server and Upgrade (the baseline the Listener replaced
// in moltzap-server), in the same run.
func BenchmarkUpgrade(b *testing.B) {
	for _, mode := range []string{"net-http", "listener"} {
		b.Run(mode, func(b *testing.B) {
			addr := upgradeServer(b, mode == "listener")
			head := []byte(upgradeHead)
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := nc.Write(head); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReaderSize(nc, len(buf)), nil)
				if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
					b.Fatalf("response %v, %v", resp, err)
				}
				_ = nc.Close()
			}
		})
	}
}

// upgradeServer serves /ws on loopback, through a Listener (direct) or net/http alone, and
// closes every upgraded connection at once.
func upgradeServer(b *testing.B, direct bool) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := func(c *Conn) { _ = c.Close(CloseNormal, "") }
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if c, err := Upgrade(w, r, Config{}); err == nil {
			done(c)
		}
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := net.Listener(ln)
	if direct {
		l, err := NewListener(ln, ListenerOptions{Path: "/ws", Serve: func(c *Conn, _ UpgradeRequest) { done(c) }})
		if err != nil {
			b.Fatal(err)
		}
		served = l
	}
	go func() { _ = hs.Serve(served) }()
	b.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

package reliability_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// scaleConns is the number of idle authenticated connections of TestIdleConnectionsScale.
const scaleConns = 5000

// TestIdleConnectionsScale opens 5,000 authenticated connections that then stay idle and
// checks that the server's goroutines do not grow with them: below 100 plus a small
// constant per busy connection (none is busy here), read from its /metrics. The clients are
// raw sockets with no goroutine of their own.
func TestIdleConnectionsScale(t *testing.T) {
	srv := startServer(t, freeAddr(t), t.TempDir())
	agents := registerAgents(t, srv.url(), "scale", 50)
	before := goroutines(t, srv)

	conns := make([]net.Conn, 0, scaleConns)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for i := range scaleConns {
		c, err := connectRaw(srv.addr, agents[i%len(agents)].Key)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	if !waitFor(10*time.Second, func() bool { return srv.connections() >= scaleConns }) {
		t.Fatalf("server counts %d connections, want %d", srv.connections(), scaleConns)
	}
	time.Sleep(500 * time.Millisecond) // let every handshake's transient goroutines end
	after := goroutines(t, srv)
	t.Logf("server goroutines: %d before, %d with %d idle connections", before, after, scaleConns)
	if after >= 100 {
		t.Fatalf("%d server goroutines with %d idle connections, want fewer than 100 (no goroutine per idle connection)", after, scaleConns)
	}

	// The connections are alive: a ping on the last one is answered.
	last := conns[len(conns)-1]
	if err := rawCall(last, "p-1", "network/ping", nil); err != nil {
		t.Fatalf("ping on an idle connection: %v", err)
	}
}

// connectRaw opens a WebSocket to addr and authenticates it with key; it returns the raw
// connection, read by no one.
func connectRaw(addr, key string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/ws")
	if err != nil {
		return nil, err
	}
	if br != nil {
		ws.PutReader(br)
	}
	params := map[string]string{"agentKey": key, "minProtocol": "0", "maxProtocol": "9999.9999.9999"}
	if err := rawCall(c, "c-1", "network/connect", params); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// rawCall sends one request on c and reads frames until its response.
func rawCall(c net.Conn, id, method string, params any) error {
	req := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	b, _ := json.Marshal(req)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if err := wsutil.WriteClientText(c, b); err != nil {
		return fmt.Errorf("send %s: %w", method, err)
	}
	r := bufio.NewReader(c)
	rw := struct {
		io.Reader
		io.Writer
	}{r, c} // control frames are answered on c
	for {
		msg, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			return fmt.Errorf("read %s answer: %w", method, err)
		}
		if op != ws.OpText {
			continue
		}
		var res struct {
			ID    string          `json:"id"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(msg, &res) == nil && res.ID == id {
			if len(res.Error) > 0 {
				return fmt.Errorf("%s: %s", method, res.Error)
			}
			if r.Buffered() > 0 {
				return fmt.Errorf("%s: unexpected bytes after the answer", method)
			}
			return nil
		}
	}
}

var goroutinesLine = regexp.MustCompile(`(?m)^go_goroutines (\d+)`)

// goroutines reads go_goroutines from the server's /metrics.
func goroutines(t *testing.T, srv *srvProc) int {
	t.Helper()
	resp, err := http.Get(srv.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := goroutinesLine.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no go_goroutines in /metrics: %s", strings.SplitN(string(body), "\n", 5))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

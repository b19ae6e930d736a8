package observatory

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/transport"
)

// waitTimeout bounds every wait in the tests.
const waitTimeout = 5 * time.Second

// startServer serves obs on an httptest server and returns its ws:// URL.
// The observatory is shut down, then the HTTP server closed, at cleanup.
func startServer(t *testing.T, obs *Server) string {
	t.Helper()
	hs := httptest.NewServer(obs)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := obs.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// frame is one decoded [topic, event, payload] message.
type frame struct {
	Topic, Event string
	Payload      string // compacted JSON
}

// client is a dialed connection being served.
type client struct {
	conn *transport.Conn
	msgs chan []byte
	info chan transport.CloseInfo
}

// dial connects to url and serves the connection in the background.
func dial(t *testing.T, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, err := transport.Dial(ctx, url, transport.Config{PingInterval: -1})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return serveClient(t, conn)
}

// serveClient serves a dialed connection in the background.
func serveClient(t *testing.T, conn *transport.Conn) *client {
	t.Helper()
	c := &client{conn: conn, msgs: make(chan []byte, 256), info: make(chan transport.CloseInfo, 1)}
	go func() {
		c.info <- conn.Serve(context.Background(), func(msg []byte) { c.msgs <- msg })
	}()
	t.Cleanup(func() { _ = conn.Close(transport.CloseNormal, "") })
	return c
}

// send sends a raw text message.
func (c *client) send(t *testing.T, msg string) {
	t.Helper()
	if err := c.conn.Send([]byte(msg)); err != nil {
		t.Fatalf("Send %s: %v", msg, err)
	}
}

// next returns the next message received.
func (c *client) next(t *testing.T) frame {
	t.Helper()
	select {
	case msg := <-c.msgs:
		var parts []json.RawMessage
		if err := json.Unmarshal(msg, &parts); err != nil || len(parts) != 3 {
			t.Fatalf("message %s is not a 3-tuple (%v)", msg, err)
		}
		var f frame
		if json.Unmarshal(parts[0], &f.Topic) != nil || json.Unmarshal(parts[1], &f.Event) != nil {
			t.Fatalf("message %s: topic or event is not a string", msg)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, parts[2]); err != nil {
			t.Fatalf("message %s: payload: %v", msg, err)
		}
		f.Payload = buf.String()
		return f
	case info := <-c.info:
		t.Fatalf("connection ended while waiting for a message: %v", info)
	case <-time.After(waitTimeout):
		t.Fatalf("no message within %v", waitTimeout)
	}
	return frame{}
}

// expect checks that the next message is [topic, event, payload].
func (c *client) expect(t *testing.T, topic, event, payload string) {
	t.Helper()
	want := frame{topic, event, payload}
	if got := c.next(t); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// sync checks that nothing but the answer to a round trip sent now is
// pending: the server handles a socket's frames in order, so anything
// queued on the socket before arrives before the answer.
func (c *client) sync(t *testing.T) {
	t.Helper()
	c.send(t, `["sync:marker","unsubscribe",null]`)
	c.expect(t, "sync:marker", "unsubscribed", "{}")
}

// subscribe subscribes to topic with the given id and checks the
// confirmation.
func (c *client) subscribe(t *testing.T, topic, id string) {
	t.Helper()
	c.send(t, `["`+topic+`","subscribe",{"id":"`+id+`"}]`)
	c.expect(t, topic, "subscribed", `{"id":"`+id+`"}`)
}

// closed waits for the connection to end and returns how.
func (c *client) closed(t *testing.T) transport.CloseInfo {
	t.Helper()
	select {
	case info := <-c.info:
		return info
	case <-time.After(waitTimeout):
		t.Fatalf("connection not closed within %v", waitTimeout)
	}
	return transport.CloseInfo{}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

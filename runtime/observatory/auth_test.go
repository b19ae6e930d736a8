package observatory

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// authServer is conversationServer requiring the token "s3cret".
func authServer(timeout time.Duration) *Server {
	return conversationServer(Options{Auth: &Auth{Verify: TokenVerifier("s3cret"), Timeout: timeout}})
}

func TestUnauthenticatedFramesAreAnsweredUnauthorized(t *testing.T) {
	c := dial(t, startServer(t, authServer(0)))
	c.send(t, `["conversation:c1","subscribe",{"id":"x"}]`)
	f := c.next(t)
	if f.Topic != DefaultAuthTopic || f.Event != "error" || !containsCode(f.Payload, CodeUnauthorized) {
		t.Fatalf("subscribe before auth: got %+v, want an UNAUTHORIZED error on the auth topic", f)
	}
	c.send(t, `["observatory","auth",{"token":"wrong"}]`)
	if f := c.next(t); f.Topic != "observatory" || f.Event != "error" || !containsCode(f.Payload, CodeUnauthorized) {
		t.Fatalf("wrong token: got %+v, want UNAUTHORIZED", f)
	}
	c.send(t, `["observatory","auth",{"tok":"s3cret"}]`)
	if f := c.next(t); !containsCode(f.Payload, CodeUnauthorized) {
		t.Fatalf("malformed auth payload: got %+v, want UNAUTHORIZED", f)
	}
	c.send(t, `not json`)
	if f := c.next(t); f.Topic != TopicError || !containsCode(f.Payload, CodeInvalidPayload) {
		t.Fatalf("invalid frame before auth: got %+v, want INVALID_PAYLOAD", f)
	}
	c.send(t, `["observatory","auth",{"token":"s3cret"}]`)
	c.expect(t, "observatory", "authenticated", "{}")
	c.subscribe(t, "conversation:c1", "x")
	c.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)
}

func TestUnauthenticatedSocketClosedAfterTimeout(t *testing.T) {
	url := startServer(t, authServer(100*time.Millisecond))
	idle := dial(t, url)
	authed := dial(t, url)
	authed.send(t, `["observatory","auth",{"token":"s3cret"}]`)
	authed.expect(t, "observatory", "authenticated", "{}")
	info := idle.closed(t)
	if info.Code != transport.ClosePolicyViolation || info.Reason != ReasonAuthTimeout {
		t.Fatalf("unauthenticated socket closed with %v, want 1008 %q", info, ReasonAuthTimeout)
	}
	time.Sleep(150 * time.Millisecond)
	authed.sync(t) // the authenticated socket outlives the timeout
}

func TestBearerHeaderAuthenticatesTheUpgrade(t *testing.T) {
	url := startServer(t, authServer(0))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	_, err := transport.DialHeader(ctx, url, http.Header{"Authorization": {"Bearer nope"}}, transport.Config{PingInterval: -1})
	var status ws.StatusError
	if !errors.As(err, &status) || int(status) != http.StatusUnauthorized {
		t.Fatalf("wrong bearer token: err = %v, want HTTP 401", err)
	}

	conn, err := transport.DialHeader(ctx, url, http.Header{"Authorization": {"Bearer s3cret"}}, transport.Config{PingInterval: -1})
	if err != nil {
		t.Fatalf("DialHeader with the token: %v", err)
	}
	c := serveClient(t, conn)
	c.subscribe(t, "conversation:c9", "h")
	c.expect(t, "conversation:c9", "conversation:snapshot", `{"conversationId":"c9"}`)
}

func TestReadOnlyRefusesClientEvents(t *testing.T) {
	c := dial(t, startServer(t, conversationServer(Options{ReadOnly: true})))
	c.subscribe(t, "conversation:c1", "r")
	c.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)
	c.send(t, `["conversation:c1","echo",{"a":1}]`)
	if f := c.next(t); f.Topic != "conversation:c1" || f.Event != "error" || !containsCode(f.Payload, CodeReadOnly) {
		t.Fatalf("echo on a read-only server: got %+v, want a READ_ONLY error", f)
	}
	c.send(t, `["nosuch","poke",{}]`)
	if f := c.next(t); f.Topic != "nosuch" || !containsCode(f.Payload, CodeReadOnly) {
		t.Fatalf("event on an unknown topic: got %+v, want READ_ONLY", f)
	}
}

func TestTokenVerifier(t *testing.T) {
	v := TokenVerifier("abc")
	for token, want := range map[string]bool{"abc": true, "abd": false, "": false, "abcd": false} {
		if got := v(token); got != want {
			t.Errorf("Verify(%q) = %v, want %v", token, got, want)
		}
	}
	if TokenVerifier("")("") {
		t.Error("an empty secret accepted the empty token")
	}
}

// containsCode reports whether the compacted error payload has code.
func containsCode(payload, code string) bool {
	return strings.Contains(payload, `"code":"`+code+`"`)
}

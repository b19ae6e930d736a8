package client_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
)

// TestDialTriesTheURLsInOrder: Dial moves past URLs that cannot be reached, reports every
// URL when none can, and stops at a refused credential without trying the others.
func TestDialTriesTheURLsInOrder(t *testing.T) {
	e := newEnv(t)
	reg := e.agent("multi")
	ctx := ctxFor(t, 20*time.Second)
	dead1 := clienttest.NewProxy(t, "127.0.0.1:1")
	dead2 := clienttest.NewProxy(t, "127.0.0.1:1")

	c, err := client.Dial(ctx, client.Options{URLs: []string{dead1.URL(), e.url}, AgentKey: reg.APIKey})
	if err != nil {
		t.Fatalf("dial [dead, live]: %v", err)
	}
	if c.URL() != e.url || c.State() != client.Connected {
		t.Fatalf("connected to %s (%v), want %s", c.URL(), c.State(), e.url)
	}
	_ = c.Close()

	// URL comes first; a URL repeated in URLs is tried once.
	c, err = client.Dial(ctx, client.Options{URL: dead1.URL(), URLs: []string{dead1.URL(), e.url}, AgentKey: reg.APIKey})
	if err != nil || c.URL() != e.url {
		t.Fatalf("dial URL+URLs: %v", err)
	}
	_ = c.Close()

	_, err = client.Dial(ctx, client.Options{URLs: []string{dead1.URL(), dead2.URL()}, AgentKey: reg.APIKey})
	if err == nil || !strings.Contains(err.Error(), dead1.URL()) || !strings.Contains(err.Error(), dead2.URL()) {
		t.Fatalf("dial [dead, dead]: err = %v, want one naming both URLs", err)
	}

	// A refused key would be refused by every node: the second URL is not tried.
	f := newFakeServer(t)
	wrong := reg
	wrong.APIKey = fakeKey.APIKey
	_, err = client.Dial(ctx, client.Options{URLs: []string{e.url, f.url}, AgentKey: wrong.APIKey})
	if !errors.As(err, &protocol.UnauthorizedError{}) {
		t.Fatalf("wrong key: err = %v, want UnauthorizedError", err)
	}
	select {
	case <-f.conns:
		t.Fatal("the second URL was dialled after the first refused the key")
	case <-time.After(100 * time.Millisecond):
	}

	if _, err := client.Dial(ctx, client.Options{URLs: []string{e.url, "ftp://x"}, AgentKey: reg.APIKey}); err == nil {
		t.Fatal("a bad URL among URLs was accepted")
	}
}

// TestReconnectMovesToTheNextURL: two routes to one server (proxies). Losing the current
// one moves the client to the other; while both are down the attempts alternate between
// them, starting with the next one; subscriptions keep delivering on every connection.
func TestReconnectMovesToTheNextURL(t *testing.T) {
	e := newEnv(t)
	ra, rb := e.agent("mover"), e.agent("writer")
	ctx := ctxFor(t, 30*time.Second)
	px1, px2 := clienttest.NewProxy(t, e.url), clienttest.NewProxy(t, e.url)
	attempts := &attemptLog{}
	reconnects := make(chan string, 8)
	var self atomic.Pointer[client.Client]
	a := dialURL(t, "", ra, func(o *client.Options) {
		o.URL, o.URLs = px1.URL(), []string{px2.URL()}
		o.Logger = slog.New(attempts)
		o.OnReconnect = func(protocol.HelloOk) { reconnects <- self.Load().URL() }
	})
	self.Store(a)
	if a.URL() != px1.URL() {
		t.Fatalf("first connection to %s, want %s", a.URL(), px1.URL())
	}
	messages := make(chan string, 8)
	client.On(a, func(n protocol.MessagesReceivedNotification) {
		messages <- n.Message.Parts[0].(protocol.TextPart).Text
	})
	b := e.dial(rb)
	task, err := b.TaskRequest(ctx, protocol.TaskRequestParams{
		AppID: protocol.DefaultAppID, InvitedAgentIDs: []protocol.AgentID{protocol.AgentID(ra.AgentID)},
		InitialConversation: &protocol.InitialConversation{Name: ptr("moves")},
	})
	if err != nil {
		t.Fatalf("task/request: %v", err)
	}
	roundTrip := func(s string) {
		t.Helper()
		if _, err := b.MessagesSend(ctx, protocol.MessagesSendParams{TaskID: task.Task.ID, ConversationID: task.Conversation.ID, Parts: text(s)}); err != nil {
			t.Fatalf("send %q: %v", s, err)
		}
		if got := recv(t, messages, "message "+s); got != s {
			t.Fatalf("received %q, want %q", got, s)
		}
	}
	roundTrip("on 1")

	px1.Pause(true)
	px1.Cut()
	if u := recv(t, reconnects, "reconnect to the second URL"); u != px2.URL() {
		t.Fatalf("reconnected to %s, want %s", u, px2.URL())
	}
	roundTrip("on 2")

	// Both routes down: the attempts alternate, the next URL (1) first.
	px2.Pause(true)
	px2.Cut()
	waitUntil(t, "four failed attempts", func() bool { return len(attempts.urls()) >= 4 })
	px1.Pause(false)
	if u := recv(t, reconnects, "reconnect to the first URL"); u != px1.URL() {
		t.Fatalf("reconnected to %s, want %s", u, px1.URL())
	}
	urls := attempts.urls()
	for i, u := range urls {
		want := px1.URL()
		if i%2 == 1 {
			want = px2.URL()
		}
		if u != want {
			t.Fatalf("failed attempt %d went to %s, want %s (attempts %v)", i+1, u, want, urls)
		}
	}
	roundTrip("on 1 again")
}

// attemptLog is a slog handler recording the URL of every failed reconnect attempt.
type attemptLog struct {
	mu   sync.Mutex
	list []string
}

func (l *attemptLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *attemptLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "moltzap client: reconnect attempt failed" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "url" {
			l.mu.Lock()
			l.list = append(l.list, a.Value.String())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *attemptLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *attemptLog) WithGroup(string) slog.Handler      { return l }

func (l *attemptLog) urls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.list...)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

const testAdminSecret = "s3cret-admin"

// restartable is a real server on a fixed address and data directory that can be stopped
// and started again.
type restartable struct {
	t    *testing.T
	dir  string
	addr string
	stop func()
}

func newRestartable(t *testing.T) *restartable {
	r := &restartable{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(func() {
		if r.stop != nil {
			r.stop()
		}
	})
	return r
}

func (r *restartable) url() string { return "http://" + r.addr }

func (r *restartable) start() {
	r.t.Helper()
	st, err := sqlite.Open(context.Background(), r.dir)
	if err != nil {
		r.t.Fatalf("open store: %v", err)
	}
	srv, err := server.New(server.Config{AdminSecret: testAdminSecret}, st)
	if err != nil {
		r.t.Fatalf("new server: %v", err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		if i == 50 {
			r.t.Fatalf("listen on %s: %v", r.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.addr = ln.Addr().String()
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(ln) }()
	r.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
		_ = st.Close()
		r.stop = nil
	}
}

// newListenE2E registers alice and bob (with the admin secret as invite code) and opens a
// conversation between them.
func newListenE2E(t *testing.T) (e *e2e, srv *restartable, task, conv string) {
	t.Helper()
	bin := buildBinary(t)
	srv = newRestartable(t)
	e = &e2e{t: t, bin: bin, server: srv.url(), cfg: t.TempDir()}
	e.ok("--profile", "alice", "register", "alice", "--invite-code", testAdminSecret)
	e.ok("--profile", "bob", "register", "bob", "--invite-code", testAdminSecret)
	var req protocol.TaskRequestResult
	e.okJSON(&req, "--profile", "alice", "task", "request", "--invite", "bob", "--conversation-name", "gap")
	return e, srv, string(req.Task.ID), string(req.Conversation.ID)
}

// sendAs sends texts in order as the profile's agent, through its own connection.
func (e *e2e) sendAs(name, task, conv string, texts ...string) {
	e.t.Helper()
	p, err := profile.Open(e.cfg).Get(name)
	if err != nil {
		e.t.Fatalf("profile %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{URL: e.server, AgentKey: p.APIKey, Reconnect: client.Backoff{Disabled: true}})
	if err != nil {
		e.t.Fatalf("dial as %s: %v", name, err)
	}
	defer c.Close()
	for _, text := range texts {
		if _, err := c.MessagesSend(ctx, protocol.MessagesSendParams{
			TaskID: protocol.TaskID(task), ConversationID: protocol.ConversationID(conv),
			Parts: protocol.MessageParts{protocol.TextPart{Text: text}},
		}); err != nil {
			e.t.Fatalf("send %q: %v", text, err)
		}
	}
}

// listenMessages decodes listen --json output into the messages it printed.
func listenMessages(t *testing.T, out string) []protocol.Message {
	t.Helper()
	var msgs []protocol.Message
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var note struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal([]byte(line), &note); err != nil {
			t.Fatalf("listen line %q: %v", line, err)
		}
		if note.Method != protocol.NotificationMessagesReceived {
			continue
		}
		n, err := protocol.Decode[protocol.MessagesReceivedNotification](note.Params)
		if err != nil {
			t.Fatalf("listen line %q: %v", line, err)
		}
		msgs = append(msgs, n.Message)
	}
	return msgs
}

func waitFor(t *testing.T, what string, p *proc, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\nstdout: %s\nstderr: %s", what, p.stdout.String(), p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestListenCatchUpAcrossRestart: the server is restarted on the same data directory while
// listen runs, and messages are sent while listen is disconnected; listen prints every
// message exactly once, in seq order, and says how many it recovered.
func TestListenCatchUpAcrossRestart(t *testing.T) {
	e, srv, task, conv := newListenE2E(t)
	listen := e.start("--profile", "bob", "--json", "listen")
	listen.waitStderr("listening as bob")

	e.sendAs("alice", task, conv, "one", "two")
	waitFor(t, "two messages", listen, func() bool { return len(listenMessages(t, listen.stdout.String())) == 2 })

	srv.stop()
	listen.waitStderr("connection lost")
	// Stay down past listen's first reconnect attempt (after about 1 s), so that its next
	// attempt comes well after the restart and the sends below happen while it is away.
	time.Sleep(1500 * time.Millisecond)
	srv.start()
	e.sendAs("alice", task, conv, "three", "four", "five")
	if strings.Contains(listen.stderr.String(), "reconnected") {
		t.Fatalf("listen reconnected before the messages were sent; the test needs them missed\nstderr: %s", listen.stderr.String())
	}

	listen.waitStderr("moltzap: reconnected; recovered 3 messages in " + conv)
	e.sendAs("alice", task, conv, "six")
	waitFor(t, "six messages", listen, func() bool { return len(listenMessages(t, listen.stdout.String())) >= 6 })
	time.Sleep(300 * time.Millisecond) // let a duplicate show up
	if code := listen.interrupt(); code != 0 {
		t.Fatalf("listen after SIGINT: exit %d\nstderr: %s", code, listen.stderr.String())
	}

	msgs := listenMessages(t, listen.stdout.String())
	var texts, seqs []string
	for _, m := range msgs {
		texts = append(texts, partsText(m.Parts))
		seqs = append(seqs, string(m.Seq))
	}
	if got, want := strings.Join(texts, ","), "one,two,three,four,five,six"; got != want {
		t.Fatalf("listen printed %s, want %s (seqs %v)\nstderr: %s", got, want, seqs, listen.stderr.String())
	}
	if got := strings.Join(seqs, ","); got != "1,2,3,4,5,6" {
		t.Errorf("seqs %s, want 1..6", got)
	}
}

// TestListenStopsWhenKeyRotated: rotating the agent's key closes listen's socket; the
// reconnect is refused and listen exits 1 naming the authentication failure.
func TestListenStopsWhenKeyRotated(t *testing.T) {
	e, _, _, _ := newListenE2E(t)
	listen := e.start("--profile", "bob", "listen")
	listen.waitStderr("listening as bob")

	body, _ := json.Marshal(map[string]any{"name": "bob", "inviteCode": testAdminSecret})
	resp, err := http.Post(e.server+"/api/v1/admin/register-agent", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("admin register: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin register (rotate): HTTP %d", resp.StatusCode)
	}
	start := time.Now()
	select {
	case <-listen.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("listen still running 10 s after the key was rotated\nstderr: %s", listen.stderr.String())
	}
	if listen.code != 1 {
		t.Fatalf("listen exit %d, want 1\nstderr: %s", listen.code, listen.stderr.String())
	}
	stderr := listen.stderr.String()
	for _, want := range []string{"credentials revoked", "server error -32000", "Authentication failed", "register again with --force"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("listen stderr lacks %q:\n%s", want, stderr)
		}
	}
	t.Logf("listen exited %v after the rotation", time.Since(start).Round(time.Millisecond))
}

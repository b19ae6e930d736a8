package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/clustertest"
)

// TestListenFailsOverToAnotherNode runs two moltzap-server processes on one PostgreSQL
// schema. listen (given both nodes, as a comma list and as repeated --server) connects to
// node 1; node 1 is killed with SIGKILL; messages are written on node 2 while listen is
// away and after it is back; one-shot commands given both nodes skip the dead one. listen
// reconnects to node 2 and prints every message exactly once, in seq order.
func TestListenFailsOverToAnotherNode(t *testing.T) {
	bin := buildBinary(t)
	cl := clustertest.Start(t, 2)
	node1, node2 := cl.Nodes[0], cl.Nodes[1]
	e := &e2e{t: t, bin: bin, server: node1.URL + "," + node2.URL, cfg: t.TempDir()}
	e.ok("--profile", "alice", "register", "alice")
	e.ok("--profile", "bob", "register", "bob")
	var req protocol.TaskRequestResult
	e.okJSON(&req, "--profile", "alice", "task", "request", "--invite", "bob", "--conversation-name", "failover")
	task, conv := string(req.Task.ID), string(req.Conversation.ID)

	listen := e.start("--profile", "bob", "--server", node1.URL, "--server", node2.URL, "--json", "listen")
	listen.waitStderr("listening as bob")
	if !strings.Contains(listen.stderr.String(), " on "+node1.URL+";") {
		t.Fatalf("listen did not start on the first server %s:\n%s", node1.URL, listen.stderr.String())
	}
	for _, text := range []string{"one", "two"} {
		e.ok("--profile", "alice", "send", "--task", task, "--conversation", conv, text)
	}
	waitFor(t, "two messages", listen, func() bool { return len(listenMessages(t, listen.stdout.String())) == 2 })

	node1.Kill()
	listen.waitStderr("connection lost")
	// Written on node 2 right away, well before listen's first reconnect attempt (after
	// about 1 s): listen recovers them from node 2's history.
	sendOn(t, e, node2.URL, "alice", task, conv, "three", "four", "five")
	listen.waitStderr("moltzap: reconnected to " + node2.URL)
	listen.waitStderr("moltzap: reconnected; recovered 3 messages in " + conv)

	// A one-shot command given [node 1, node 2] tries the dead node first, then node 2.
	out := e.ok("--profile", "alice", "send", "--task", task, "--conversation", conv, "six")
	if !strings.Contains(out, "Sent message") {
		t.Fatalf("send after the failover: %s", out)
	}
	waitFor(t, "six messages", listen, func() bool { return len(listenMessages(t, listen.stdout.String())) >= 6 })
	time.Sleep(300 * time.Millisecond) // let a duplicate show up
	if code := listen.interrupt(); code != 0 {
		t.Fatalf("listen after SIGINT: exit %d\nstderr: %s", code, listen.stderr.String())
	}
	var texts, seqs []string
	for _, m := range listenMessages(t, listen.stdout.String()) {
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

// sendOn sends texts as the profile's agent over a connection to url.
func sendOn(t *testing.T, e *e2e, url, name, task, conv string, texts ...string) {
	t.Helper()
	p, err := profile.Open(e.cfg).Get(name)
	if err != nil {
		t.Fatalf("profile %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{URL: url, AgentKey: p.APIKey, Reconnect: client.Backoff{Disabled: true}})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", url, name, err)
	}
	defer c.Close()
	for _, text := range texts {
		if _, err := c.MessagesSend(ctx, protocol.MessagesSendParams{
			TaskID: protocol.TaskID(task), ConversationID: protocol.ConversationID(conv),
			Parts: protocol.MessageParts{protocol.TextPart{Text: text}},
		}); err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
	}
}

// Package reliability_test drives a real moltzap-server process (built into a temporary
// directory by TestMain) through crashes, restarts, reconnect storms and slow consumers.
package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// serverBin is the moltzap-server binary built by TestMain.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "moltzap-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability: temp dir:", err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "moltzap-server")
	build := exec.Command("go", "build", "-o", serverBin, "github.com/moltzap/moltzap-go/cmd/moltzap-server")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: go build ./cmd/moltzap-server: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// srvProc is one moltzap-server process on a data directory.
type srvProc struct {
	t     *testing.T
	addr  string
	data  string
	extra []string
	cmd   *exec.Cmd
	out   *lockedBuffer
	done  chan struct{}
	err   error // Wait's result, set before done closes
}

// baseFlags lift the per-agent rate limits out of the way of the load.
var baseFlags = []string{"--messages-per-minute", "100000000", "--requests-per-minute", "100000000", "--log-format", "json"}

// startServer starts the binary on addr and data and waits until /health answers.
func startServer(t *testing.T, addr, data string, extra ...string) *srvProc {
	t.Helper()
	args := append([]string{"--addr", addr, "--data", data}, baseFlags...)
	args = append(args, extra...)
	p := &srvProc{t: t, addr: addr, data: data, extra: extra, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(serverBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("server exited during startup: %v\n%s", p.err, p.out.String())
		default:
		}
		if code, _ := httpGet(p.url() + "/health"); code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 60 s\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *srvProc) url() string { return "http://" + p.addr }
func (p *srvProc) pid() int    { return p.cmd.Process.Pid }

// restart starts a new process on the same address and data directory.
func (p *srvProc) restart() *srvProc {
	p.t.Helper()
	return startServer(p.t, p.addr, p.data, p.extra...)
}

// kill9 sends SIGKILL and waits for the process to be gone (the kernel then releases the
// data directory's flock and the listening port).
func (p *srvProc) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill -9: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Fatal("server still running 15 s after kill -9")
	}
}

// sigterm asks for a graceful shutdown and requires a clean exit (status 0).
func (p *srvProc) sigterm() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Fatalf("server exit after SIGTERM: %v\n%s", p.err, tail(p.out.String(), 4000))
		}
	case <-time.After(30 * time.Second):
		p.t.Fatal("server still running 30 s after SIGTERM")
	}
}

// procStatusKB reads a "VmRSS"-style field (kB) of /proc/<pid>/status.
func (p *srvProc) procStatusKB(field string) int64 {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		p.t.Fatalf("read /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				p.t.Fatalf("parse %s %q: %v", field, line, err)
			}
			return n
		}
	}
	p.t.Fatalf("no %s in /proc/%d/status", field, p.pid())
	return 0
}

// connections returns the "connections" count of /health.
func (p *srvProc) connections() int {
	p.t.Helper()
	code, body := httpGet(p.url() + "/health")
	if code != http.StatusOK {
		p.t.Fatalf("/health: %d %s", code, body)
	}
	var h struct {
		Connections int `json:"connections"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		p.t.Fatalf("/health body %q: %v", body, err)
	}
	return h.Connections
}

func httpGet(url string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// agent is a registered agent.
type agent struct{ ID, Key string }

// registerAgents registers n agents named prefix-<i> over HTTP, with a few workers.
func registerAgents(t *testing.T, base, prefix string, n int) []agent {
	t.Helper()
	out := make([]agent, n)
	errs := make(chan error, n)
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				reg, err := client.RegisterAgent(ctx, base, fmt.Sprintf("%s-%d", prefix, i), client.RegisterOptions{})
				cancel()
				if err != nil {
					errs <- fmt.Errorf("register %s-%d: %w", prefix, i, err)
					continue
				}
				out[i] = agent{ID: reg.AgentID, Key: reg.APIKey}
			}
		}()
	}
	for i := 0; i < n; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// dialAgent connects a as a runtime/client; reconnecting is on unless noReconnect.
func dialAgent(t *testing.T, base string, a agent, noReconnect bool, mod func(*client.Options)) *client.Client {
	t.Helper()
	opts := client.Options{URL: base, AgentKey: a.Key, CallTimeout: 15 * time.Second,
		Reconnect: client.Backoff{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond, Disabled: noReconnect}}
	if mod != nil {
		mod(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", a.ID, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// group is a task with one conversation.
type group struct {
	Task protocol.TaskID
	Conv protocol.ConversationID
}

// newGroup has c request a task inviting members, with an initial conversation of all.
func newGroup(t *testing.T, c *client.Client, name string, members []agent) group {
	t.Helper()
	ids := make([]protocol.AgentID, 0, len(members))
	for _, m := range members {
		ids = append(ids, protocol.AgentID(m.ID))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.TaskRequest(ctx, protocol.TaskRequestParams{AppID: server.DefaultAppID, InvitedAgentIDs: ids,
		InitialConversation: &protocol.InitialConversation{Name: &name}})
	if err != nil {
		t.Fatalf("task/request %s: %v", name, err)
	}
	if res.Conversation == nil {
		t.Fatalf("task/request %s: no conversation", name)
	}
	return group{Task: res.Task.ID, Conv: res.Conversation.ID}
}

func text(s string) protocol.MessageParts { return protocol.MessageParts{protocol.TextPart{Text: s}} }

// history returns the whole history of g's conversation, page by page.
func history(t *testing.T, c *client.Client, g group) []protocol.Message {
	t.Helper()
	var all []protocol.Message
	zero := protocol.Seq("0") // with sinceSeq the oldest rows come first; without it, the newest
	since := &zero
	limit := protocol.PageLimit(200)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := c.MessagesList(ctx, protocol.MessagesListParams{TaskID: g.Task, ConversationID: g.Conv, SinceSeq: since, Limit: &limit})
		cancel()
		if err != nil {
			t.Fatalf("messages/list: %v", err)
		}
		all = append(all, res.Messages...)
		if !res.HasMore {
			return all
		}
		if len(res.Messages) == 0 {
			t.Fatal("messages/list: hasMore with an empty page")
		}
		s := res.Messages[len(res.Messages)-1].Seq
		since = &s
	}
}

func seqNum(t *testing.T, s protocol.Seq) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		t.Fatalf("seq %q: %v", s, err)
	}
	return n
}

// checkHistory asserts that hist is in strictly increasing seq order without a repeated
// id, and that every acknowledged message is in it exactly once with its acknowledged seq
// and text. It returns the number of history entries not in acked.
func checkHistory(t *testing.T, label string, hist []protocol.Message, acked map[protocol.MessageID]ackedMsg) int {
	t.Helper()
	seen := make(map[protocol.MessageID]int, len(hist))
	var last uint64
	for i, m := range hist {
		n := seqNum(t, m.Seq)
		if i > 0 && n <= last {
			t.Errorf("%s: history out of seq order at %d: seq %d after %d", label, i, n, last)
		}
		last = n
		seen[m.ID]++
		if seen[m.ID] == 2 {
			t.Errorf("%s: message %s appears more than once in history", label, m.ID)
		}
		if a, ok := acked[m.ID]; ok {
			if a.Seq != m.Seq {
				t.Errorf("%s: message %s acknowledged with seq %s, history has %s", label, m.ID, a.Seq, m.Seq)
			}
			if got := partText(m); got != a.Text {
				t.Errorf("%s: message %s acknowledged with text %q, history has %q", label, m.ID, a.Text, got)
			}
		}
	}
	missing := 0
	for id, a := range acked {
		if seen[id] == 0 {
			missing++
			if missing <= 10 {
				t.Errorf("%s: acknowledged message %s (seq %s, %q) is missing from history", label, id, a.Seq, a.Text)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged messages missing from history", label, missing, len(acked))
	}
	extra := 0
	for id := range seen {
		if _, ok := acked[id]; !ok {
			extra++
		}
	}
	return extra
}

type ackedMsg struct {
	Seq  protocol.Seq
	Text string
}

func partText(m protocol.Message) string {
	if len(m.Parts) == 1 {
		if tp, ok := m.Parts[0].(protocol.TextPart); ok {
			return tp.Text
		}
	}
	return fmt.Sprintf("%v", m.Parts)
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

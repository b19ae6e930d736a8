package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// End-to-end tests: the moltzap binary, built into a temporary directory, runs as a
// subprocess against a real server (SQLite store, HTTP on 127.0.0.1) started in the test.

// e2e is one server plus the built binary and a configuration directory.
type e2e struct {
	t      *testing.T
	bin    string
	server string
	cfg    string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	bin := buildBinary(t)
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	// The contact policy is on so that claiming matters: invitations then need both agents
	// claimed by the same owner (or owners in contact).
	srv, err := server.New(server.Config{ContactPolicy: true}, st)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler()) // listens on 127.0.0.1
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		_ = st.Close()
	})
	return &e2e{t: t, bin: bin, server: hs.URL, cfg: t.TempDir()}
}

// buildBinary builds the moltzap binary into a temporary directory (skipped with -short).
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "moltzap")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// command builds an invocation with --server, the test's configuration directory and no
// MOLTZAP_SERVER / MOLTZAP_PROFILE from the outer environment.
func (e *e2e) command(ctx context.Context, args ...string) *exec.Cmd {
	if !slices.Contains(args, "--server") { // a test naming its own servers gets only those
		args = append([]string{"--server", e.server}, args...)
	}
	cmd := exec.CommandContext(ctx, e.bin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MOLTZAP_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, profile.EnvConfigDir+"="+e.cfg)
	return cmd
}

// run runs the binary to completion.
func (e *e2e) run(args ...string) cliResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("run %v: %v", args, err)
	}
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// ok runs the binary and fails the test unless it exits 0.
func (e *e2e) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("moltzap %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fail runs the binary and checks its exit code and that stderr holds every want.
func (e *e2e) fail(code int, args []string, want ...string) cliResult {
	e.t.Helper()
	r := e.run(args...)
	if r.code != code {
		e.t.Fatalf("moltzap %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			e.t.Errorf("moltzap %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
	return r
}

// okJSON runs the binary with --json and decodes its output into v.
func (e *e2e) okJSON(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("moltzap --json %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// lockedBuffer collects a background process's output.
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

// proc is a background invocation.
type proc struct {
	t              *testing.T
	args           []string
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	code           int
}

func (e *e2e) start(args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	p := &proc{t: e.t, args: args, cmd: e.command(ctx, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		cancel()
		e.t.Fatalf("start %v: %v", args, err)
	}
	go func() {
		defer cancel()
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitStderr waits until the process's stderr contains s.
func (p *proc) waitStderr(s string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.done:
			p.t.Fatalf("moltzap %v exited (%d) before printing %q\nstdout: %s\nstderr: %s", p.args, p.code, s, p.stdout.String(), p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("moltzap %v: no %q on stderr after 15 s\nstderr: %s", p.args, s, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(20 * time.Second):
		p.t.Fatalf("moltzap %v still running after 20 s\nstdout: %s\nstderr: %s", p.args, p.stdout.String(), p.stderr.String())
		return -1
	}
}

// interrupt sends SIGINT (the way Ctrl-C ends listen and tm run) and returns the exit code.
func (p *proc) interrupt() int {
	p.t.Helper()
	if runtime.GOOS == "windows" {
		p.t.Skip("no SIGINT on windows")
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatalf("signal: %v", err)
	}
	return p.wait()
}

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func TestEndToEnd(t *testing.T) {
	e := newE2E(t)
	const owner = "5b0e7c1a-3d2f-4e6a-9b8c-1f2e3d4c5b6a"

	// --- the README quick start ---------------------------------------------------------
	out := e.ok("--profile", "alice", "register", "alice")
	if !strings.Contains(out, "Registered agent alice") || !strings.Contains(out, "claim --owner") {
		t.Errorf("register output:\n%s", out)
	}
	var bob struct {
		AgentID string `json:"agentId"`
		Name    string `json:"name"`
		Profile string `json:"profile"`
	}
	e.okJSON(&bob, "--profile", "bob", "register", "bob", "--description", "Bob the builder")
	if !uuidRe.MatchString(bob.AgentID) || bob.Name != "bob" || bob.Profile != "bob" {
		t.Errorf("register --json: %+v", bob)
	}
	st := profile.Open(e.cfg)
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(st.Path()); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("profiles.json: %v, mode %v; want 0600", err, fi.Mode())
		}
	}
	stored, err := st.Get("bob")
	if err != nil || stored.AgentID != bob.AgentID || stored.Server != e.server || !strings.HasPrefix(stored.APIKey, "moltzap_agent_") || stored.ClaimToken == "" {
		t.Fatalf("stored profile bob: %+v, %v", stored, err)
	}
	e.fail(1, []string{"--profile", "alice", "register", "alice"}, `profile "alice" already exists`, "--force")
	e.fail(1, []string{"--profile", "carol", "register", "alice"}, "HTTP 409 Name taken (NAME_TAKEN)")

	// Unclaimed agents may not invite each other.
	e.fail(1, []string{"--profile", "alice", "task", "request", "--invite", "bob"}, "server error -32005 NotInContacts")

	e.ok("--profile", "alice", "claim", "--owner", owner)
	e.ok("--profile", "bob", "claim", "--owner", owner)
	if p, _ := st.Get("alice"); p.OwnerUserID != owner {
		t.Errorf("claim did not record the owner in the profile: %+v", p)
	}

	var req protocol.TaskRequestResult
	e.okJSON(&req, "--profile", "alice", "task", "request", "--invite", "bob", "--conversation-name", "hello")
	if req.Conversation == nil || req.Task.Status != protocol.TaskStatusActive || optString(req.Conversation.Name) != "hello" {
		t.Fatalf("task request: %+v", req)
	}
	conv, task := string(req.Conversation.ID), string(req.Task.ID)
	// The text form prints the conversation id too.
	out = e.ok("--profile", "alice", "task", "request", "--invite", "bob", "--conversation-name", "second")
	if !regexp.MustCompile(`(?m)^conversation\s+` + uuidRe.String() + `$`).MatchString(out) {
		t.Errorf("task request output lacks the conversation id:\n%s", out)
	}

	listen := e.start("--profile", "bob", "listen", "--json", "--count", "1", "--timeout", "20s")
	listen.waitStderr("listening as bob")
	out = e.ok("--profile", "alice", "send", "--conversation", conv, "hi bob")
	if !strings.Contains(out, "Sent message") {
		t.Errorf("send output: %s", out)
	}
	if code := listen.wait(); code != 0 {
		t.Fatalf("listen exit %d\nstderr: %s", code, listen.stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(listen.stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("listen --count 1 printed %d lines:\n%s", len(lines), listen.stdout.String())
	}
	var note struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &note); err != nil || note.Method != protocol.NotificationMessagesReceived {
		t.Fatalf("listen line %q: %v", lines[0], err)
	}
	got, err := protocol.Decode[protocol.MessagesReceivedNotification](note.Params)
	if err != nil || partsText(got.Message.Parts) != "hi bob" || string(got.Message.ConversationID) != conv || string(got.TaskID) != task {
		t.Fatalf("received %+v, %v", got, err)
	}

	// The readable form, with the sender's name; the task id given explicitly.
	listen = e.start("--profile", "bob", "listen", "--count", "1", "--timeout", "20s")
	listen.waitStderr("listening as bob")
	e.ok("--profile", "alice", "send", "--conversation", conv, "--task", task, "second", "message")
	if code := listen.wait(); code != 0 {
		t.Fatalf("listen exit %d\nstderr: %s", code, listen.stderr.String())
	}
	if !regexp.MustCompile(`^\[\d\d:\d\d:\d\d\] messages/received ` + conv + ` alice: second message\n$`).MatchString(listen.stdout.String()) {
		t.Errorf("listen line: %q", listen.stdout.String())
	}
	// --timeout without --count ends normally; with an unmet --count it fails.
	e.ok("--profile", "bob", "listen", "--timeout", "200ms")
	e.fail(1, []string{"--profile", "bob", "listen", "--count", "1", "--timeout", "200ms"}, "timed out after 200ms with 0 of 1 notifications")

	// --- whoami, ping, agents ------------------------------------------------------------
	out = e.ok("--profile", "bob", "whoami")
	for _, want := range []string{"bob", bob.AgentID, owner, "active", e.server, "Bob the builder"} {
		if !strings.Contains(out, want) {
			t.Errorf("whoami lacks %q:\n%s", want, out)
		}
	}
	var who struct {
		AgentID string             `json:"agentId"`
		Agent   protocol.AgentCard `json:"agent"`
	}
	e.okJSON(&who, "--profile", "bob", "whoami")
	if who.AgentID != bob.AgentID || who.Agent.OwnerUserID == nil || string(*who.Agent.OwnerUserID) != owner {
		t.Errorf("whoami --json: %+v", who)
	}
	out = e.ok("--profile", "alice", "ping")
	if !regexp.MustCompile(`^pong from ` + regexp.QuoteMeta(e.server) + `: round trip \S+, server time \d{4}-\d\d-\d\dT`).MatchString(out) {
		t.Errorf("ping: %q", out)
	}
	var ping struct {
		RTT        float64 `json:"rttMs"`
		ServerTime string  `json:"serverTime"`
	}
	e.okJSON(&ping, "--profile", "alice", "ping")
	if ping.RTT <= 0 || ping.ServerTime == "" {
		t.Errorf("ping --json: %+v", ping)
	}
	out = e.ok("--profile", "alice", "agents")
	if !regexp.MustCompile(`(?m)^NAME\s+ID\s+STATUS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^bob\s+`+bob.AgentID+`\s+active$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^alice\s+`).MatchString(out) {
		t.Errorf("agents:\n%s", out)
	}

	// --- task list, conv list, history ----------------------------------------------------
	out = e.ok("--profile", "bob", "task", "list")
	if !regexp.MustCompile(`(?m)^` + task + `\s+active\s+` + defaultAppID + `\s+alice\s+`).MatchString(out) {
		t.Errorf("task list:\n%s", out)
	}
	var tasks struct{ Tasks []protocol.Task }
	e.okJSON(&tasks, "--profile", "alice", "task", "list")
	if len(tasks.Tasks) != 2 {
		t.Errorf("task list --json: %d tasks, want 2", len(tasks.Tasks))
	}
	out = e.ok("--profile", "bob", "conv", "list")
	if !regexp.MustCompile(`(?m)^` + conv + `\s+` + task + `\s+hello\s+dm\s+(alice,bob|bob,alice)\s+-$`).MatchString(out) {
		t.Errorf("conv list:\n%s", out)
	}
	var convs struct {
		Conversations []protocol.TaskConversationListItem `json:"conversations"`
	}
	e.okJSON(&convs, "--profile", "bob", "conv", "list")
	if len(convs.Conversations) != 2 {
		t.Errorf("conv list --json: %d conversations, want 2", len(convs.Conversations))
	}
	out = e.ok("--profile", "bob", "history", conv)
	if !regexp.MustCompile(`^#1 \[[^]]+\] alice: hi bob\n#2 \[[^]]+\] alice: second message\n$`).MatchString(out) {
		t.Errorf("history:\n%s", out)
	}
	var hist protocol.MessagesListResult
	e.okJSON(&hist, "--profile", "alice", "history", conv, "--task", task, "--since", "1", "--limit", "5")
	if len(hist.Messages) != 1 || hist.Messages[0].Seq != "2" || hist.HasMore {
		t.Errorf("history --since 1: %+v", hist)
	}
	r := e.run("--profile", "alice", "history", conv, "--limit", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "second message") || !strings.Contains(r.stderr, "older messages exist") {
		t.Errorf("history --limit 1: %+v", r)
	}

	// --- errors ---------------------------------------------------------------------------
	e.fail(2, []string{"--profile", "alice", "task", "request", "--bogus"}, "unknown flag: --bogus", "Run 'moltzap task request --help' for usage.")
	e.fail(2, []string{"--profile", "alice", "history"}, "missing argument CONV_ID")
	e.fail(2, []string{"--profile", "alice", "send", "--conversation", conv}, "missing argument TEXT")
	r = e.fail(1, []string{"--profile", "alice", "task", "close", task},
		"moltzap: server error -32001 Forbidden: Caller is not the registered task manager for this task")
	if strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("a server error is one line:\n%s", r.stderr)
	}
	e.fail(1, []string{"--profile", "alice", "task", "request", "--invite", "nobody-here"}, `no agent named "nobody-here"`)
	e.fail(1, []string{"--profile", "alice", "send", "--conversation", someUUID, "x"}, "pass its task with --task")
	e.fail(1, []string{"--profile", "alice", "--server", closedServer, "ping"}, "connect to "+closedServer)

	// --- tm run ---------------------------------------------------------------------------
	const appID = "7b1e3c9a-2f4d-4c8e-9a61-0d5f2b8c4e17"
	e.ok("--profile", "tm", "register", "tm-agent")
	tm := e.start("--profile", "tm", "tm", "run", "--app", appID, "--accept-tasks=false")
	tm.waitStderr("TaskMaster of app " + appID)
	e.fail(1, []string{"--profile", "alice", "task", "request", "--app", appID, "--invite", "bob"},
		"server error -32024 TaskRejected", "--accept-tasks=false")
	if code := tm.interrupt(); code != 0 {
		t.Fatalf("tm run after SIGINT: exit %d\nstderr: %s", code, tm.stderr.String())
	}
	if !regexp.MustCompile(`task/create \S+ from alice inviting bob: reject`).MatchString(tm.stdout.String()) {
		t.Errorf("tm run log:\n%s", tm.stdout.String())
	}

	tm = e.start("--profile", "tm", "--json", "tm", "run", "--app", appID, "--block-messages-containing", "secret,classified")
	tm.waitStderr("TaskMaster of app " + appID)
	var tmReq protocol.TaskRequestResult
	e.okJSON(&tmReq, "--profile", "alice", "task", "request", "--app", appID, "--invite", "bob", "--conversation-name", "moderated")
	tmTask, tmConv := string(tmReq.Task.ID), string(tmReq.Conversation.ID)
	e.fail(1, []string{"--profile", "alice", "send", "--conversation", tmConv, "the Secret plan"}, "server error -32019 HookBlocked", `contains the blocked word "secret"`)
	e.ok("--profile", "alice", "send", "--conversation", tmConv, "all clear")
	if code := tm.interrupt(); code != 0 {
		t.Fatalf("tm run after SIGINT: exit %d\nstderr: %s", code, tm.stderr.String())
	}
	var decisions []tmDecision
	for _, line := range strings.Split(strings.TrimSpace(tm.stdout.String()), "\n") {
		var d tmDecision
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("tm run --json line %q: %v", line, err)
		}
		decisions = append(decisions, d)
	}
	if len(decisions) != 3 || decisions[0].Decision != "accept" || decisions[1].Decision != "Block" ||
		decisions[2].Decision != "Forward" || len(decisions[2].Recipients) != 1 || string(decisions[2].Recipients[0]) != bob.AgentID {
		t.Errorf("tm run decisions: %+v", decisions)
	}
	out = e.ok("--profile", "bob", "history", tmConv)
	if !strings.Contains(out, "alice: all clear") || strings.Contains(out, "Secret") {
		t.Errorf("bob's history of the moderated conversation:\n%s", out)
	}

	// With the TaskMaster stopped, one-shot commands may hold the app with --app.
	var created protocol.TaskConversationCreateResult
	retry(t, func() error {
		r := e.run("--json", "--profile", "tm", "conv", "create", "--app", appID, "--task", tmTask, "--participant", "bob", "--name", "side")
		if r.code != 0 {
			return errors.New(r.stderr)
		}
		return json.Unmarshal([]byte(r.stdout), &created)
	})
	if optString(created.Conversation.Name) != "side" {
		t.Errorf("conv create: %+v", created)
	}
	e.fail(1, []string{"--profile", "alice", "conv", "create", "--task", tmTask, "--participant", "bob"}, "server error -32001 Forbidden")
	retry(t, func() error {
		if r := e.run("--profile", "tm", "conv", "archive", "--app", appID, "--task", tmTask, tmConv); r.code != 0 {
			return errors.New(r.stderr)
		}
		return nil
	})
	e.fail(1, []string{"--profile", "alice", "send", "--conversation", tmConv, "late"}, "server error -32022 ConversationArchived")
	retry(t, func() error {
		if r := e.run("--profile", "tm", "task", "close", "--app", appID, tmTask); r.code != 0 {
			return errors.New(r.stderr)
		}
		return nil
	})
	out = e.ok("--profile", "alice", "task", "list")
	if !regexp.MustCompile(`(?m)^` + tmTask + `\s+closed\s+`).MatchString(out) {
		t.Errorf("task list after close:\n%s", out)
	}
}

// retry runs fn until it succeeds (the server frees an app once the previous holder's
// socket is gone, which is asynchronous).
func retry(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after 5 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

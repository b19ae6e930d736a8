package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/observatory"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

const (
	testObsToken = "obs-s3cret"
	obsAliceID   = "0197a0f2-6c1e-7c3b-9d2a-4b5c6d7e8f90"
	obsBobID     = "0197a0f2-6c1e-7c3b-9d2a-4b5c6d7e8f91"
	obsTaskID    = "0197a0f2-6c1e-7c3b-9d2a-4b5c6d7e8f92"
	obsConvID    = "0197a0f2-6c1e-7c3b-9d2a-4b5c6d7e8f93"
	obsAppID     = "0197a0f2-6c1e-7c3b-9d2a-4b5c6d7e8f94"
	obsWait      = 20 * time.Second
)

// --- arguments ----------------------------------------------------------------------------

func TestObserveTopics(t *testing.T) {
	upper := strings.ToUpper(obsConvID)
	for _, tc := range []struct {
		args []string
		want []string
		err  string
	}{
		{args: nil, want: []string{"network"}},
		{args: []string{"conversation:" + upper, "network", "conversation:" + obsConvID}, want: []string{"conversation:" + obsConvID, "network"}},
		{args: []string{"task:" + obsTaskID, "dispatch:" + obsConvID}, want: []string{"task:" + obsTaskID, "dispatch:" + obsConvID}},
		{args: []string{"conversation:abc"}, err: `topic "conversation:abc": want conversation:ID with a UUID`},
		{args: []string{"task"}, err: `topic "task": want task:ID`},
		{args: []string{"presence"}, err: `unknown topic "presence": want network, task:TASK_ID, conversation:CONV_ID or dispatch:CONV_ID`},
	} {
		got, err := observeTopics(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || exitCode(err) != exitUsage {
				t.Errorf("observeTopics(%q) = %v, %v; want a usage error containing %q", tc.args, got, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("observeTopics(%q) = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestObserveURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":           "ws://127.0.0.1:8080/observatory",
		"http://127.0.0.1:8080/":          "ws://127.0.0.1:8080/observatory",
		"https://moltzap.example.com":     "wss://moltzap.example.com/observatory",
		"ws://127.0.0.1:8080/ws":          "ws://127.0.0.1:8080/observatory",
		"wss://moltzap.example.com/mz/ws": "wss://moltzap.example.com/mz/observatory",
		"http://h:1/base?x=1#f":           "ws://h:1/base/observatory",
	} {
		if got, err := observatoryURL(in); err != nil || got != want {
			t.Errorf("observatoryURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// --- the readable form --------------------------------------------------------------------

func TestObserveFormat(t *testing.T) {
	at := time.Date(2026, 5, 25, 15, 4, 5, 120e6, time.UTC)
	o := &observer{names: map[string]string{}}
	connectedAt := "2026-05-25T13:00:00Z"
	steps := []struct {
		topic, event, payload, want string
	}{
		{"network", "presence:changed", `{"agentId":"` + obsAliceID + `","status":"online"}`,
			"15:04:05.120 network presence:changed agent=" + obsAliceID + " status=online"},
		{"network", "network:snapshot",
			`{"agents":[{"agentId":"` + obsAliceID + `","name":"alice","status":"online","connections":2,"connectedAt":"` + connectedAt + `"}],` +
				`"tasks":[{"id":"` + obsTaskID + `","appId":"` + obsAppID + `","initiatorAgentId":"` + obsAliceID + `","status":"active","startedAt":null,"endedAt":null,"createdAt":"` + connectedAt + `"}]}`,
			"15:04:05.120 network network:snapshot (snapshot) 1 agent connected, 1 recent task\n" +
				"    agent=alice id=" + obsAliceID + " status=online connections=2 since=" + clock(connectedAt) + "\n" +
				"    task=" + obsTaskID + " status=active app=" + obsAppID + " initiator=alice"},
		// The snapshot taught alice's name.
		{"network", "presence:changed", `{"agentId":"` + strings.ToUpper(obsAliceID) + `","status":"working"}`,
			"15:04:05.120 network presence:changed agent=alice status=working"},
		{"network", "agent:connected", `{"agentId":"` + obsBobID + `","name":"bob","status":"online","connections":1,"connectedAt":"` + connectedAt + `"}`,
			"15:04:05.120 network agent:connected agent=bob id=" + obsBobID + " status=online connections=1 since=" + clock(connectedAt)},
		{"network", "task:created", `{"task":{"id":"` + obsTaskID + `","appId":"` + obsAppID + `","initiatorAgentId":"` + obsBobID + `","status":"waiting"}}`,
			"15:04:05.120 network task:created task=" + obsTaskID + " status=waiting app=" + obsAppID + " initiator=bob"},
		{"network", "task:failed", `{"taskId":"` + obsTaskID + `"}`, "15:04:05.120 network task:failed task=" + obsTaskID},
		{"task:" + obsTaskID, "task:snapshot",
			`{"task":{"id":"` + obsTaskID + `","appId":"` + obsAppID + `","initiatorAgentId":"` + obsAliceID + `","status":"active"},"participants":["` + obsAliceID + `","` + obsBobID + `"],` +
				`"conversations":[{"id":"` + obsConvID + `","type":"dm","name":"hello","createdBy":"` + obsAliceID + `","createdAt":"` + connectedAt + `","updatedAt":"` + connectedAt + `"}]}`,
			"15:04:05.120 task:" + obsTaskID + " task:snapshot (snapshot) task=" + obsTaskID + " status=active app=" + obsAppID + " initiator=alice participants=alice,bob\n" +
				"    conversation=" + obsConvID + ` name="hello" type=dm by=alice`},
		{"task:" + obsTaskID, "task:snapshot", `{"task":null,"participants":[],"conversations":[]}`,
			"15:04:05.120 task:" + obsTaskID + " task:snapshot (snapshot) no such task"},
		{"task:" + obsTaskID, "conversation:created", `{"conversation":{"id":"` + obsConvID + `","type":"group","createdBy":"` + obsBobID + `","archivedAt":"` + connectedAt + `"}}`,
			"15:04:05.120 task:" + obsTaskID + " conversation:created conversation=" + obsConvID + " type=group by=bob archived"},
		{"task:" + obsTaskID, "conversation:archived", `{"conversationId":"` + obsConvID + `"}`,
			"15:04:05.120 task:" + obsTaskID + " conversation:archived conversation=" + obsConvID},
		{"task:" + obsTaskID, "participants:added", `{"conversationId":"` + obsConvID + `","agentIds":["` + obsBobID + `","` + obsTaskID + `"]}`,
			"15:04:05.120 task:" + obsTaskID + " participants:added conversation=" + obsConvID + " agents=bob," + obsTaskID},
		{"task:" + obsTaskID, "participants:removed", `{"conversationId":"` + obsConvID + `","agentId":"` + obsBobID + `"}`,
			"15:04:05.120 task:" + obsTaskID + " participants:removed conversation=" + obsConvID + " agent=bob"},
		{"conversation:" + obsConvID, "message:received", observedJSON("3", `[{"type":"text","text":"hi\nbob"}]`, `{"verdict":"forward","recipients":["`+obsBobID+`"]}`),
			"15:04:05.120 conversation:" + obsConvID + " message:received #3 alice → bob: hi ⏎ bob"},
		{"conversation:" + obsConvID, "message:blocked", observedJSON("4", `[{"type":"text","text":"the Secret plan"},{"type":"image","url":"https://x/y.png"}]`, `{"verdict":"block","reason":"contains \"secret\""}`),
			"15:04:05.120 conversation:" + obsConvID + ` message:blocked #4 alice: the Secret plan [image https://x/y.png] [block: contains "secret"]`},
		{"conversation:" + obsConvID, "message:received", observedJSON("5", `[{"type":"text","text":"`+strings.Repeat("é", observeMaxText+10)+`"}]`, `{"verdict":"pending"}`),
			"15:04:05.120 conversation:" + obsConvID + " message:received #5 alice: " + strings.Repeat("é", observeMaxText) + "… [pending]"},
		{"conversation:" + obsConvID, "conversation:snapshot",
			`{"conversation":{"id":"` + obsConvID + `","type":"dm","createdBy":"` + obsAliceID + `"},"taskId":"` + obsTaskID + `","messages":[` +
				observedJSON("1", `[{"type":"text","text":"one"}]`, `{"verdict":"forward"}`) + `,` + observedJSON("2", `[{"type":"file","name":"a.txt","url":"https://x/a.txt"}]`, `{"verdict":"forward"}`) + `]}`,
			"15:04:05.120 conversation:" + obsConvID + " conversation:snapshot (snapshot) conversation=" + obsConvID + " type=dm by=alice task=" + obsTaskID + ", 2 messages\n" +
				"    #1 alice: one\n" +
				"    #2 alice: [file a.txt https://x/a.txt]"},
		{"conversation:" + obsConvID, "conversation:snapshot", `{"conversation":null,"taskId":null,"messages":[]}`,
			"15:04:05.120 conversation:" + obsConvID + " conversation:snapshot (snapshot) no such conversation"},
		{"dispatch:" + obsConvID, "dispatch:snapshot", `{"leases":[` + leaseJSON("GRANTED", `{"decision":"grant"}`) + `]}`,
			"15:04:05.120 dispatch:" + obsConvID + " dispatch:snapshot (snapshot) 1 lease\n" +
				"    lease=l1 state=GRANTED recipient=bob dispatch=d1 verdict=grant"},
		{"dispatch:" + obsConvID, "lease:minted", `{"lease":` + leaseJSON("PENDING", "null") + `}`,
			"15:04:05.120 dispatch:" + obsConvID + " lease:minted lease=l1 state=PENDING recipient=bob dispatch=d1"},
		// Unknown events and unreadable payloads are shown as compact JSON.
		{"network", "something:new", "{ \"a\" : [1, 2] }", `15:04:05.120 network something:new {"a":[1,2]}`},
		{"network", "presence:changed", `{"agentId": 7}`, `15:04:05.120 network presence:changed {"agentId":7}`},
	}
	for _, s := range steps {
		if got := o.format(at, s.topic, s.event, json.RawMessage(s.payload)); got != s.want {
			t.Errorf("format %s %s %s:\n got %q\nwant %q", s.topic, s.event, s.payload, got, s.want)
		}
	}
}

func observedJSON(seq, parts, decision string) string {
	return `{"taskId":"` + obsTaskID + `","message":{"id":"m` + seq + `","conversationId":"` + obsConvID + `","senderId":"` + obsAliceID +
		`","seq":"` + seq + `","parts":` + parts + `,"createdAt":"2026-05-25T13:00:00Z"},"decision":` + decision + `}`
}

func leaseJSON(state, verdict string) string {
	return `{"dispatchId":"d1","leaseId":"l1","conversationId":"` + obsConvID + `","taskId":"` + obsTaskID + `","appId":"` + obsAppID +
		`","recipientAgentId":"` + obsBobID + `","moderatorConnectionId":"","state":"` + state + `","verdict":` + verdict + `,"mintedAt":"2026-05-25T13:00:00Z"}`
}

// --- against an in-process Observatory ------------------------------------------------------

// fakeObservatory serves runtime/observatory at /observatory with the token testObsToken and a
// network channel whose snapshot lists alice; restart drops every socket (1000 "Server
// shutting down") and serves a fresh one on the same address.
type fakeObservatory struct {
	t      *testing.T
	hs     *httptest.Server
	mu     sync.Mutex
	obs    *observatory.Server
	joins  int
	header bool // authenticate with the bearer header (false: ignore it, first frame only)
}

func newFakeObservatory(t *testing.T, header bool) *fakeObservatory {
	f := &fakeObservatory{t: t, header: header}
	f.obs = f.newServer()
	mux := http.NewServeMux()
	mux.HandleFunc("/observatory", func(w http.ResponseWriter, r *http.Request) {
		obs := f.current()
		if f.header {
			obs.ServeHTTP(w, r)
			return
		}
		conn, err := transport.Upgrade(w, r, transport.Config{})
		if err == nil {
			obs.ServeConn(conn) // the header is not looked at: the socket must send the auth frame
		}
	})
	f.hs = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.current().Shutdown(ctx)
		f.hs.Close()
	})
	return f
}

func (f *fakeObservatory) newServer() *observatory.Server {
	network := observatory.MustChannel("network").OnJoin(func(_ context.Context, c *observatory.ChannelContext) error {
		f.mu.Lock()
		f.joins++
		f.mu.Unlock()
		return c.Send("network:snapshot", map[string]any{
			"agents": []map[string]any{{"agentId": obsAliceID, "name": "alice", "status": "online", "connections": 1, "connectedAt": "2026-05-25T13:00:00Z"}},
			"tasks":  []any{},
		})
	})
	return observatory.New(observatory.Options{Auth: &observatory.Auth{Verify: observatory.TokenVerifier(testObsToken)}, ReadOnly: true}).Register(network)
}

func (f *fakeObservatory) current() *observatory.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.obs
}

func (f *fakeObservatory) restart() {
	f.t.Helper()
	next := f.newServer()
	f.mu.Lock()
	old := f.obs
	f.obs = next
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := old.Shutdown(ctx); err != nil {
		f.t.Fatalf("shutdown: %v", err)
	}
}

func (f *fakeObservatory) broadcast(topic, event string, payload any) {
	f.t.Helper()
	if n, err := f.current().Broadcast(topic, event, payload); err != nil || n != 1 {
		f.t.Fatalf("broadcast %s %s reached %d sockets (%v), want 1", topic, event, n, err)
	}
}

// observeRun is observe running in-process (run, the CLI's entry point); stop cancels its
// context the way SIGINT does.
type observeRun struct {
	t              *testing.T
	args           []string
	stdout, stderr lockedBuffer
	cancel         context.CancelFunc
	done           chan struct{}
	code           int
}

func startObserve(t *testing.T, args ...string) *observeRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &observeRun{t: t, args: args, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = run(ctx, args, &r.stdout, &r.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// runObserve runs observe to completion and returns its exit code.
func runObserve(t *testing.T, args ...string) *observeRun {
	t.Helper()
	r := startObserve(t, args...)
	r.wait()
	return r
}

func (r *observeRun) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(obsWait):
		r.t.Fatalf("observe %v still running after %v\nstdout: %s\nstderr: %s", r.args, obsWait, r.stdout.String(), r.stderr.String())
		return -1
	}
}

// stop interrupts observe and checks it exits 0.
func (r *observeRun) stop() {
	r.t.Helper()
	r.cancel()
	if code := r.wait(); code != 0 {
		r.t.Fatalf("observe after interruption: exit %d, want 0\nstderr: %s", code, r.stderr.String())
	}
}

// waitFor waits until what(buf) holds at least n matches of re.
func (r *observeRun) waitFor(buf *lockedBuffer, re *regexp.Regexp, n int) []string {
	r.t.Helper()
	deadline := time.Now().Add(obsWait)
	for {
		if m := re.FindAllString(buf.String(), -1); len(m) >= n {
			return m
		}
		select {
		case <-r.done:
			r.t.Fatalf("observe %v exited (%d) before %d× %q\nstdout: %s\nstderr: %s", r.args, r.code, n, re, r.stdout.String(), r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("observe %v: no %d× %q after %v\nstdout: %s\nstderr: %s", r.args, n, re, obsWait, r.stdout.String(), r.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *observeRun) waitStdout(re string, n int) []string {
	r.t.Helper()
	return r.waitFor(&r.stdout, regexp.MustCompile(re), n)
}

func (r *observeRun) waitStderr(s string, n int) {
	r.t.Helper()
	r.waitFor(&r.stderr, regexp.MustCompile(regexp.QuoteMeta(s)), n)
}

func TestObservePrintsEventsAndReconnects(t *testing.T) {
	f := newFakeObservatory(t, true)
	t.Setenv(envObservatoryToken, testObsToken) // the token from the environment
	unknown := "task:" + obsTaskID              // no channel serves it: the server answers INTERNAL_ERROR
	r := startObserve(t, "--server", f.hs.URL, "observe", "network", unknown)
	r.waitStderr("moltzap: observing network on ws://"+strings.TrimPrefix(f.hs.URL, "http://")+"/observatory; Ctrl-C to stop", 1)
	if !strings.Contains(r.stderr.String(), "moltzap: observatory error on "+unknown+": INTERNAL_ERROR: No channel matches topic: "+unknown) {
		t.Errorf("the server's error is not on stderr:\n%s", r.stderr.String())
	}
	const stamp = `(?m)^\d\d:\d\d:\d\d\.\d{3} `
	r.waitStdout(stamp+`network network:snapshot \(snapshot\) 1 agent connected, 0 recent tasks\n    agent=alice id=`+obsAliceID+` status=online connections=1 since=\S+$`, 1)

	f.broadcast("network", "presence:changed", map[string]string{"agentId": obsAliceID, "status": "working"})
	r.waitStdout(stamp+`network presence:changed agent=alice status=working$`, 1)

	// A drop: reconnected, subscribed again, the snapshot printed again.
	f.restart()
	r.waitStderr("moltzap: observatory connection lost (1000 Server shutting down); reconnecting in ", 1)
	r.waitStderr("moltzap: reconnected; observing network again", 1)
	r.waitStdout(stamp+`network network:snapshot \(snapshot\) `, 2)
	f.broadcast("network", "presence:changed", map[string]string{"agentId": obsAliceID, "status": "offline"})
	r.waitStdout(stamp+`network presence:changed agent=alice status=offline$`, 1)
	r.stop()
	if f.joins != 2 {
		t.Errorf("the network channel was joined %d times, want 2 (once per connection)", f.joins)
	}
	if strings.Contains(r.stdout.String(), "subscribed") {
		t.Errorf("subscription confirmations are not events:\n%s", r.stdout.String())
	}
}

func TestObserveJSON(t *testing.T) {
	f := newFakeObservatory(t, true)
	r := startObserve(t, "--server", f.hs.URL, "--json", "observe", "--token", testObsToken)
	r.waitStderr("moltzap: observing network on ", 1)
	f.broadcast("network", "task:failed", map[string]string{"taskId": obsTaskID})
	lines := r.waitStdout(`(?m)^.+$`, 2)
	var got []observedEvent
	for _, l := range lines {
		var ev observedEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, ev)
	}
	if got[0].Topic != "network" || got[0].Event != "network:snapshot" || !strings.Contains(string(got[0].Payload), `"name":"alice"`) {
		t.Errorf("first line: %+v", got[0])
	}
	if got[1].Topic != "network" || got[1].Event != "task:failed" || string(got[1].Payload) != `{"taskId":"`+obsTaskID+`"}` {
		t.Errorf("second line: %+v", got[1])
	}
	r.stop()
}

func TestObserveRefusals(t *testing.T) {
	f := newFakeObservatory(t, true)
	t.Setenv(envObservatoryToken, "")

	r := runObserve(t, "--server", f.hs.URL, "observe")
	checkExit(t, r, exitUsage, "missing observatory token: pass --token TOKEN or set "+envObservatoryToken)

	r = runObserve(t, "--server", f.hs.URL, "observe", "--token", "wrong")
	checkExit(t, r, exitFailure, "moltzap: observatory token refused by ws://", "(HTTP 401)",
		"moltzap: hint: the token (--token or "+envObservatoryToken+") must be the server's --observatory-token")

	r = runObserve(t, "--server", f.hs.URL, "observe", "--token", testObsToken, "presence")
	checkExit(t, r, exitUsage, `unknown topic "presence"`)

	// A server without the Observatory.
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	r = runObserve(t, "--server", plain.URL, "observe", "--token", testObsToken)
	checkExit(t, r, exitFailure, "answered HTTP 404: the server does not serve the Observatory (start it with --observatory-token)")

	// Nothing listening: the first connection must succeed.
	addr := plain.Listener.Addr().String()
	plain.Close()
	r = runObserve(t, "--server", "http://"+addr, "observe", "--token", testObsToken)
	checkExit(t, r, exitFailure, "moltzap: connect to ws://"+addr+"/observatory: ")
}

func TestObserveUnauthorizedEventEnds(t *testing.T) {
	f := newFakeObservatory(t, false) // the bearer header is ignored: subscribing is UNAUTHORIZED
	r := runObserve(t, "--server", f.hs.URL, "observe", "--token", testObsToken)
	checkExit(t, r, exitFailure, "moltzap: observatory token refused by ws://", "(UNAUTHORIZED: Authenticate first")
	if r.stdout.String() != "" {
		t.Errorf("stdout: %q", r.stdout.String())
	}
}

func checkExit(t *testing.T, r *observeRun, code int, stderr ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("observe %v: exit %d, want %d\nstdout: %s\nstderr: %s", r.args, r.code, code, r.stdout.String(), r.stderr.String())
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr.String(), s) {
			t.Errorf("observe %v: stderr lacks %q:\n%s", r.args, s, r.stderr.String())
		}
	}
}

// --- against the real server ----------------------------------------------------------------

// serverProc is moltzap-server, built from this repository, running as a subprocess with an
// observatory token; restart stops it (SIGTERM) and starts it again on the same address and
// data directory.
type serverProc struct {
	t          *testing.T
	bin, data  string
	addr       string
	extra      []string
	cmd        *exec.Cmd
	logs       lockedBuffer
	stopCancel context.CancelFunc
}

func startServerProc(t *testing.T, extra ...string) *serverProc {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "moltzap-server")
	if out, err := exec.Command("go", "build", "-o", bin, "../moltzap-server").CombinedOutput(); err != nil {
		t.Fatalf("build moltzap-server: %v\n%s", err, out)
	}
	s := &serverProc{t: t, bin: bin, data: filepath.Join(dir, "data"), addr: "127.0.0.1:0", extra: extra}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *serverProc) url() string { return "http://" + s.addr }

func (s *serverProc) start() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"--addr", s.addr, "--data", s.data, "--log-format", "json"}, s.extra...)
	s.cmd = exec.CommandContext(ctx, s.bin, args...)
	s.stopCancel = cancel
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start moltzap-server: %v", err)
	}
	listening := make(chan string, 1)
	go s.readLogs(pipe, listening)
	select {
	case addr := <-listening:
		s.addr = addr
	case <-time.After(obsWait):
		s.t.Fatalf("moltzap-server %v did not start listening\n%s", args, s.logs.String())
	}
}

// readLogs copies the server's log and reports the address of its "listening" line.
func (s *serverProc) readLogs(r io.Reader, listening chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = s.logs.Write(append(append([]byte(nil), line...), '\n'))
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "moltzap server listening" && rec.Addr != "" {
			select {
			case listening <- rec.Addr:
			default:
			}
		}
	}
	close(listening)
}

func (s *serverProc) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.stopCancel()
		<-done
	}
	s.stopCancel()
	s.cmd = nil
}

func (s *serverProc) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

func TestObserveEndToEnd(t *testing.T) {
	srv := startServerProc(t, "--observatory-token", testObsToken)
	e := &e2e{t: t, bin: buildBinary(t), server: srv.url(), cfg: t.TempDir()}
	e.ok("--profile", "alice", "register", "alice")
	e.ok("--profile", "bob", "register", "bob")
	var req protocol.TaskRequestResult
	e.okJSON(&req, "--profile", "alice", "task", "request", "--invite", "bob", "--conversation-name", "watched")
	if req.Conversation == nil {
		t.Fatalf("task request without a conversation: %+v", req)
	}
	conv := string(req.Conversation.ID)
	topic := "conversation:" + conv

	obs := startObserve(t, "--server", srv.url(), "--json", "observe", "--token", testObsToken, topic)
	obs.waitStderr("moltzap: observing "+topic+" on ws://"+srv.addr+"/observatory", 1)
	obs.waitStdout(`"event":"conversation:snapshot"`, 1)
	e.ok("--profile", "alice", "send", "--conversation", conv, "hi bob")
	received := obs.waitStdout(`(?m)^.*"event":"message:received".*$`, 1)
	var ev struct {
		Topic   string `json:"topic"`
		Event   string `json:"event"`
		Payload struct {
			TaskID   string           `json:"taskId"`
			Message  protocol.Message `json:"message"`
			Decision struct {
				Verdict    string   `json:"verdict"`
				Recipients []string `json:"recipients"`
			} `json:"decision"`
		} `json:"payload"`
	}
	if err := json.Unmarshal([]byte(received[0]), &ev); err != nil {
		t.Fatalf("message:received line %q: %v", received[0], err)
	}
	if ev.Topic != topic || partsText(ev.Payload.Message.Parts) != "hi bob" || ev.Payload.TaskID != string(req.Task.ID) || ev.Payload.Decision.Verdict != "forward" {
		t.Errorf("message:received: %+v", ev)
	}

	// The server restarts: observe reconnects and prints the snapshot again, with the message.
	srv.restart()
	obs.waitStderr("moltzap: reconnected; observing "+topic+" again", 1)
	snaps := obs.waitStdout(`(?m)^.*"event":"conversation:snapshot".*$`, 2)
	if !strings.Contains(snaps[1], `"text":"hi bob"`) {
		t.Errorf("the snapshot after the reconnect lacks the message: %s", snaps[1])
	}
	obs.stop()

	// The readable form, with the network topic: agents are named once it told their names.
	human := startObserve(t, "--server", srv.url(), "observe", "--token", testObsToken, topic, "network")
	human.waitStderr("moltzap: observing "+topic+", network on ", 1)
	human.waitStdout(`(?m)^\d\d:\d\d:\d\d\.\d{3} network network:snapshot \(snapshot\) \d+ agents? connected, \d+ recent tasks?$`, 1)
	human.waitStdout(`(?m)^\d\d:\d\d:\d\d\.\d{3} `+topic+` conversation:snapshot \(snapshot\) conversation=`+conv+` name="watched" .*, 1 message\n    #1 \S+( → \S+)?: hi bob$`, 1)
	e.ok("--profile", "alice", "send", "--conversation", conv, "second", "message")
	human.waitStdout(`(?m)^\d\d:\d\d:\d\d\.\d{3} network agent:connected agent=alice id=`+uuidRe.String()+` status=online connections=1 since=\S+$`, 1)
	human.waitStdout(`(?m)^\d\d:\d\d:\d\d\.\d{3} `+topic+` message:received #2 alice( → \S+)?: second message$`, 1)
	human.stop()

	// Refusals, run as the binary.
	e.fail(1, []string{"observe", "--token", "wrong", topic}, "observatory token refused")
	r := e.fail(2, []string{"observe", topic}, "--token", envObservatoryToken)
	if r.stdout != "" {
		t.Errorf("observe without a token printed %q", r.stdout)
	}
}

func TestObserveServerWithoutObservatory(t *testing.T) {
	srv := startServerProc(t)
	r := runObserve(t, "--server", srv.url(), "observe", "--token", testObsToken)
	checkExit(t, r, exitFailure, "the server does not serve the Observatory (start it with --observatory-token)")
}

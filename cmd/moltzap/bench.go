package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moltzap/moltzap-go/runtime/loadgen"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
	"github.com/spf13/cobra"
)

// bench: load workloads against a MoltZap server on this machine (runtime/loadgen), and the
// hidden bench-server command that --spawn runs as a child process.

// Bounds of the bench flags: every run is bounded in size and time.
const (
	benchDefaultDuration = 60 * time.Second
	benchMaxDuration     = time.Hour
	benchMaxCount        = 1_000_000
	benchMaxConcurrency  = 10_000
	benchMaxGroupSize    = 100_000
)

// Settings of the server --spawn starts.
const (
	// benchServerRate is the per-agent messages/send and request limit per minute: high
	// enough that no workload is ever rate limited.
	benchServerRate = 100_000_000
	// benchServerWriteQueue is the outbound queue of each connection (messages); a fan-out
	// with many messages in flight must not close its recipients as slow consumers.
	benchServerWriteQueue = 65_536
	// benchServerMaxGroup is the largest conversation the spawned server accepts.
	benchServerMaxGroup = benchMaxGroupSize
	// benchSpawnTimeout bounds the child's start until /health answers.
	benchSpawnTimeout = 30 * time.Second
	// benchStopTimeout is how long the child may take to exit after SIGTERM before it is
	// killed.
	benchStopTimeout = 15 * time.Second
	// benchServerShutdown bounds the child's graceful shutdown.
	benchServerShutdown = 5 * time.Second
	// benchListeningPrefix starts the line the child prints on stdout once it listens.
	benchListeningPrefix = "listening "
)

// addBenchCmds registers `bench` (in a group of its own) and the hidden `bench-server` on
// root.
func addBenchCmds(root *cobra.Command, a *app) {
	root.AddGroup(&cobra.Group{ID: "bench", Title: "Load testing:"})
	b := newBenchCmd(a)
	b.GroupID = "bench"
	root.AddCommand(b, newBenchServerCmd())
}

// benchWorkload describes one `bench` subcommand.
type benchWorkload struct {
	name, short, long, example string
	defCount                   int
	unit                       string // what Count counts, for the progress lines
	run                        func(ctx context.Context, cfg loadgen.Config, serverPID int) (loadgen.Result, error)
}

func newBenchCmd(a *app) *cobra.Command {
	connect := benchWorkload{
		name:  "connect",
		short: "Open and authenticate N sockets; connects/s and server RSS per idle connection",
		long: `Register --count agents over HTTP, then open and authenticate one WebSocket per agent
(network/connect, --concurrency in flight, default 64). Reports connects/s and the latency of
dial + upgrade + network/connect. With --spawn (or --server-pid PID of a server you started)
the server's resident memory is read from /proc before and after, once every connection has
been idle for 2 s, and reported as bytes per connection (rss_bytes_per_conn).

One source address allows about 28,000 connections to one server port; past ~25,000 use
several loopback source addresses with --source-addr 127.0.0.2,127.0.0.3,... (and raise
ulimit -n above twice --count).`,
		example:  "  moltzap bench connect --spawn --count 2000\n  moltzap bench connect --spawn --count 40000 --source-addr 127.0.0.2,127.0.0.3",
		defCount: 1000,
		unit:     "connections",
		run:      loadgen.Connect,
	}
	dm := benchWorkload{
		name:  "dm",
		short: "Pairs of agents in one-to-one conversations; messages/s and p50/p90/p99/max latency",
		long: `Run --concurrency pairs of agents (default 1), each pair in a one-to-one conversation.
Each pair sends sequentially: the next messages/send starts once the peer received the
previous message. The latency of a message runs from just before messages/send to the
arrival of messages/received at the peer. --count messages are sent in total, shared by the
pairs.`,
		example:  "  moltzap bench dm --spawn --count 2000\n  moltzap bench dm --spawn --count 2000 --concurrency 8",
		defCount: 1000,
		unit:     "messages",
		run: func(ctx context.Context, cfg loadgen.Config, _ int) (loadgen.Result, error) {
			return loadgen.DM(ctx, cfg)
		},
	}
	fanout := benchWorkload{
		name:  "fanout",
		short: "One group of --group-size members and one sender; deliveries/s and latency to the last recipient",
		long: `Run one conversation of --group-size members (default 50, sender included); its creator
sends --count messages, --concurrency in flight (default 1: the next send starts once every
recipient got the previous message). The latency of a message runs from just before
messages/send until the last recipient got messages/received. The rate is in deliveries/s
(messages x recipients / elapsed); messages_per_s is the message rate.`,
		example:  "  moltzap bench fanout --spawn --group-size 50 --count 200",
		defCount: 200,
		unit:     "messages",
		run: func(ctx context.Context, cfg loadgen.Config, _ int) (loadgen.Result, error) {
			return loadgen.Fanout(ctx, cfg)
		},
	}
	c := groupCmd("bench", "Measure a server on this machine under load: connections, DMs, fan-out",
		newBenchWorkloadCmd(a, connect), newBenchWorkloadCmd(a, dm), newBenchWorkloadCmd(a, fanout))
	c.Long = `bench generates load against a MoltZap server on this machine and measures it
(runtime/loadgen): connect (connection cost), dm (one-to-one message latency) and fanout
(group delivery throughput).

The load only ever goes to this machine: --url (default: the global --server) must be a
loopback address (127.0.0.0/8, ::1, localhost), and every run is bounded by --count and
--duration, whichever comes first (setup included).

--spawn starts a server of its own for the run: this binary re-executed as a hidden
bench-server command, on a SQLite store in a fresh temporary directory, on a free loopback
port, with its rate limits raised for load. It is stopped with SIGTERM and its directory
removed when the run ends, also on error or Ctrl-C. --spawn ignores --server.

Without --spawn, pass --url of a server you started, with its per-agent limits raised, or
the run fails with -32004 RateLimited after about 60 messages:

  moltzap-server --addr 127.0.0.1:8080 --data /tmp/mz-bench \
      --messages-per-minute 100000000 --requests-per-minute 100000000

A progress bar is drawn on stderr while the run goes when stderr is a terminal (otherwise
a progress line every 25 %, none with --json); the result is printed on stdout at the end, as
a table or, with --json, as one JSON object. When a run fails after measuring something,
the partial result is printed before the error.`
	c.Example = `  moltzap bench connect --spawn --count 2000
  moltzap bench dm --spawn --count 2000 --concurrency 8
  moltzap bench fanout --spawn --group-size 50 --count 200 --json
  moltzap bench dm --url http://127.0.0.1:8080 --count 1000 --duration 30s`
	return c
}

// benchOpts are the flags of one workload command.
type benchOpts struct {
	url         string
	spawn       bool
	count       int
	duration    time.Duration
	concurrency int
	groupSize   int
	sourceAddrs []string
	serverPID   int
}

func newBenchWorkloadCmd(a *app, w benchWorkload) *cobra.Command {
	o := benchOpts{count: w.defCount, duration: benchDefaultDuration, groupSize: loadgen.DefaultGroupSize}
	cmd := &cobra.Command{
		Use:     w.name,
		Short:   w.short,
		Long:    w.long,
		Example: w.example,
		Args:    noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(cmd, a, w); err != nil {
				return err
			}
			return o.run(cmd.Context(), a, w)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "server to load, http://HOST:PORT on a loopback address (default: the global --server)")
	f.BoolVar(&o.spawn, "spawn", false, "start a server for the run (rate limits raised, fresh temporary SQLite store) and stop it afterwards")
	f.IntVar(&o.count, "count", w.defCount, fmt.Sprintf("%s to complete, 1-%d", w.unit, benchMaxCount))
	f.DurationVar(&o.duration, "duration", benchDefaultDuration, "bound of the whole run, setup included (at most "+benchMaxDuration.String()+")")
	var concHelp string
	switch w.name {
	case "connect":
		concHelp = fmt.Sprintf("registrations and handshakes in flight (default %d)", loadgen.DefaultConnectConcurrency)
	case "dm":
		concHelp = "pairs sending in parallel (default 1)"
	default:
		concHelp = "messages in flight from the sender (default 1)"
	}
	f.IntVar(&o.concurrency, "concurrency", 0, concHelp)
	f.StringSliceVar(&o.sourceAddrs, "source-addr", nil, "loopback IPs the sockets bind to, in rotation, e.g. 127.0.0.2,127.0.0.3 (one allows ~28,000 connections)")
	if w.name == "connect" {
		f.IntVar(&o.serverPID, "server-pid", 0, "process id of the --url server, to report its RSS per connection (Linux; implied by --spawn)")
	}
	if w.name == "fanout" {
		f.IntVar(&o.groupSize, "group-size", loadgen.DefaultGroupSize, fmt.Sprintf("conversation members, sender included, 2-%d", benchMaxGroupSize))
	}
	for _, name := range []string{"url", "count", "duration", "concurrency", "source-addr", "server-pid", "group-size"} {
		if f.Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
		}
	}
	return cmd
}

// validate checks the flags and resolves the target URL; every problem is a usage error.
func (o *benchOpts) validate(cmd *cobra.Command, a *app, w benchWorkload) error {
	fs := cmd.Flags()
	if o.count <= 0 || o.count > benchMaxCount {
		return usagef("--count %d: want 1-%d %s", o.count, benchMaxCount, w.unit)
	}
	if o.duration <= 0 || o.duration > benchMaxDuration {
		return usagef("--duration %s: want a positive duration of at most %s", o.duration, benchMaxDuration)
	}
	if o.concurrency < 0 || o.concurrency > benchMaxConcurrency {
		return usagef("--concurrency %d: want 1-%d (or 0 for the workload's default)", o.concurrency, benchMaxConcurrency)
	}
	if w.name == "fanout" && (o.groupSize < 2 || o.groupSize > benchMaxGroupSize) {
		return usagef("--group-size %d: want 2-%d members, sender included", o.groupSize, benchMaxGroupSize)
	}
	for _, s := range o.sourceAddrs {
		if ip := net.ParseIP(strings.TrimSpace(s)); ip == nil || !ip.IsLoopback() {
			return usagef("--source-addr %q: want loopback IPs such as 127.0.0.2", s)
		}
	}
	urlSet := fs.Changed("url")
	if o.spawn {
		if urlSet {
			return usagef("--spawn and --url are mutually exclusive: --spawn starts a server of its own")
		}
		if fs.Changed("server-pid") {
			return usagef("--spawn and --server-pid are mutually exclusive: --spawn measures the server it starts")
		}
		return nil
	}
	if fs.Changed("server-pid") {
		if o.serverPID <= 0 {
			return usagef("--server-pid %d: want a process id", o.serverPID)
		}
		if runtime.GOOS != "linux" {
			return usagef("--server-pid: reading a process's RSS needs Linux (/proc)")
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/status", o.serverPID)); err != nil {
			return usagef("--server-pid %d: no such process", o.serverPID)
		}
	}
	src := "--url"
	if !urlSet {
		o.url = a.server
		switch {
		case fs.Changed("server"):
			src = "--server"
		case a.serverSet:
			src = envServer
		default:
			src = "--server (default)"
		}
	}
	base, err := benchBaseURL(o.url)
	if err != nil {
		return usagef("%s %q: %v", src, o.url, err)
	}
	o.url = base
	return nil
}

// benchBaseURL checks a server URL for bench (http(s) or ws(s), loopback host) and returns
// its HTTP base.
func benchBaseURL(s string) (string, error) {
	if err := checkServerURL(s); err != nil {
		return "", err
	}
	base := httpBase(s)
	u, err := url.Parse(base)
	if err != nil {
		return "", errors.New("not a URL")
	}
	if u.User != nil || u.RawQuery != "" {
		return "", errors.New("want scheme://host:port[/path] only")
	}
	if !loadgen.IsLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("host %q is not a loopback address; bench only loads a server on this machine (127.0.0.0/8, ::1, localhost)", u.Hostname())
	}
	return base, nil
}

// run runs the workload (on a spawned server with --spawn) and prints the result.
func (o *benchOpts) run(ctx context.Context, a *app, w benchWorkload) (err error) {
	baseURL, pid := o.url, o.serverPID
	var srv *benchServer
	if o.spawn {
		srv, err = spawnBenchServer(ctx)
		if err != nil {
			return err
		}
		defer func() {
			if serr := srv.stop(); serr != nil {
				if err == nil {
					err = serr
				} else {
					fmt.Fprintf(a.stderr, "moltzap: bench: %v\n", serr)
				}
			}
		}()
		baseURL, pid = srv.url, srv.pid
		fmt.Fprintf(a.stderr, "moltzap: bench: spawned server pid %d on %s (data %s)\n", srv.pid, srv.url, srv.dir)
	}
	cfg := loadgen.Config{
		BaseURL:     baseURL,
		Count:       o.count,
		Duration:    o.duration,
		Concurrency: o.concurrency,
		SourceAddrs: o.sourceAddrs,
	}
	if w.name == "fanout" {
		cfg.GroupSize = o.groupSize
	}
	prog := newBenchProgress(a, w.name, w.unit)
	cfg.Progress = prog.update
	prog.start()
	res, err := w.run(ctx, cfg, pid)
	prog.finish()
	if err != nil {
		if errors.Is(err, loadgen.ErrInvalidConfig) {
			return usagef("%s", strings.ReplaceAll(err.Error(), "loadgen: ", ""))
		}
		if res.Count > 0 {
			res.StoppedBy = "error"
			if ctx.Err() != nil {
				res.StoppedBy = "interrupt"
			}
			fmt.Fprintf(a.stderr, "moltzap: bench: stopped by %s; partial result:\n", res.StoppedBy)
			_ = printBenchResult(a, res)
		}
		return benchFailure(err, o.spawn, srv)
	}
	return printBenchResult(a, res)
}

// printBenchResult writes the result as a table, or as one JSON object with --json.
func printBenchResult(a *app, res loadgen.Result) error {
	if a.json {
		return printJSON(a.stdout, res)
	}
	_, err := io.WriteString(a.stdout, res.Table())
	return err
}

// benchFailure turns a workload error into the error the CLI prints. A -32004 RateLimited
// keeps its context ("dm: messages/send: server error -32004 RateLimited: ...") and gets a
// hint; a spawned server that died says so, with the end of its log.
func benchFailure(err error, spawned bool, srv *benchServer) error {
	if srv != nil {
		if exited, desc := srv.exited(); exited {
			err = fmt.Errorf("%w; the spawned server (pid %d) %s", err, srv.pid, desc)
			if tail := strings.TrimSpace(srv.log.String()); tail != "" {
				err = fmt.Errorf("%w; its last log lines:\n%s", err, tail)
			}
		}
	}
	w, ok := serverError(err)
	if !ok {
		return err
	}
	text := strings.Replace(err.Error(), w.Error(), describeError(w), 1)
	text = strings.ReplaceAll(text, "moltzap: ", "")
	if w.Code != -32004 {
		return errors.New(text) // the context stays; describeError would only print the code
	}
	hint := "start the server with --messages-per-minute 100000000 --requests-per-minute 100000000, or let bench start one with --spawn"
	if spawned {
		hint = "the spawned server's limits are raised already; something else limits this run"
	}
	return &hintError{err: errors.New(text), hint: hint}
}

// benchProgress reports the run's progress on stderr: a bar redrawn in place when stderr is
// a terminal, else a line every 25 % (none with --json).
type benchProgress struct {
	w           io.Writer
	label, unit string
	tty, plain  bool
	began       time.Time
	quarter     int // last quarter reported in plain mode
	drawn       bool
}

func newBenchProgress(a *app, workload, unit string) *benchProgress {
	p := &benchProgress{w: a.stderr, label: "bench " + workload, unit: unit}
	p.tty = isTerminal(a.stderr)
	p.plain = !p.tty && !a.json
	return p
}

// start shows that the setup runs (the measured phase reports progress only).
func (p *benchProgress) start() {
	p.began = time.Now()
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s: setting up…", p.label)
		p.drawn = true
	}
}

// update is the loadgen.Config.Progress callback.
func (p *benchProgress) update(done, total int) {
	if total <= 0 {
		return
	}
	elapsed := time.Since(p.began).Round(100 * time.Millisecond)
	switch {
	case p.tty:
		const width = 30
		fill := min(width, done*width/total)
		bar := strings.Repeat("=", fill)
		if fill < width {
			bar += ">" + strings.Repeat(" ", width-fill-1)
		}
		fmt.Fprintf(p.w, "\r\x1b[K%s [%s] %d/%d %s %3d%% %s", p.label, bar, done, total, p.unit, done*100/total, elapsed)
		p.drawn = true
	case p.plain:
		q := done * 4 / total
		if q > p.quarter {
			p.quarter = q
			fmt.Fprintf(p.w, "moltzap: %s: %d/%d %s (%d%%) after %s\n", p.label, done, total, p.unit, done*100/total, elapsed)
		}
	}
}

// finish clears the bar.
func (p *benchProgress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// isTerminal reports whether w is (a syncWriter around) a character device other than
// /dev/null.
func isTerminal(w io.Writer) bool {
	if sw, ok := w.(*syncWriter); ok {
		w = sw.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return os.Getenv("TERM") != "dumb"
}

// --- the spawned server ------------------------------------------------------------------

// benchServer is a child process running `moltzap bench-server`.
type benchServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string // its data directory (removed by stop)
	url   string // http://127.0.0.1:PORT
	pid   int
	log   *tailBuffer // its stderr

	done    chan struct{} // closed once the child was reaped
	waitErr error         // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// spawnBenchServer starts the child on a free loopback port with a fresh data directory and
// waits until /health answers. On error nothing is left behind.
func spawnBenchServer(ctx context.Context) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("spawn: locate the moltzap binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "moltzap-bench-")
	if err != nil {
		return nil, fmt.Errorf("spawn: temporary directory: %w", err)
	}
	s := &benchServer{dir: dir, log: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	addrc := make(chan string, 1)
	s.cmd = exec.Command(exe, "bench-server", "--addr", "127.0.0.1:0", "--data", dir, "--remove-data")
	s.cmd.Stdout = &lineWatcher{prefix: benchListeningPrefix, found: addrc}
	s.cmd.Stderr = s.log
	s.cmd.Env = benchChildEnv()
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn %s bench-server: %w", exe, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.awaitReady(ctx, addrc); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// awaitReady waits for the child's listening line, then for /health to answer 200.
func (s *benchServer) awaitReady(ctx context.Context, addrc <-chan string) error {
	ctx, cancel := context.WithTimeout(ctx, benchSpawnTimeout)
	defer cancel()
	failed := func(what string) error {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
			return ctx.Err() // interrupted: runE reports it
		}
		err := fmt.Errorf("spawned server (pid %d) %s", s.pid, what)
		if tail := strings.TrimSpace(s.log.String()); tail != "" {
			err = fmt.Errorf("%w; its log:\n%s", err, tail)
		}
		return err
	}
	var addr string
	select {
	case addr = <-addrc:
	case <-s.done:
		_, desc := s.exited()
		return failed(desc + " before listening")
	case <-ctx.Done():
		return failed(fmt.Sprintf("did not listen within %s", benchSpawnTimeout))
	}
	s.url = "http://" + addr
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/health", nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-s.done:
			_, desc := s.exited()
			return failed(desc + " before /health answered")
		case <-ctx.Done():
			return failed(fmt.Sprintf("did not answer /health within %s", benchSpawnTimeout))
		}
	}
}

// exited reports whether the child has ended, and how.
func (s *benchServer) exited() (bool, string) {
	select {
	case <-s.done:
	default:
		return false, ""
	}
	if s.waitErr == nil {
		return true, "exited"
	}
	return true, "exited: " + s.waitErr.Error()
}

// stop ends the child: SIGTERM (and closing its stdin, which it also watches), a kill after
// benchStopTimeout; then removes its data directory. It is idempotent.
func (s *benchServer) stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if exited, _ := s.exited(); !exited {
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
				_ = s.stdin.Close() // no SIGTERM (Windows): end of input stops it too
			}
			t := time.NewTimer(benchStopTimeout)
			select {
			case <-s.done:
			case <-t.C:
				_ = s.cmd.Process.Kill()
				<-s.done
				errs = append(errs, fmt.Errorf("spawned server (pid %d) did not stop within %s of SIGTERM; killed", s.pid, benchStopTimeout))
			}
			t.Stop()
		}
		_ = s.stdin.Close()
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove the spawned server's data directory: %w", err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// benchChildEnv is the environment without the CLI's MOLTZAP_ variables.
func benchChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MOLTZAP_") {
			env = append(env, kv)
		}
	}
	return env
}

// lineWatcher is a child's stdout: it sends the rest of the first line starting with prefix
// to found and discards everything else.
type lineWatcher struct {
	prefix string
	found  chan<- string
	buf    []byte
	sent   bool
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	if l.sent {
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) > 4096 {
				l.buf = l.buf[:0]
			}
			return len(p), nil
		}
		line := strings.TrimSpace(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
		if rest, ok := strings.CutPrefix(line, l.prefix); ok {
			l.sent = true
			l.found <- rest
			return len(p), nil
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// --- bench-server: the hidden command --spawn runs ----------------------------------------

func newBenchServerCmd() *cobra.Command {
	var addr, data string
	var writeQueue int
	var removeData bool
	cmd := &cobra.Command{
		Use:    "bench-server",
		Short:  "Run a server for bench --spawn (internal)",
		Hidden: true,
		Long: `bench-server runs a MoltZap server for 'moltzap bench --spawn': a SQLite store in --data,
per-agent rate limits raised to ` + fmt.Sprint(benchServerRate) + ` a minute, a large outbound queue, a
loopback --addr only. Once it listens it prints "` + benchListeningPrefix + `HOST:PORT" on stdout. It stops on
SIGINT or SIGTERM, or when its standard input ends (its parent closed the pipe or died);
with --remove-data it then removes the data directory.`,
		Args: noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usagef("--addr %q: want host:port", addr)
			}
			if !loadgen.IsLoopbackHost(host) {
				return usagef("--addr %q: want a loopback address", addr)
			}
			if data == "" {
				return usagef("--data must name a directory")
			}
			if writeQueue <= 0 {
				return usagef("--write-queue %d: want a positive number", writeQueue)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			go func() { // the parent's end of the pipe closed: stop
				_, _ = io.Copy(io.Discard, os.Stdin)
				cancel()
			}()
			err = serveBench(ctx, addr, data, writeQueue, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if ctx.Err() != nil {
				err = nil // asked to stop: how the start went no longer matters
			}
			if removeData {
				if rerr := os.RemoveAll(data); rerr != nil && err == nil {
					err = rerr
				}
			}
			return err
		}),
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:0", "loopback listen address (port 0: any free port)")
	f.StringVar(&data, "data", "", "directory of the SQLite store")
	f.IntVar(&writeQueue, "write-queue", benchServerWriteQueue, "outbound messages queued per connection")
	f.BoolVar(&removeData, "remove-data", false, "remove the --data directory on exit")
	return cmd
}

// serveBench runs the server until ctx ends, then shuts it down.
func serveBench(ctx context.Context, addr, data string, writeQueue int, stdout, logOut io.Writer) error {
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		return fmt.Errorf("open store in %s: %w", data, err)
	}
	defer func() { _ = st.Close() }()
	srv, err := server.New(server.Config{
		Limits: server.Limits{
			MessagesPerMinute:    benchServerRate,
			RequestsPerMinute:    benchServerRate,
			MaxGroupParticipants: benchServerMaxGroup,
		},
		WriteQueueLen: writeQueue,
		Logger:        log,
	}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "%s%s\n", benchListeningPrefix, ln.Addr())
	select {
	case err := <-errc:
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), benchServerShutdown)
	defer cancel()
	_ = hs.Shutdown(sctx)
	_ = srv.Shutdown(sctx)
	return nil
}

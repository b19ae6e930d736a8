package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moltzap/moltzap-go/runtime/loadgen"
	"github.com/spf13/cobra"
)

// bench: load workloads against a MoltZap server on this machine (runtime/loadgen); with
// --spawn against a moltzap-server child process it starts and stops itself.

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
	// benchServerBinary is the name of the server binary --spawn runs.
	benchServerBinary = "moltzap-server"
	// benchServerRate is the per-agent messages/send and request limit per minute: high
	// enough that no workload is ever rate limited.
	benchServerRate = 100_000_000
	// benchServerWriteQueue is the outbound queue of each connection (messages); a fan-out
	// with many messages in flight must not close its recipients as slow consumers.
	benchServerWriteQueue = 65_536
	// benchServerMinGroup is the smallest conversation limit the spawned server gets (the
	// server's own default); --group-size raises it.
	benchServerMinGroup = 256
	// benchSpawnTimeout bounds the child's start until /health answers.
	benchSpawnTimeout = 30 * time.Second
	// benchStopTimeout is how long the child may take to exit after SIGTERM before it is
	// killed.
	benchStopTimeout = 15 * time.Second
	// benchListeningMsg is the "msg" of the JSON log line moltzap-server writes on stderr
	// once it listens; its "addr" is the address.
	benchListeningMsg = "moltzap server listening"
)

// addBenchCmds registers `bench` on root, in a group of its own.
func addBenchCmds(root *cobra.Command, a *app) {
	root.AddGroup(&cobra.Group{ID: "bench", Title: "Load testing:"})
	b := newBenchCmd(a)
	b.GroupID = "bench"
	root.AddCommand(b)
}

// benchWorkload describes one `bench` subcommand.
type benchWorkload struct {
	name, short, long, example string
	defCount                   int
	unit                       string // what Count counts, for the progress lines
	run                        func(ctx context.Context, cfg loadgen.Config) (loadgen.Result, error)
}

// benchCPUHelp is the paragraph on the server CPU figure, shared by the workloads' help.
const benchCPUHelp = `With --spawn, or --server-pid PID of a server you started, the server's CPU time (user +
system, from /proc/PID/stat, Linux) is sampled at the start and the end of the measured phase
and reported per operation as server_cpu_ns_per_op: it counts the server's own cycles, not
the wall clock, so other work on the machine moves it far less than the rate. Its resolution
is one clock tick (10 ms) over the whole phase: measure for a few seconds. Without either
flag the figure is absent and the table says why. Over the nodes of a cluster, give
--server-pid once per node: the figure is the sum of their CPU.`

func newBenchCmd(a *app) *cobra.Command {
	connect := benchWorkload{
		name:  "connect",
		short: "Open and authenticate N sockets; connects/s, server CPU per connect and RSS per idle connection",
		long: `Register --count agents over HTTP, then open and authenticate one WebSocket per agent
(network/connect, --concurrency in flight, default 64). Reports connects/s and the latency of
dial + upgrade + network/connect. With --spawn (or --server-pid PID of a server you started)
the server's resident memory is read from /proc before and after, once every connection has
been idle for 2 s, and reported as bytes per connection (rss_bytes_per_conn), and its CPU
time per connect as server_cpu_ns_per_op.

Over several --url the connections are spread evenly over the nodes; each agent is
registered on the node it connects to, so the nodes need not form a cluster. With one
--server-pid per node, rss_bytes_per_conn is the growth of their summed RSS per connection.

` + benchCPUHelp + `

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
		short: "Pairs of agents in one-to-one conversations; messages/s, p50/p90/p99/max latency, server CPU per message",
		long: `Run --concurrency pairs of agents (default 1), each pair in a one-to-one conversation.
Each pair sends sequentially: the next messages/send starts once the peer received the
previous message. The latency of a message runs from just before messages/send to the
arrival of messages/received at the peer. --count messages are sent in total, shared by the
pairs. server_cpu_ns_per_op is the server's CPU time per message.

Over several --url (the nodes of one cluster) the two agents of each pair are on different
nodes, so every message crosses the cluster's bus.

` + benchCPUHelp,
		example:  "  moltzap bench dm --spawn --count 2000\n  moltzap bench dm --spawn --count 2000 --concurrency 8",
		defCount: 1000,
		unit:     "messages",
		run:      loadgen.DM,
	}
	fanout := benchWorkload{
		name:  "fanout",
		short: "One group of --group-size members and one sender; deliveries/s, latency to the last recipient, server CPU per delivery",
		long: `Run one conversation of --group-size members (default 50, sender included); its creator
sends --count messages, --concurrency in flight (default 1: the next send starts once every
recipient got the previous message). The latency of a message runs from just before
messages/send until the last recipient got messages/received. The rate is in deliveries/s
(messages x recipients / elapsed); messages_per_s is the message rate. server_cpu_ns_per_op
is the server's CPU time per delivery (one message to one recipient).

Over several --url (the nodes of one cluster) the sender is on the first node and the
members are spread evenly over all of them.

` + benchCPUHelp,
		example:  "  moltzap bench fanout --spawn --group-size 50 --count 200",
		defCount: 200,
		unit:     "messages",
		run:      loadgen.Fanout,
	}
	c := groupCmd("bench", "Measure a server on this machine under load: connections, DMs, fan-out",
		newBenchWorkloadCmd(a, connect), newBenchWorkloadCmd(a, dm), newBenchWorkloadCmd(a, fanout))
	c.Long = `bench generates load against a MoltZap server on this machine and measures it
(runtime/loadgen): connect (connection cost), dm (one-to-one message latency) and fanout
(group delivery throughput), each with the server's CPU time per operation.

The load only ever goes to this machine: --url (default: the global --server) must be a
loopback address (127.0.0.0/8, ::1, localhost), and every run is bounded by --count and
--duration, whichever comes first (setup included).

A cluster (several moltzap-server nodes on one PostgreSQL and one NATS) is loaded through
all of its nodes: repeat --url once per node, or give a comma list. The sockets are opened
on the nodes round robin: in dm the two agents of a pair are on different nodes, in fanout
the sender and the members are spread evenly, in connect the connections are. Agents are
registered on the first --url (connect registers each on the node it connects to, so its
nodes need not share a store; dm and fanout need a real cluster). Give --server-pid once per
node, in any order: server_cpu_ns_per_op and rss_bytes_per_conn are then sums over those
processes. "nodes" in the result is the number of nodes.

--spawn starts a server of its own for the run: the moltzap-server binary (the one beside
this moltzap binary, else the one on PATH, or --moltzap-server PATH), run as
  moltzap-server --addr 127.0.0.1:0 --data TMPDIR --log-format json \
      --messages-per-minute 100000000 --requests-per-minute 100000000 \
      --max-group-participants max(256, --group-size) --write-queue 65536
on a SQLite store in a fresh temporary directory, with the environment's MOLTZAP_ variables
removed. bench reads its address from its "moltzap server listening" log line, waits for
/health, and at the end stops it with SIGTERM (killed after 15 s) and removes the directory,
also on error or Ctrl-C. --spawn ignores --server. It starts a single node: --spawn with
--url (one or several) is a usage error.

Without --spawn, pass --url of a server you started, with its per-agent limits raised, or
the run fails with -32004 RateLimited after about 60 messages, and --server-pid with its
process id for the CPU and memory figures:

  moltzap-server --addr 127.0.0.1:8080 --data /tmp/mz-bench \
      --messages-per-minute 100000000 --requests-per-minute 100000000 &
  moltzap bench dm --url http://127.0.0.1:8080 --server-pid $!

A progress bar is drawn on stderr while the run goes when stderr is a terminal (otherwise
a progress line every 25 %, none with --json); the result is printed on stdout at the end, as
a table or, with --json, as one JSON object (figures in "extra", absent ones with the reason
in "unmeasured"). When a run fails after measuring something, the partial result is printed
before the error.`
	c.Example = `  moltzap bench connect --spawn --count 2000
  moltzap bench dm --spawn --count 2000 --concurrency 8
  moltzap bench fanout --spawn --group-size 50 --count 200 --json
  moltzap bench dm --url http://127.0.0.1:8080 --server-pid "$(pgrep -n moltzap-server)" --count 1000
  moltzap bench dm --url http://127.0.0.1:8081 --url http://127.0.0.1:8082 \
      --server-pid "$PID1" --server-pid "$PID2" --count 1000 --concurrency 8`
	return c
}

// benchOpts are the flags of one workload command.
type benchOpts struct {
	urls        []string // --url, then the nodes' HTTP bases (the first is BaseURL)
	spawn       bool
	serverBin   string // --moltzap-server, then the binary --spawn runs
	count       int
	duration    time.Duration
	concurrency int
	groupSize   int
	sourceAddrs []string
	serverPIDs  []int
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
	f.StringSliceVar(&o.urls, "url", nil, "server to load, http://HOST:PORT on a loopback address; repeat it or give a comma list for the nodes of a cluster, the sockets are spread over them round robin (default: the global --server)")
	f.BoolVar(&o.spawn, "spawn", false, "start a moltzap-server for the run (rate limits raised, fresh temporary SQLite store) and stop it afterwards")
	f.StringVar(&o.serverBin, "moltzap-server", "", "the moltzap-server binary --spawn runs (default: the one beside this binary, else on PATH)")
	f.IntVar(&o.count, "count", w.defCount, fmt.Sprintf("%s to complete, 1-%d", w.unit, benchMaxCount))
	f.DurationVar(&o.duration, "duration", benchDefaultDuration, "bound of the whole run, setup included (at most "+benchMaxDuration.String()+")")
	var concHelp, pidHelp string
	switch w.name {
	case "connect":
		concHelp = fmt.Sprintf("registrations and handshakes in flight (default %d)", loadgen.DefaultConnectConcurrency)
		pidHelp = "process id of the --url server, to report its CPU per connect and RSS per connection; repeat it for each node of a cluster, any order: summed (Linux; implied by --spawn)"
	case "dm":
		concHelp = "pairs sending in parallel (default 1)"
		pidHelp = "process id of the --url server, to report its CPU per message; repeat it for each node of a cluster, any order: summed (Linux; implied by --spawn)"
	default:
		concHelp = "messages in flight from the sender (default 1)"
		pidHelp = "process id of the --url server, to report its CPU per delivery; repeat it for each node of a cluster, any order: summed (Linux; implied by --spawn)"
	}
	f.IntVar(&o.concurrency, "concurrency", 0, concHelp)
	f.StringSliceVar(&o.sourceAddrs, "source-addr", nil, "loopback IPs the sockets bind to, in rotation, e.g. 127.0.0.2,127.0.0.3 (one allows ~28,000 connections)")
	f.IntSliceVar(&o.serverPIDs, "server-pid", nil, pidHelp)
	if w.name == "fanout" {
		f.IntVar(&o.groupSize, "group-size", loadgen.DefaultGroupSize, fmt.Sprintf("conversation members, sender included, 2-%d (--spawn raises the server's limit to fit)", benchMaxGroupSize))
	}
	for _, name := range []string{"url", "count", "duration", "concurrency", "source-addr", "server-pid", "group-size"} {
		if f.Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
		}
	}
	return cmd
}

// validate checks the flags and resolves the target URL (or, with --spawn, the server
// binary); every problem is a usage error.
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
			return usagef("--spawn and --url are mutually exclusive: --spawn starts a single server of its own (load a cluster with --url once per node)")
		}
		if fs.Changed("server-pid") {
			return usagef("--spawn and --server-pid are mutually exclusive: --spawn measures the server it starts")
		}
		bin, err := findServerBinary(o.serverBin)
		if err != nil {
			return err
		}
		o.serverBin = bin
		return nil
	}
	if fs.Changed("moltzap-server") {
		return usagef("--moltzap-server names the binary --spawn runs; it needs --spawn")
	}
	if err := o.checkPIDs(); err != nil {
		return err
	}
	return o.resolveURLs(cmd, a)
}

// checkPIDs checks the --server-pid values: process ids of running processes, none twice.
func (o *benchOpts) checkPIDs() error {
	seen := map[int]bool{}
	for _, pid := range o.serverPIDs {
		if pid <= 0 {
			return usagef("--server-pid %d: want a process id", pid)
		}
		if seen[pid] {
			return usagef("--server-pid %d is given twice", pid)
		}
		seen[pid] = true
		if _, err := loadgen.ProcessCPU(pid); err != nil {
			return usagef("--server-pid %d: %v", pid, err)
		}
	}
	return nil
}

// resolveURLs sets o.urls to the HTTP bases of the nodes to load: --url, else the global
// --server. Each must be a loopback URL, none given twice.
func (o *benchOpts) resolveURLs(cmd *cobra.Command, a *app) error {
	fs := cmd.Flags()
	src := "--url"
	raw := o.urls
	if !fs.Changed("url") {
		raw = a.servers
		switch {
		case fs.Changed("server"):
			src = "--server"
		case a.serverSet:
			src = envServer
		default:
			src = "--server (default)"
		}
	}
	o.urls = nil
	seen := map[string]string{}
	for _, u := range raw {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		base, err := benchBaseURL(u)
		if err != nil {
			return usagef("%s %q: %v", src, u, err)
		}
		if prev, dup := seen[base]; dup {
			return usagef("%s %q: the same node as %q; give each node once", src, u, prev)
		}
		seen[base] = u
		o.urls = append(o.urls, base)
	}
	if len(o.urls) == 0 {
		return usagef("%s: no server URL given", src)
	}
	return nil
}

// findServerBinary returns the moltzap-server binary --spawn runs: flag (--moltzap-server)
// when set, else the one beside this executable, else the one on PATH. Not finding it is a
// usage error naming --moltzap-server.
func findServerBinary(flag string) (string, error) {
	if flag != "" {
		if err := checkExecutable(flag); err != nil {
			return "", usagef("--moltzap-server %q: %v", flag, err)
		}
		return flag, nil
	}
	name := benchServerBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	var beside string
	if exe, err := os.Executable(); err == nil {
		beside = filepath.Join(filepath.Dir(exe), name)
		if checkExecutable(beside) == nil {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(benchServerBinary); err == nil {
		return p, nil
	}
	where := "on PATH"
	if beside != "" {
		where = fmt.Sprintf("at %s nor on PATH", beside)
	}
	return "", usagef("--spawn: no %s binary %s; build it (go build -o DIR ./cmd/moltzap-server) and pass --moltzap-server DIR/%s",
		benchServerBinary, where, name)
}

// checkExecutable reports why path is not a file this user may execute, or nil.
func checkExecutable(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return errors.New("is a directory")
	case runtime.GOOS != "windows" && st.Mode().Perm()&0o111 == 0:
		return errors.New("not executable")
	}
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

// benchNoPID is why the server figures are absent when bench knows no server process.
const benchNoPID = "no server process id: run with --spawn, or pass --server-pid PID of the --url server (one per node)"

// run runs the workload (on a spawned server with --spawn) and prints the result.
func (o *benchOpts) run(ctx context.Context, a *app, w benchWorkload) (err error) {
	urls, pids := o.urls, o.serverPIDs
	var srv *benchServer
	if o.spawn {
		srv, err = spawnBenchServer(ctx, o.serverBin, o.groupSize)
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
		urls, pids = []string{srv.url}, []int{srv.pid}
		fmt.Fprintf(a.stderr, "moltzap: bench: spawned server pid %d on %s (data %s, binary %s)\n", srv.pid, srv.url, srv.dir, srv.bin)
	} else if len(pids) > 0 && len(pids) != len(urls) {
		fmt.Fprintf(a.stderr, "moltzap: bench: note: %d --server-pid for %d nodes: the server figures sum exactly the processes given\n", len(pids), len(urls))
	}
	cfg := loadgen.Config{
		BaseURL:     urls[0],
		NodeURLs:    urls[1:],
		Count:       o.count,
		Duration:    o.duration,
		Concurrency: o.concurrency,
		SourceAddrs: o.sourceAddrs,
		ServerPIDs:  pids,
	}
	if w.name == "fanout" {
		cfg.GroupSize = o.groupSize
	}
	prog := newBenchProgress(a, w.name, w.unit)
	cfg.Progress = prog.update
	prog.start()
	res, err := w.run(ctx, cfg)
	prog.finish()
	if len(pids) == 0 {
		for k := range res.Unmeasured {
			res.Unmeasured[k] = benchNoPID
		}
	}
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

// benchServer is a moltzap-server child process.
type benchServer struct {
	cmd *exec.Cmd
	bin string     // the binary
	dir string     // its data directory (removed by stop)
	url string     // http://127.0.0.1:PORT
	pid int        // its process id
	log *serverLog // its stderr

	done    chan struct{} // closed once the child was reaped
	waitErr error         // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// benchServerArgs are the arguments of the spawned server: a free loopback port, the
// store in dir, rate limits raised for load, conversations of groupSize members allowed,
// a long outbound queue, and JSON logs (whose listening line gives the address).
func benchServerArgs(dir string, groupSize int) []string {
	rate := strconv.Itoa(benchServerRate)
	return []string{
		"--addr", "127.0.0.1:0",
		"--data", dir,
		"--messages-per-minute", rate,
		"--requests-per-minute", rate,
		"--max-group-participants", strconv.Itoa(max(benchServerMinGroup, groupSize)),
		"--write-queue", strconv.Itoa(benchServerWriteQueue),
		"--log-format", "json",
	}
}

// spawnBenchServer starts bin on a free loopback port with a fresh data directory and
// waits until /health answers. On error nothing is left behind.
func spawnBenchServer(ctx context.Context, bin string, groupSize int) (*benchServer, error) {
	dir, err := os.MkdirTemp("", "moltzap-bench-")
	if err != nil {
		return nil, fmt.Errorf("spawn: temporary directory: %w", err)
	}
	addrc := make(chan string, 1)
	s := &benchServer{bin: bin, dir: dir, log: &serverLog{tail: tailBuffer{max: 8 << 10}, found: addrc}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, benchServerArgs(dir, groupSize)...)
	s.cmd.Stdout = &s.log.tail
	s.cmd.Stderr = s.log
	s.cmd.Env = benchChildEnv()
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn %s: %w", bin, err)
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
		err := fmt.Errorf("spawned server %s (pid %d) %s", s.bin, s.pid, what)
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
		return failed(fmt.Sprintf("did not log %q within %s", benchListeningMsg, benchSpawnTimeout))
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !loadgen.IsLoopbackHost(host) {
		return failed(fmt.Sprintf("listens on %q, not a loopback host:port", addr))
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

// stop ends the child: SIGTERM (a kill where there is no SIGTERM), a kill after
// benchStopTimeout; then removes its data directory. It is idempotent.
func (s *benchServer) stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if exited, _ := s.exited(); !exited {
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
				_ = s.cmd.Process.Kill() // no SIGTERM (Windows)
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
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove the spawned server's data directory: %w", err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// benchChildEnv is the environment without the MOLTZAP_ variables: moltzap-server reads
// one for each of its flags (MOLTZAP_ADMIN_SECRET, ...), which must not change the server
// bench measures.
func benchChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MOLTZAP_") {
			env = append(env, kv)
		}
	}
	return env
}

// serverLog is the spawned server's stderr: it keeps the last bytes of it (for error
// messages) and sends the address of the first JSON log line
// {"msg":"moltzap server listening","addr":...} to found. Write is called by one
// goroutine at a time (exec's copier).
type serverLog struct {
	tail  tailBuffer
	found chan<- string // buffered: receives one address
	buf   []byte        // the line being assembled
	sent  bool
}

func (l *serverLog) Write(p []byte) (int, error) {
	_, _ = l.tail.Write(p)
	if l.sent {
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) > 64<<10 {
				l.buf = l.buf[:0] // not a log line of ours
			}
			return len(p), nil
		}
		addr, ok := listeningAddr(l.buf[:i])
		l.buf = l.buf[i+1:]
		if ok {
			l.sent, l.buf = true, nil
			l.found <- addr
			return len(p), nil
		}
	}
}

// String returns the end of the log.
func (l *serverLog) String() string { return l.tail.String() }

// listeningAddr returns the "addr" of a JSON log line whose "msg" is benchListeningMsg.
func listeningAddr(line []byte) (string, bool) {
	var rec struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &rec); err != nil || rec.Msg != benchListeningMsg || rec.Addr == "" {
		return "", false
	}
	return rec.Addr, true
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

// Package clustertest runs a MoltZap cluster for tests of the clients' failover: several
// moltzap-server processes (built from this module) on one fresh PostgreSQL schema, each
// of which a test can kill with SIGKILL. PostgreSQL must be running (at
// MOLTZAP_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test): a test
// using the package fails, never skips, when it is not. Only tests import this package.
package clustertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// DatabaseURL is the PostgreSQL the tests use: MOLTZAP_TEST_DATABASE_URL, else the local
// default.
func DatabaseURL() string {
	if u := os.Getenv("MOLTZAP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// FreshSchema creates an empty schema and returns a --database-url selecting it; the schema
// is dropped at cleanup. It fails the test when PostgreSQL cannot be reached.
func FreshSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, DatabaseURL())
	if err != nil {
		t.Fatalf("PostgreSQL is required at %s (start it, e.g. with .ci/run, or set MOLTZAP_TEST_DATABASE_URL): %v", DatabaseURL(), err)
	}
	defer conn.Close(ctx)
	schema := "t_failover_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, DatabaseURL()); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(DatabaseURL(), "?") {
		sep = "&"
	}
	return DatabaseURL() + sep + "search_path=" + schema
}

// BuildServer builds cmd/moltzap-server into a temporary directory and returns its path.
func BuildServer(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "moltzap-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/moltzap/moltzap-go/cmd/moltzap-server").CombinedOutput()
	if err != nil {
		t.Fatalf("build moltzap-server: %v\n%s", err, out)
	}
	return bin
}

// Cluster is a set of server nodes sharing one PostgreSQL schema.
type Cluster struct {
	// DatabaseURL is the --database-url of every node.
	DatabaseURL string
	// Nodes are the servers, in start order.
	Nodes []*Node
}

// Node is one moltzap-server process.
type Node struct {
	// URL is the node's http://127.0.0.1:port base URL.
	URL string

	t      testing.TB
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
	once   sync.Once
}

// Start builds the server and starts n nodes on a fresh schema; they are stopped (and
// their logs shown when the test failed) at cleanup.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{DatabaseURL: FreshSchema(t)} // first: no PostgreSQL fails before the build
	bin := BuildServer(t)
	for i := range n {
		c.Nodes = append(c.Nodes, startNode(t, bin, c.DatabaseURL, i+1))
	}
	return c
}

// URLs returns the base URLs of every node, in order.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.URL
	}
	return out
}

// Register registers an agent named after prefix over HTTP on node i.
func (c *Cluster) Register(t testing.TB, i int, prefix string) client.Registration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := prefix + "-" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	reg, err := client.RegisterAgent(ctx, c.Nodes[i].URL, name, client.RegisterOptions{})
	if err != nil {
		t.Fatalf("register %s on node %d: %v", name, i+1, err)
	}
	return reg
}

func startNode(t testing.TB, bin, dbURL string, number int) *Node {
	t.Helper()
	addr := freeAddr(t)
	n := &Node{URL: "http://" + addr, t: t, log: &syncBuffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(bin, "--addr", addr, "--database-url", dbURL, "--data", t.TempDir(),
		"--log-format", "text", "--log-level", "info")
	n.cmd.Env = cleanEnv()
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start node %d: %v", number, err)
	}
	go func() {
		_ = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("node %d (%s) log:\n%s", number, n.URL, n.log.String())
		}
	})
	n.waitHealthy(number)
	return n
}

// waitHealthy waits for /healthz to answer 200.
func (n *Node) waitHealthy(number int) {
	n.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-n.exited:
			n.t.Fatalf("node %d exited at start:\n%s", number, n.log.String())
		default:
		}
		if resp, err := http.Get(n.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	n.t.Fatalf("node %d (%s) never became healthy:\n%s", number, n.URL, n.log.String())
}

// Kill ends the node with SIGKILL (no graceful shutdown, no close frames: its clients see
// their sockets end abruptly) and waits for the process to exit.
func (n *Node) Kill() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		select {
		case <-n.exited:
			return
		default:
		}
		n.t.Fatalf("kill %s: %v", n.URL, err)
	}
	<-n.exited
}

// stop terminates the node gracefully (SIGTERM, then SIGKILL after 10 s).
func (n *Node) stop() {
	n.once.Do(func() {
		select {
		case <-n.exited:
			return
		default:
		}
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	})
}

// Log returns what the node has written so far.
func (n *Node) Log() string { return n.log.String() }

// cleanEnv is the environment without MOLTZAP_* variables, which the server reads as flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MOLTZAP_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free address: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the process's writers and the test's readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// String describes the cluster for failure messages.
func (c *Cluster) String() string {
	return fmt.Sprintf("cluster of %d nodes %v", len(c.Nodes), c.URLs())
}

package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/storetest"
)

// defaultTestURL is the database the tests use unless MOLTZAP_TEST_DATABASE_URL names
// another one.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testMaxConns bounds each test store's pool, so parallel subtests stay well below the
// server's max_connections.
const testMaxConns = 4

// testURL returns the base URL of the test database.
func testURL() string {
	if u := os.Getenv("MOLTZAP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

// redactedURL returns u without its password.
func redactedURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return "(unparsable URL)"
}

// admin runs statements on the test database outside any store, failing the test loudly
// when PostgreSQL cannot be reached.
func admin(t testing.TB, ctx context.Context, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s: %v\n"+
			"These tests need a PostgreSQL server with a database named test. Start one, e.g.\n"+
			"  docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16\n"+
			"or point MOLTZAP_TEST_DATABASE_URL at a database the tests may create schemas in.",
			redactedURL(testURL()), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// schemaName returns a new random schema name.
func schemaName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t_" + hex.EncodeToString(b)
}

// dropAtCleanup drops schema (if it exists) when the test ends.
func dropAtCleanup(t testing.TB, schema string) {
	t.Cleanup(func() { admin(t, context.Background(), "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE") })
}

// freshSchema creates an empty schema for one test and drops it when the test ends
// (after the stores registered later are closed).
func freshSchema(t testing.TB) string {
	t.Helper()
	schema := schemaName(t)
	admin(t, t.Context(), "CREATE SCHEMA "+quoteIdent(schema))
	dropAtCleanup(t, schema)
	return schema
}

// newStore opens a store on schema; the caller closes it.
func newStore(t testing.TB, schema string) *Store {
	t.Helper()
	s, err := Open(t.Context(), testURL(), Options{Schema: schema, MaxConns: testMaxConns})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openStore opens a store on schema, closed when the test ends.
func openStore(t testing.TB, schema string) *Store {
	t.Helper()
	s := newStore(t, schema)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, freshSchema(t)) })
}

// newID returns a fresh UUIDv7 as an id of type T.
func newID[T ~string]() T { return T(uuid.Must(uuid.NewV7()).String()) }

// seed stores an agent, a task and a conversation and returns their ids.
func seed(t testing.TB, s *Store) (protocol.AgentID, protocol.ConversationID) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	agent, task, conv := newID[protocol.AgentID](), newID[protocol.TaskID](), newID[protocol.ConversationID]()
	if _, err := s.CreateAgent(ctx, store.Agent{ID: agent, Name: protocol.AgentName("agent-" + agent[len(agent)-8:]),
		Status: protocol.AgentStatusActive, APIKeyID: string(agent[len(agent)-16:]),
		APIKeySecretHash: strings.Repeat("0", 64), CreatedAt: now}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if _, err := s.CreateTask(ctx, store.Task{ID: task, AppID: newID[protocol.AppID](), InitiatorAgentID: agent,
		CreatedAt: now}, []protocol.AgentID{agent}); err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	if _, err := s.CreateConversation(ctx, store.Conversation{ID: conv, TaskID: task, Type: protocol.ConversationTypeGroup,
		CreatedBy: agent, CreatedAt: now}, []protocol.AgentID{agent}); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	return agent, conv
}

// message returns a message of conv from agent (not stored).
func message(agent protocol.AgentID, conv protocol.ConversationID, text string) store.Message {
	return store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent,
		Parts: fmt.Appendf(nil, `[{"type":"text","text":%q}]`, text), CreatedAt: time.Now()}
}

// TestMultiNodeAppend: several stores with their own pools (separate server nodes)
// append to one conversation at once; the seqs handed out are exactly 1..N, each once,
// and the history holds every message under its seq.
func TestMultiNodeAppend(t *testing.T) {
	const nodes, writersPerNode, perWriter = 4, 4, 25
	schema := freshSchema(t)
	stores := make([]*Store, nodes)
	for i := range stores {
		stores[i] = openStore(t, schema)
	}
	agent, conv := seed(t, stores[0])

	var (
		mu    sync.Mutex
		bySeq = map[int64]protocol.MessageID{}
		wg    sync.WaitGroup
	)
	for n, s := range stores {
		for w := range writersPerNode {
			wg.Go(func() {
				for i := range perWriter {
					m, err := s.AppendMessage(t.Context(), message(agent, conv, fmt.Sprintf("n%d-w%d-%d", n, w, i)))
					if err != nil {
						t.Errorf("node %d writer %d: %v", n, w, err)
						return
					}
					mu.Lock()
					if prev, dup := bySeq[m.Seq]; dup {
						t.Errorf("seq %d assigned to %s and %s", m.Seq, prev, m.ID)
					}
					bySeq[m.Seq] = m.ID
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const total = nodes * writersPerNode * perWriter
	for seq := int64(1); seq <= total; seq++ {
		if _, ok := bySeq[seq]; !ok {
			t.Fatalf("seq %d never assigned (%d seqs for %d appends)", seq, len(bySeq), total)
		}
	}
	if len(bySeq) != total {
		t.Fatalf("%d seqs for %d appends", len(bySeq), total)
	}
	// Another node reads the whole history: 1..N in order, each under the id it was
	// handed to.
	reader := stores[nodes-1]
	var (
		got   []store.Message
		since = new(int64)
	)
	for {
		page, more, err := reader.ListMessages(t.Context(), conv, store.MessageViewer{SeesAll: true}, since, 100)
		if err != nil {
			t.Fatalf("ListMessages: %v", err)
		}
		got = append(got, page...)
		if !more {
			break
		}
		*since = page[len(page)-1].Seq
	}
	if len(got) != total {
		t.Fatalf("history has %d messages, want %d", len(got), total)
	}
	for i, m := range got {
		if m.Seq != int64(i+1) || bySeq[m.Seq] != m.ID {
			t.Fatalf("history[%d] = seq %d id %s, want seq %d id %s", i, m.Seq, m.ID, i+1, bySeq[int64(i+1)])
		}
	}
}

// TestFailedAppendKeepsSeqsGapFree: an append that fails after taking a seq (unknown
// sender, unknown reply target, taken id) gives the seq back.
func TestFailedAppendKeepsSeqsGapFree(t *testing.T) {
	s := openStore(t, freshSchema(t))
	agent, conv := seed(t, s)
	first, err := s.AppendMessage(t.Context(), message(agent, conv, "one"))
	if err != nil {
		t.Fatal(err)
	}
	for what, mutate := range map[string]func(*store.Message){
		"unknown sender": func(m *store.Message) { m.SenderID = newID[protocol.AgentID]() },
		"unknown reply":  func(m *store.Message) { m.ReplyToID = newID[protocol.MessageID]() },
		"taken id":       func(m *store.Message) { m.ID = first.ID },
	} {
		m := message(agent, conv, what)
		mutate(&m)
		if _, err := s.AppendMessage(t.Context(), m); err == nil {
			t.Fatalf("%s: append succeeded", what)
		}
	}
	second, err := s.AppendMessage(t.Context(), message(agent, conv, "two"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || second.Seq != 2 {
		t.Fatalf("seqs %d, %d; want 1, 2", first.Seq, second.Seq)
	}
}

// TestConcurrentOpenMigrates: stores opening at once on a fresh schema (nodes starting
// together) all succeed and the migrations are applied once. With Options.Schema naming
// a missing schema, Open creates it, once.
func TestConcurrentOpenMigrates(t *testing.T) {
	for name, create := range map[string]bool{"existing empty schema": true, "missing schema": false} {
		t.Run(name, func(t *testing.T) {
			var schema string
			if create {
				schema = freshSchema(t)
			} else {
				schema = schemaName(t)
				dropAtCleanup(t, schema)
			}
			const n = 6
			var (
				wg     sync.WaitGroup
				stores = make([]*Store, n)
				errs   = make([]error, n)
				start  = make(chan struct{})
			)
			for i := range n {
				wg.Go(func() {
					<-start
					stores[i], errs[i] = Open(t.Context(), testURL(), Options{Schema: schema, MaxConns: 2})
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open #%d: %v", i, err)
					continue
				}
				t.Cleanup(func() { stores[i].Close() })
			}
			if t.Failed() {
				return
			}
			ms, err := loadMigrations(migrationFS)
			if err != nil {
				t.Fatal(err)
			}
			var versions []int
			rows, err := stores[0].pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
			if err == nil {
				versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
			}
			if err != nil {
				t.Fatalf("read schema_migrations: %v", err)
			}
			if len(versions) != len(ms) || versions[len(versions)-1] != ms[len(ms)-1].Version {
				t.Fatalf("schema_migrations = %v, want one row per migration (%d)", versions, len(ms))
			}
			// Every node works on the shared tables.
			agent, conv := seed(t, stores[0])
			for i, s := range stores {
				m, err := s.AppendMessage(t.Context(), message(agent, conv, "hi"))
				if err != nil || m.Seq != int64(i+1) {
					t.Fatalf("node %d: seq %d, %v", i, m.Seq, err)
				}
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	schema := freshSchema(t)
	s := newStore(t, schema)
	agent, conv := seed(t, s)
	var last store.Message
	for i := range 3 {
		var err error
		if last, err = s.AppendMessage(t.Context(), message(agent, conv, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetMessageDecision(t.Context(), last.ID, store.Decision{Tag: store.DecisionForward,
		Recipients: []protocol.AgentID{agent}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, schema) // migrations already applied: a no-op
	got, err := s.GetMessage(t.Context(), last.ID)
	if err != nil {
		t.Fatalf("GetMessage after reopen: %v", err)
	}
	if got.Seq != 3 || string(got.Parts) != string(last.Parts) || got.Decision.Tag != store.DecisionForward {
		t.Fatalf("after reopen: %+v", got)
	}
	next, err := s.AppendMessage(t.Context(), message(agent, conv, "after"))
	if err != nil || next.Seq != 4 {
		t.Fatalf("append after reopen: seq %d, %v", next.Seq, err)
	}
}

// TestSearchPathFromURL: without Options.Schema the URL's search_path selects the schema.
func TestSearchPathFromURL(t *testing.T) {
	schema := freshSchema(t)
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := Open(t.Context(), u.String(), Options{MaxConns: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	var where *string
	if err := s.pool.QueryRow(t.Context(), `SELECT to_regclass($1)::text`, schema+".agents").Scan(&where); err != nil {
		t.Fatal(err)
	}
	if where == nil {
		t.Fatalf("table agents not created in schema %s", schema)
	}
	seed(t, s)

	// A search_path naming no existing schema is refused with a clear error.
	q.Set("search_path", schemaName(t))
	u.RawQuery = q.Encode()
	if s, err := Open(t.Context(), u.String(), Options{MaxConns: 1}); err == nil {
		s.Close()
		t.Fatal("Open with a search_path of missing schemas succeeded")
	} else if !strings.Contains(err.Error(), "no schema") {
		t.Fatalf("Open with a search_path of missing schemas: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.Context(), "postgres://%zz", Options{}); err == nil {
		t.Fatal("Open accepted a malformed URL")
	}
	// Nothing listens on port 1: Open fails instead of returning an unusable store.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if s, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5", Options{}); err == nil {
		s.Close()
		t.Fatal("Open on a closed port succeeded")
	}
}

func TestMigrationNewerSchemaRefused(t *testing.T) {
	schema := freshSchema(t)
	s := openStore(t, schema)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(t.Context(), testURL(), Options{Schema: schema, MaxConns: 1}); err == nil || !strings.Contains(err.Error(), "newer") {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("older program on a newer schema: %v", err)
	}
}

// rawPool opens a pool on the test database with search_path schema, without migrating.
func rawPool(t testing.TB, schema string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = quoteIdent(schema)
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestMigrationFailureRollsBack(t *testing.T) {
	schema := freshSchema(t)
	pool := rawPool(t, schema)
	ms := []migration{
		{Version: 1, Name: "0001_ok.sql", SQL: `CREATE TABLE a (x INTEGER)`},
		{Version: 2, Name: "0002_bad.sql", SQL: `CREATE TABLE b (x INTEGER); THIS IS NOT SQL`},
	}
	if err := applyMigrations(t.Context(), pool, schema, ms); err == nil {
		t.Fatal("a broken migration applied")
	}
	tables := func() []string {
		t.Helper()
		rows, err := pool.Query(t.Context(), `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, schema)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	if left := tables(); len(left) != 0 {
		t.Fatalf("tables left by a failed migration run: %v", left)
	}
	// The good one alone applies, once.
	for range 2 {
		if err := applyMigrations(t.Context(), pool, schema, ms[:1]); err != nil {
			t.Fatalf("applyMigrations: %v", err)
		}
	}
	if got := tables(); !slices.Equal(got, []string{"a", "schema_migrations"}) {
		t.Fatalf("tables = %v", got)
	}
}

func TestLoadMigrationsNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number": {"migrations/init.sql": {Data: []byte("SELECT 1")}},
		"zero":      {"migrations/0000_init.sql": {Data: []byte("SELECT 1")}},
		"duplicate": {"migrations/0001_a.sql": {Data: []byte("SELECT 1")}, "migrations/01_b.sql": {Data: []byte("SELECT 1")}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ms, err := loadMigrations(fstest.MapFS{
		"migrations/0010_b.sql":   {Data: []byte("B")},
		"migrations/0002_a.sql":   {Data: []byte("A")},
		"migrations/README.md":    {Data: []byte("ignored")},
		"migrations/sub/0003.sql": {Data: []byte("ignored")},
	})
	if err != nil || len(ms) != 2 || ms[0].Version != 2 || ms[1].Version != 10 {
		t.Fatalf("loadMigrations = %+v, %v", ms, err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := openStore(t, freshSchema(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.GetAgent(ctx, newID[protocol.AgentID]()); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetAgent with a canceled context: %v", err)
	}
	if _, err := s.CreateAgent(ctx, store.Agent{ID: newID[protocol.AgentID](), Name: "x", Status: protocol.AgentStatusActive,
		APIKeyID: "k", APIKeySecretHash: "h"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateAgent with a canceled context: %v", err)
	}
	agent, conv := seed(t, s)
	if _, err := s.AppendMessage(ctx, message(agent, conv, "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendMessage with a canceled context: %v", err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestUnstorableText: strings PostgreSQL text cannot hold (NUL bytes, invalid UTF-8)
// match nothing in lookups and are refused as invalid in writes.
func TestUnstorableText(t *testing.T) {
	s := openStore(t, freshSchema(t))
	ctx := t.Context()
	agent, conv := seed(t, s)
	a, err := s.GetAgent(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"nul\x00name", "bad\xffutf8"}
	got, err := s.GetAgentsByNames(ctx, append(slices.Clone(bad), string(a.Name)))
	if err != nil || len(got) != 1 || got[0].ID != agent {
		t.Fatalf("GetAgentsByNames with unstorable names = %+v, %v", got, err)
	}
	for _, b := range bad {
		if _, err := s.GetAgentByName(ctx, protocol.AgentName(b)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetAgentByName(%q): %v", b, err)
		}
		if _, err := s.GetAgentByKeyID(ctx, b); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetAgentByKeyID(%q): %v", b, err)
		}
		if _, _, err := s.ClaimAgent(ctx, b, "owner", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ClaimAgent(%q): %v", b, err)
		}
		if _, err := s.GetMessage(ctx, protocol.MessageID(b)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetMessage(%q): %v", b, err)
		}
		ms, _, err := s.ListMessages(ctx, conv, store.MessageViewer{AgentID: protocol.AgentID(b)}, nil, 10)
		if err != nil || len(ms) != 0 {
			t.Fatalf("ListMessages as %q: %d, %v", b, len(ms), err)
		}
		in := store.Agent{ID: newID[protocol.AgentID](), Name: "fine-" + protocol.AgentName(newID[string]()[24:]),
			Description: b, Status: protocol.AgentStatusActive, APIKeyID: newID[string]()[24:], APIKeySecretHash: "h"}
		if _, err := s.CreateAgent(ctx, in); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("CreateAgent with description %q: %v", b, err)
		}
		m := message(agent, conv, "x")
		m.Parts = []byte(b) // parts are opaque bytes: anything goes
		if _, err := s.AppendMessage(ctx, m); err != nil {
			t.Fatalf("AppendMessage with parts %q: %v", b, err)
		}
	}
}

// TestTimesNormalised: times in any zone with nanoseconds come back in UTC, truncated to
// microseconds, from the write and from a read.
func TestTimesNormalised(t *testing.T) {
	s := openStore(t, freshSchema(t))
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, zone)
	want := time.Date(2026, 3, 1, 6, 30, 0, 123456000, time.UTC)
	in := store.Agent{ID: newID[protocol.AgentID](), Name: "zoned", Status: protocol.AgentStatusActive,
		APIKeyID: "0123456789abcdef", APIKeySecretHash: "h", CreatedAt: at}
	got, err := s.CreateAgent(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.GetAgent(t.Context(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	for what, v := range map[string]time.Time{"created": got.CreatedAt, "updated": got.UpdatedAt,
		"stored created": back.CreatedAt, "stored updated": back.UpdatedAt} {
		if v != want {
			t.Errorf("%s = %v (%s), want %v", what, v, v.Location(), want)
		}
	}
}

func TestMapErr(t *testing.T) {
	for code, want := range map[string]error{
		"23505": store.ErrConflict,
		"23503": store.ErrNotFound,
		"23514": store.ErrInvalid,
		"23502": store.ErrInvalid,
		"22021": store.ErrInvalid,
		"22008": store.ErrInvalid,
	} {
		pe := &pgconn.PgError{Code: code, Message: "m"}
		err := mapErr(fmt.Errorf("ctx: %w", pe))
		if !errors.Is(err, want) {
			t.Errorf("code %s: %v, want %v", code, err, want)
		}
		var back *pgconn.PgError
		if !errors.As(err, &back) || back != pe {
			t.Errorf("code %s: PgError lost from the chain", code)
		}
	}
	other := &pgconn.PgError{Code: "42P01"}
	if err := mapErr(other); err != error(other) {
		t.Errorf("unmapped code changed: %v", err)
	}
	already := fmt.Errorf("x: %w: %w", store.ErrNotFound, &pgconn.PgError{Code: "23505"})
	if err := mapErr(already); errors.Is(err, store.ErrConflict) {
		t.Errorf("an already mapped error was mapped again: %v", err)
	}
	if mapErr(nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}

func TestCursorBounds(t *testing.T) {
	for _, v := range []string{"9223372036854775807", "-9223372036854775808", "x"} {
		if _, err := cursorTime(v); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursorTime(%s): %v", v, err)
		}
	}
	if _, err := cursorText("a\x00b"); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("cursorText with NUL: %v", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	if got, err := cursorTime(encodeMicro(at)); err != nil || !got.Equal(at) {
		t.Errorf("cursor time round trip = %v, %v", got, err)
	}
}

// TestGroupCommitAcrossNodesAndFailures: two nodes append at once to four conversations,
// each node walking them in the opposite order (their batches lock the conversations they
// share), and every fifth append has an unknown sender. The failing appends fail alone,
// with ErrNotFound; every other one is stored, and each conversation's seqs are exactly
// 1..n.
func TestGroupCommitAcrossNodesAndFailures(t *testing.T) {
	schema := freshSchema(t)
	nodes := []*Store{openStore(t, schema), openStore(t, schema)}
	type conv struct {
		agent protocol.AgentID
		id    protocol.ConversationID
	}
	var convs []conv
	for range 4 {
		a, c := seed(t, nodes[0])
		convs = append(convs, conv{a, c})
	}
	const writers, perWriter = 12, 20
	var (
		mu   sync.Mutex
		seqs = map[protocol.ConversationID][]int64{}
		wg   sync.WaitGroup
	)
	for n, s := range nodes {
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					k := (w + i) % len(convs)
					if n == 1 {
						k = len(convs) - 1 - k
					}
					m := message(convs[k].agent, convs[k].id, fmt.Sprintf("n%d-w%d-%d", n, w, i))
					bad := i%5 == 4
					if bad {
						m.SenderID = newID[protocol.AgentID]()
					}
					got, err := s.AppendMessage(t.Context(), m)
					switch {
					case bad && !errors.Is(err, store.ErrNotFound):
						t.Errorf("append with an unknown sender: %v, want ErrNotFound", err)
					case !bad && err != nil:
						t.Errorf("node %d writer %d append %d: %v", n, w, i, err)
					case !bad:
						mu.Lock()
						seqs[got.ConversationID] = append(seqs[got.ConversationID], got.Seq)
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	total := 0
	for id, s := range seqs {
		slices.Sort(s)
		for i, v := range s {
			if v != int64(i+1) {
				t.Fatalf("conversation %s: seqs %v, want 1..%d without gaps", id, s, len(s))
			}
		}
		total += len(s)
	}
	if want := len(nodes) * writers * perWriter * 4 / 5; total != want {
		t.Fatalf("%d messages stored, want %d", total, want)
	}
}

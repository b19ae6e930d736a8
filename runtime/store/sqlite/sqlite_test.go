package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), t.TempDir())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// newID returns a fresh UUIDv7 as an id of type T.
func newID[T ~string]() T { return T(uuid.Must(uuid.NewV7()).String()) }

// seed stores an agent, a task and a conversation and returns their ids.
func seed(t testing.TB, ctx context.Context, s *Store) (agent protocol.AgentID, task protocol.TaskID, conv protocol.ConversationID) {
	t.Helper()
	now := time.Now().UTC()
	agent, task, conv = newID[protocol.AgentID](), newID[protocol.TaskID](), newID[protocol.ConversationID]()
	if _, err := s.CreateAgent(ctx, store.Agent{ID: agent, Name: protocol.AgentName("agent-" + agent[len(agent)-8:]), Status: protocol.AgentStatusActive,
		APIKeyID: string(agent[len(agent)-16:]), APIKeySecretHash: strings.Repeat("0", 64), CreatedAt: now}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if _, err := s.CreateTask(ctx, store.Task{ID: task, AppID: newID[protocol.AppID](), InitiatorAgentID: agent, CreatedAt: now}, []protocol.AgentID{agent}); err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	if _, err := s.CreateConversation(ctx, store.Conversation{ID: conv, TaskID: task, Type: protocol.ConversationTypeGroup,
		CreatedBy: agent, CreatedAt: now}, []protocol.AgentID{agent}); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	return agent, task, conv
}

func TestOpenCreatesDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode string
	if err := s.w.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	var fk int
	if err := s.r.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("reader foreign_keys = %d, %v", fk, err)
	}
	for _, p := range []struct {
		pragma string
		want   int
	}{{"foreign_keys", 1}, {"synchronous", 1 /* NORMAL */}, {"temp_store", 2 /* MEMORY */}, {"wal_autocheckpoint", walAutocheckpointPages}} {
		var got int
		if err := s.w.QueryRowContext(t.Context(), `PRAGMA `+p.pragma).Scan(&got); err != nil || got != p.want {
			t.Fatalf("writer %s = %d, %v; want %d", p.pragma, got, err, p.want)
		}
	}
	if _, err := s.r.ExecContext(t.Context(), `DELETE FROM agents`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}

func TestOpenFailsOnUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), file); err == nil {
		t.Fatal("Open on a regular file succeeded")
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	agent, _, conv := seed(t, ctx, s)
	var last store.Message
	for i := range 3 {
		last, err = s.AppendMessage(ctx, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent,
			Parts: []byte(`[{"type":"text","text":"hi"}]`), CreatedAt: time.Now().Add(time.Duration(i) * time.Millisecond)})
		if err != nil {
			t.Fatalf("AppendMessage: %v", err)
		}
	}
	if _, err := s.SetMessageDecision(ctx, last.ID, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{agent}}); err != nil {
		t.Fatalf("SetMessageDecision: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetMessage(ctx, last.ID)
	if err != nil {
		t.Fatalf("GetMessage after reopen: %v", err)
	}
	if got.Seq != last.Seq || string(got.Parts) != string(last.Parts) || got.Decision.Tag != store.DecisionForward {
		t.Fatalf("after reopen: %+v", got)
	}
	next, err := s.AppendMessage(ctx, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent,
		Parts: []byte(`[]`), CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("AppendMessage after reopen: %v", err)
	}
	if next.Seq <= last.Seq {
		t.Fatalf("seq after reopen = %d, last before %d", next.Seq, last.Seq)
	}
}

// TestDurableWithoutClose checks that a committed message is in the
// database files even when the store is never closed (a crashed process):
// a second, independent store on the same directory reads it.
func TestDurableWithoutClose(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	agent, _, conv := seed(t, ctx, s)
	m, err := s.AppendMessage(ctx, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent,
		Parts: []byte(`[1]`), CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	// A crashed process's flock is released by the kernel; its connections are simply gone.
	if err := s.lock.Close(); err != nil {
		t.Fatal(err)
	}
	s.lock = nil
	other, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer other.Close()
	if _, err := other.GetMessage(ctx, m.ID); err != nil {
		t.Fatalf("message not visible to another connection: %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for i := range 3 {
		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		var n, version int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &version); err != nil {
			t.Fatalf("schema_migrations: %v", err)
		}
		ms, err := loadMigrations(migrationFS)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(ms) || version != ms[len(ms)-1].Version {
			t.Fatalf("open #%d: %d migrations recorded (max %d), want %d", i, n, version, len(ms))
		}
		if i == 0 {
			seed(t, ctx, s)
		}
		var agents int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM agents`).Scan(&agents); err != nil || agents != 1 {
			t.Fatalf("open #%d: %d agents, %v", i, agents, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// openRaw opens a plain write pool on a fresh database in dir.
func openRaw(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openPool(t.Context(), filepath.Join(t.TempDir(), FileName), false, 1)
	if err != nil {
		t.Fatalf("openPool: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrationFailureRollsBack(t *testing.T) {
	db := openRaw(t)
	ms := []migration{
		{Version: 1, Name: "0001_ok.sql", SQL: `CREATE TABLE a (x INTEGER)`},
		{Version: 2, Name: "0002_bad.sql", SQL: `CREATE TABLE b (x INTEGER); THIS IS NOT SQL`},
	}
	if err := applyMigrations(t.Context(), db, ms); err == nil {
		t.Fatal("a broken migration applied")
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sqlite_master WHERE name IN ('a', 'b', 'schema_migrations')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d objects left by a failed migration run", n)
	}
	// The good one alone applies, once.
	for range 2 {
		if err := applyMigrations(t.Context(), db, ms[:1]); err != nil {
			t.Fatalf("applyMigrations: %v", err)
		}
	}
}

func TestMigrationNewerSchemaRefused(t *testing.T) {
	db := openRaw(t)
	ms := []migration{{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE a (x INTEGER)`},
		{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (x INTEGER)`}}
	if err := applyMigrations(t.Context(), db, ms); err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(t.Context(), db, ms[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older program on a newer schema: %v", err)
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
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.GetAgent(ctx, newID[protocol.AgentID]()); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetAgent with a canceled context: %v", err)
	}
	if _, err := s.CreateAgent(ctx, store.Agent{ID: newID[protocol.AgentID](), Name: "x", Status: protocol.AgentStatusActive,
		APIKeyID: "k", APIKeySecretHash: "h"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateAgent with a canceled context: %v", err)
	}
}

// TestTextDest: the reflection-free scan destination of ids takes TEXT as a string or
// bytes and refuses NULL and other types, as database/sql does for a *string.
func TestTextDest(t *testing.T) {
	var id protocol.AgentID
	for _, src := range []any{"a1", []byte("a1")} {
		id = ""
		if err := text(&id).Scan(src); err != nil || id != "a1" {
			t.Fatalf("Scan(%T) = %q, %v", src, id, err)
		}
	}
	for _, src := range []any{nil, int64(1)} {
		if err := text(&id).Scan(src); err == nil {
			t.Fatalf("Scan(%T) accepted", src)
		}
	}
}

// Package sqlite is the embedded default implementation of store.Store on
// SQLite (modernc.org/sqlite, pure Go).
//
// The database lives in one file (moltzap.db) in WAL mode. Writes go through
// a pool of exactly one connection whose transactions begin IMMEDIATE, so
// writers queue inside the process instead of failing with SQLITE_BUSY;
// reads use a separate pool of query-only connections that run concurrently
// with the writer. A transaction's commit returns only once it is in the
// WAL, so committed data survives a process crash (synchronous=NORMAL).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/moltzap/moltzap-go/runtime/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the name of the database file inside the store directory.
const FileName = "moltzap.db"

// busyTimeoutMs bounds how long a connection waits for a lock held by
// another connection (a checkpoint, another process) before SQLITE_BUSY.
const busyTimeoutMs = 10000

// walAutocheckpointPages is the writer's wal_autocheckpoint (see openPool).
const walAutocheckpointPages = 4000

// Store is a store.Store backed by a SQLite database file.
type Store struct {
	w    *pool    // exactly one connection: every write transaction
	r    *pool    // query-only connections for reads
	st   *stmts   // prepared hot-path statements
	lock *os.File // the data directory's lock, held until Close

	appends *appender // group commit of AppendMessage
}

var _ store.Store = (*Store)(nil)

// Open creates dir if needed, locks it (a second Open of the same directory, in this or
// another process, fails with ErrLocked naming the holder), opens (or creates)
// dir/moltzap.db and applies the pending migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite store: create directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	s, err := open(ctx, filepath.Join(dir, FileName))
	if err != nil {
		return nil, errors.Join(err, lock.Close())
	}
	s.lock = lock
	return s, nil
}

// open opens the pools on the database file path and applies the migrations.
func open(ctx context.Context, path string) (*Store, error) {
	w, err := openPool(ctx, path, false, 1)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open write pool: %w", err)
	}
	if err := migrate(ctx, w); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite store: migrate: %w", err), w.Close())
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	r, err := openPool(ctx, path, true, readers)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite store: open read pool: %w", err), w.Close())
	}
	st, err := prepareStmts(ctx, w, r)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite store: %w", err), r.Close(), w.Close())
	}
	s := &Store{w: newPool(w), r: newPool(r), st: st}
	s.appends = newAppender(s)
	return s, nil
}

// openPool opens a pool of at most n connections on path, all kept open.
func openPool(ctx context.Context, path string, readOnly bool, n int) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMs))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// The writer checkpoints the WAL into the database file inline, in the commit that
		// takes the WAL past this many pages (SQLite's default is 1000). Each checkpoint
		// costs two fsyncs and a write of every page changed since the last one, so fewer,
		// larger checkpoints cost less per write: 4000 measured 11% less CPU per append
		// with 32 busy conversations (no change with one). The price: a WAL file of up to
		// about 16 MiB (4 KiB pages), and a commit that checkpoints stalls its batch about
		// twice as long (20-35 ms instead of about 10 in the benchmarks), four times less
		// often. Readers pay nothing: 4000 frames still fit the first wal-index hash table
		// (4062 frames), so a page lookup in the WAL probes one table as before.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpointPages))
		q.Set("_txlock", "immediate")
		// A statement writing several rows (the group commit's multi-row appends) keeps a
		// statement journal, to undo itself alone if it fails midway. With temp files on
		// disk SQLite spills that journal to a temporary file past 64 KiB (16 pages: an
		// append batch across many conversations gets there), and each write is then a
		// syscall; in memory it costs a copy of each page first changed. Nothing durable is
		// a temp file: this changes no guarantee.
		q.Add("_pragma", "temp_store(MEMORY)")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("ping %s: %w", path, err), db.Close())
	}
	return db, nil
}

// Ping checks that the database answers (store.Pinger).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite store: ping: %w", err)
	}
	return nil
}

// Close closes both pools. A checkpoint on the last close folds the WAL
// back into the database file.
func (s *Store) Close() error {
	s.appends.close()
	serr := s.st.close()
	rerr := s.r.Close()
	werr := s.w.Close()
	var lerr error
	if s.lock != nil {
		lerr = s.lock.Close() // after the last connection: the next Open may start at once
	}
	if err := errors.Join(serr, rerr, werr, lerr); err != nil {
		return fmt.Errorf("sqlite store: close: %w", err)
	}
	return nil
}

// write runs fn in an IMMEDIATE transaction on the write connection and
// commits it, or rolls it back when fn fails.
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) error {
	tx, err := s.w.begin(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer s.w.preparePending(ctx)
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// read runs fn in a read transaction (one consistent snapshot) on a reader.
func (s *Store) read(ctx context.Context, fn func(tx *txn) error) error {
	tx, err := s.r.begin(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer s.r.preparePending(ctx)
	ferr := fn(tx)
	return errors.Join(ferr, ignoreDone(tx.Rollback()))
}

// ignoreDone drops sql.ErrTxDone, which a rollback after a driver-side abort
// reports.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

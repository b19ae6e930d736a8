package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds a pool's statement cache. Queries past it (only the IN lists of
// varying length can get there) run unprepared.
const maxCachedStmts = 512

// pool is a database/sql pool whose queries are prepared once per distinct text and then
// reused: parsing and planning a statement is a large share of a short query's cost with
// SQLite. database/sql prepares a cached statement again, lazily, on each pooled
// connection that runs it.
//
// A transaction never prepares: preparing needs a free connection, and the write pool has
// one, held by the transaction itself. A query a transaction finds unprepared runs as it
// is and is noted; the pool prepares the noted queries once the transaction has ended
// (preparePending).
type pool struct {
	*sql.DB

	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]struct{} // queries transactions ran unprepared
}

func newPool(db *sql.DB) *pool {
	return &pool{DB: db, stmts: map[string]*sql.Stmt{}, pending: map[string]struct{}{}}
}

// cached returns the prepared statement of query, or nil.
func (p *pool) cached(query string) *sql.Stmt {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.stmts[query]
}

// note records a query a transaction ran unprepared.
func (p *pool) note(query string) {
	p.mu.Lock()
	if len(p.stmts)+len(p.pending) < maxCachedStmts {
		p.pending[query] = struct{}{}
	}
	p.mu.Unlock()
}

// preparePending prepares the queries transactions ran unprepared. Call it with no
// transaction of the caller open. A failure leaves the query unprepared.
func (p *pool) preparePending(ctx context.Context) {
	p.mu.RLock()
	n := len(p.pending)
	p.mu.RUnlock()
	if n == 0 {
		return
	}
	p.mu.Lock()
	queries := make([]string, 0, len(p.pending))
	for q := range p.pending {
		queries = append(queries, q)
	}
	clear(p.pending)
	p.mu.Unlock()
	for _, q := range queries {
		_, _ = p.stmt(ctx, q)
	}
}

// stmt returns the prepared statement of query, preparing it on first use; nil (and no
// error) when the cache is full. The lock is not held while preparing: preparing waits for
// a free connection, and the transaction holding it may look the cache up meanwhile.
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.RLock()
	st, full := p.stmts[query], len(p.stmts) >= maxCachedStmts
	p.mu.RUnlock()
	if st != nil || full {
		return st, nil
	}
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev := p.stmts[query]; prev != nil { // prepared by another goroutine meanwhile
		_ = st.Close()
		return prev, nil
	}
	p.stmts[query] = st
	return st, nil
}

// QueryContext runs a query through its prepared statement.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.DB.QueryContext(ctx, query, args...) // reports the preparation error, if any
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a single-row query through its prepared statement.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.DB.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// ExecContext runs a statement through its prepared form.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.DB.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// begin starts a transaction whose queries use the pool's prepared statements.
func (p *pool) begin(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txn{Tx: tx, p: p}, nil
}

// Close closes the cached statements, then the pool.
func (p *pool) Close() error {
	p.mu.Lock()
	var errs []error
	for q, st := range p.stmts {
		errs = append(errs, st.Close())
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return errors.Join(append(errs, p.DB.Close())...)
}

// txn is a transaction of a pool, running its queries through the pool's prepared
// statements.
type txn struct {
	*sql.Tx
	p *pool
}

// QueryContext runs a query in the transaction through its prepared statement.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st := t.p.cached(query)
	if st == nil {
		t.p.note(query)
		return t.Tx.QueryContext(ctx, query, args...)
	}
	return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// QueryRowContext runs a single-row query in the transaction through its prepared
// statement.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st := t.p.cached(query)
	if st == nil {
		t.p.note(query)
		return t.Tx.QueryRowContext(ctx, query, args...)
	}
	return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// ExecContext runs a statement in the transaction through its prepared form.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st := t.p.cached(query)
	if st == nil {
		t.p.note(query)
		return t.Tx.ExecContext(ctx, query, args...)
	}
	return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

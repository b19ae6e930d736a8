// Package postgres implements store.Store on PostgreSQL (github.com/jackc/pgx/v5 with a
// pgxpool connection pool). It is the store of a cluster: several server nodes share one
// database, and every guarantee of the store holds across them.
//
// A server selects it with a PostgreSQL URL instead of a data directory:
//
//	moltzap-server --database-url 'postgres://moltzap@db.example:5432/moltzap?sslmode=require'
//
// and code opens it with
//
//	s, err := postgres.Open(ctx, databaseURL, postgres.Options{})
//
// The URL is a libpq connection string (URL or key=value form; PG* environment variables
// fill what it leaves out). Its search_path parameter, or Options.Schema, selects the schema
// that holds the tables, so several stores can share a database.
//
// Open applies the embedded migrations (migrations/NNNN_*.sql, recorded in the
// schema_migrations table of that schema) in one transaction under a transaction-scoped
// advisory lock keyed on the schema, so nodes starting at once migrate exactly once and
// none sees a half-migrated schema. A database migrated by a newer program is refused.
//
// Guarantees beyond the store package's conventions:
//   - The per-conversation seq is assigned by PostgreSQL: AppendMessage increments
//     conversations.last_seq with UPDATE ... RETURNING in the transaction of the insert.
//     The row lock orders the writers of one conversation whichever node they run on, and
//     a failed append rolls the increment back, so seqs are 1, 2, 3, ... without gaps or
//     duplicates.
//   - Compare-and-set operations (claims, task status, TM decisions) are single UPDATE
//     statements whose WHERE clause PostgreSQL re-checks after waiting for a concurrent
//     writer, so exactly one of several racing callers wins.
//   - Text is ordered bytewise (the columns use the "C" collation), as in Go and SQLite.
//   - Times are timestamptz, truncated to microseconds before they are stored.
//   - Constraint violations map to the store sentinels by SQLSTATE: unique_violation to
//     store.ErrConflict, foreign_key_violation to store.ErrNotFound, check and not-null
//     violations and text PostgreSQL cannot hold (a NUL byte, invalid UTF-8) to
//     store.ErrInvalid.
//
// Queries are named constants; pgx prepares and caches each one per connection.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Schema is the schema holding the tables. It is created when missing and becomes the
	// connections' search_path. "" keeps the URL's search_path (by default the user's
	// schema, then public).
	Schema string
	// MaxConns bounds the pool; 0 keeps pgxpool's default (the URL's pool_max_conns, or
	// max(4, runtime.NumCPU())).
	MaxConns int32
}

// Store is a store.Store backed by a PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	appends *appender // the group commit of appends without a reply target
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database at databaseURL, checks that it answers and
// applies the pending migrations. The caller must Close the store.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("postgres store: parse database URL: %w", err)
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = quoteIdent(opts.Schema)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: connect to %s: %w", redact(cfg), err)
	}
	if err := migrate(ctx, pool, opts.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: migrate: %w", err)
	}
	s := &Store{pool: pool}
	s.appends = newAppender(s)
	return s, nil
}

// redact names the server and database of cfg without its credentials.
func redact(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// Close closes every connection of the pool, waiting for the ones in use to be released.
func (s *Store) Close() error {
	s.appends.close()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers (for readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres store: ping: %w", err)
	}
	return nil
}

// write runs fn in a read-committed transaction and commits it, or rolls it back when fn
// fails. Constraint violations in the result are mapped to store sentinels.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return mapErr(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn))
}

// read runs fn in a read-only repeatable-read transaction: every statement of fn sees the
// same snapshot.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	return mapErr(pgx.BeginTxFunc(ctx, s.pool, opts, fn))
}

// noRows reports whether err is pgx's "no rows in result set".
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/moltzap/moltzap-go/runtime/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change.
type migration = migrations.Migration

// Statements of the migration run.
const (
	sqlCurrentSchema    = `SELECT current_schema()`
	sqlAdvisoryLock     = `SELECT pg_advisory_xact_lock($1)`
	sqlSchemaExists     = `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`
	sqlCreateMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`
	sqlSchemaVersion     = `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`
	sqlRecordMigration   = `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`
	advisoryLockKeyspace = "github.com/moltzap/moltzap-go/runtime/store/postgres migrate "
)

// loadMigrations reads the migrations of fsys (migrations/NNNN_description.sql), ordered by
// version.
func loadMigrations(fsys fs.FS) ([]migration, error) { return migrations.Load(fsys) }

// migrate applies the embedded migrations not yet recorded in schema_migrations.
// schema, when set, is the schema named in Options (created when missing).
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return err
	}
	return applyMigrations(ctx, pool, schema, ms)
}

// applyMigrations applies ms (ordered by version) in one transaction that holds the
// schema's migration lock, creating the schema first when it is named and missing.
func applyMigrations(ctx context.Context, pool *pgxpool.Pool, schema string, ms []migration) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		target, err := targetSchema(ctx, tx, schema)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlAdvisoryLock, migrationLockKey(target)); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if schema != "" {
			if err := ensureSchema(ctx, tx, schema); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, sqlCreateMigrations); err != nil {
			return fmt.Errorf("create schema_migrations in schema %q: %w", target, err)
		}
		var current int
		if err := tx.QueryRow(ctx, sqlSchemaVersion).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if n := len(ms); n > 0 && current > ms[n-1].Version {
			return fmt.Errorf("database schema version %d is newer than this program's %d", current, ms[n-1].Version)
		}
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, sqlRecordMigration, m.Version, m.Name); err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// targetSchema returns the schema the migrations apply to: schema when set, otherwise the
// first existing schema of the connection's search_path.
func targetSchema(ctx context.Context, tx pgx.Tx, schema string) (string, error) {
	if schema != "" {
		return schema, nil
	}
	var current *string
	if err := tx.QueryRow(ctx, sqlCurrentSchema).Scan(&current); err != nil {
		return "", fmt.Errorf("read current schema: %w", err)
	}
	if current == nil {
		return "", fmt.Errorf("no schema of the search_path exists: create one or set Options.Schema")
	}
	return *current, nil
}

// ensureSchema creates schema unless it exists. The caller holds the migration lock, so
// two nodes never both create it.
func ensureSchema(ctx context.Context, tx pgx.Tx, schema string) error {
	var exists bool
	if err := tx.QueryRow(ctx, sqlSchemaExists, schema).Scan(&exists); err != nil {
		return fmt.Errorf("look up schema %q: %w", schema, err)
	}
	if exists {
		return nil
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+quoteIdent(schema)); err != nil {
		return fmt.Errorf("create schema %q: %w", schema, err)
	}
	return nil
}

// migrationLockKey is the advisory lock key that serialises the migration runs of one
// schema (a 64-bit FNV-1a hash of the schema name in this package's keyspace).
func migrationLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(advisoryLockKeyspace + schema))
	return int64(h.Sum64())
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

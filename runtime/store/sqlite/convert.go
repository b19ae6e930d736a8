package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Times are stored as INTEGER microseconds since the Unix epoch.

func toMicro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

// optMicro stores an optional time (nil = NULL).
func optMicro(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// fromNullMicro reads an optional time.
func fromNullMicro(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicro(v.Int64)
	return &t
}

// optString stores an optional string ("" = NULL).
func optString[T ~string](s T) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// textDest scans a TEXT column into a named string type (an id) without the
// reflection database/sql otherwise uses for such a destination, which shows
// on long listings. NULL is an error, as for a *string.
type textDest[T ~string] struct{ p *T }

// text returns the scan destination of a TEXT column read into *p.
func text[T ~string](p *T) textDest[T] { return textDest[T]{p} }

// Scan implements sql.Scanner.
func (d textDest[T]) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*d.p = T(v)
	case []byte:
		*d.p = T(v)
	default:
		return fmt.Errorf("scan %T into a text column", src)
	}
	return nil
}

// placeholders returns "?, ?, ..." with n markers.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// unique returns ss without duplicates and empty strings, keeping the first
// occurrence order.
func unique[T ~string](ss []T) []T {
	seen := make(map[T]struct{}, len(ss))
	out := make([]T, 0, len(ss))
	for _, s := range ss {
		if s == "" {
			continue
		}
		if _, ok := seen[s]; ok {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out
}

// stringArgs converts ss to query arguments.
func stringArgs[T ~string](ss []T) []any {
	args := make([]any, len(ss))
	for i, s := range ss {
		args[i] = string(s)
	}
	return args
}

// querier runs queries (*sql.DB or *sql.Tx).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryStrings runs a query returning one text column (ids) and collects it.
func queryStrings[T ~string](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, T(s))
	}
	return out, rows.Err()
}

// rowQuerier runs single-row queries (*sql.DB or *sql.Tx).
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

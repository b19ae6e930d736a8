package postgres

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

// micro normalises a time to what the store keeps: UTC, truncated to microseconds.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// microPtr normalises an optional time.
func microPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := micro(*t)
	return &v
}

// utcPtr returns a scanned optional time in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// optString stores an optional string ("" = NULL).
func optString[T ~string](s T) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// deref reads an optional text column ("" for NULL).
func deref[T ~string](p *string) T {
	if p == nil {
		return ""
	}
	return T(*p)
}

// storable reports whether s can be held by a PostgreSQL text value (valid UTF-8 without
// NUL bytes). A lookup of a string that is not storable cannot match anything.
func storable[T ~string](s T) bool {
	return utf8.ValidString(string(s)) && !strings.ContainsRune(string(s), 0)
}

// unique returns ss without duplicates, empty strings and strings PostgreSQL cannot hold,
// as []string, keeping the first occurrence order.
func unique[T ~string](ss []T) []string {
	seen := make(map[T]struct{}, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s == "" || !storable(s) {
			continue
		}
		if _, ok := seen[s]; ok {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, string(s))
	}
	return out
}

// stringsOf converts named strings to []string.
func stringsOf[T ~string](ss []T) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// typed converts []string to named strings; nil stays nil.
func typed[T ~string](ss []string) []T {
	if ss == nil {
		return nil
	}
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = T(s)
	}
	return out
}

// Keyset cursors carry times as microseconds since the Unix epoch (as the SQLite store's
// do). A value outside what timestamptz holds cannot come from a row.
const (
	minCursorMicro = -210866803200000000                   // 4714-11-24 BC, timestamptz's lower bound
	maxCursorMicro = 9223372036854775807 - 946684800000000 // timestamptz's int64 since 2000
)

// cursorTime decodes a keyset time.
func cursorTime(v string) (time.Time, error) {
	us, err := cursor.Int(v)
	if err != nil {
		return time.Time{}, err
	}
	if us < minCursorMicro || us > maxCursorMicro {
		return time.Time{}, fmt.Errorf("cursor time %d out of range: %w", us, store.ErrBadCursor)
	}
	return time.UnixMicro(us).UTC(), nil
}

// cursorText checks a keyset text value.
func cursorText(v string) (string, error) {
	if !storable(v) {
		return "", fmt.Errorf("cursor value %q not storable text: %w", v, store.ErrBadCursor)
	}
	return v, nil
}

// encodeMicro is the keyset form of a time.
func encodeMicro(t time.Time) string { return fmt.Sprint(t.UnixMicro()) }

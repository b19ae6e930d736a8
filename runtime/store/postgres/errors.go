package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// SQLSTATE codes mapped to store sentinels
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514"
	codeNotNullViolation    = "23502"
	codeNotInRepertoire     = "22021" // invalid UTF-8, or a NUL byte in text
	codeUntranslatable      = "22P05"
	codeDatetimeOverflow    = "22008" // a time outside timestamptz's range
)

// mapErr translates an error PostgreSQL reported into the store sentinel it stands for,
// keeping the original error in the chain. Other errors (nil included) are returned
// unchanged, as is an error already wrapping a sentinel.
func mapErr(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || isSentinel(err) {
		return err
	}
	switch pe.Code {
	case codeUniqueViolation:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case codeForeignKeyViolation:
		return fmt.Errorf("referenced record missing: %w: %w", store.ErrNotFound, err)
	case codeCheckViolation, codeNotNullViolation, codeNotInRepertoire, codeUntranslatable, codeDatetimeOverflow:
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return err
}

// isSentinel reports whether err already wraps a store sentinel.
func isSentinel(err error) bool {
	for _, s := range []error{store.ErrNotFound, store.ErrConflict, store.ErrStateChanged,
		store.ErrOwnerMismatch, store.ErrForbidden, store.ErrBadCursor, store.ErrInvalid} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

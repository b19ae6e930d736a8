package sqlite

import (
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/runtime/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// mapErr translates a constraint violation reported by SQLite into the
// store sentinel it stands for, keeping the original error in the chain.
// Other errors are returned unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil // spares the allocation of se, which escapes into errors.As
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("referenced record missing: %w: %w", store.ErrNotFound, err)
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return err
}

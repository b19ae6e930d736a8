package store

import "errors"

// Sentinel errors. Implementations wrap them with context; callers test them
// with errors.Is.
var (
	// ErrNotFound: the record (or a record it references) does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique constraint was violated (id or name taken,
	// contact edge already exists, ...).
	ErrConflict = errors.New("store: conflict")
	// ErrStateChanged: a compare-and-set lost because the record is no
	// longer in the expected state.
	ErrStateChanged = errors.New("store: state changed")
	// ErrOwnerMismatch: the agent is already claimed by another owner.
	ErrOwnerMismatch = errors.New("store: agent claimed by another owner")
	// ErrForbidden: the acting user may not perform the change.
	ErrForbidden = errors.New("store: forbidden")
	// ErrBadCursor: a page cursor could not be decoded.
	ErrBadCursor = errors.New("store: bad cursor")
	// ErrInvalid: an argument is missing or malformed.
	ErrInvalid = errors.New("store: invalid argument")
)

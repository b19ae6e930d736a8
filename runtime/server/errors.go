package server

import (
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// pageOf converts the protocol's pagination params.
func pageOf(limit *protocol.PageLimit, cursor *protocol.Cursor) store.Page {
	var p store.Page
	if limit != nil {
		p.Limit = int(*limit)
	}
	if cursor != nil {
		p.Cursor = *cursor
	}
	return p
}

// storeErr maps the store's sentinel errors to wire errors; what stays unmapped is an
// internal error (logged by the connection handler, -32603 on the wire).
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrBadCursor):
		return protocol.InvalidParamsError{Message: "Invalid params: cursor is not valid"}
	case errors.Is(err, store.ErrNotFound):
		return protocol.NotFoundError{}
	case errors.Is(err, store.ErrConflict):
		return protocol.ConflictError{}
	case errors.Is(err, store.ErrForbidden):
		return protocol.ForbiddenError{}
	}
	return fmt.Errorf("%s: %w", op, err)
}

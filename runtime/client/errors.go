package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Client-local errors (REFERENCE 5.5); match them with errors.Is.
var (
	// ErrNotConnected is returned for a call made while the client is not connected,
	// in flight when the connection dropped, or made after Close.
	ErrNotConnected = errors.New("moltzap: not connected")
	// ErrTimeout is returned for a call that outlived its timeout (Options.CallTimeout or
	// an earlier context deadline, in which case the error also matches
	// context.DeadlineExceeded). Calls are never retried.
	ErrTimeout = errors.New("moltzap: call timed out")
	// ErrNonAdvancingCursor is returned by DrainPages when a page returns a cursor that an
	// earlier page already returned.
	ErrNonAdvancingCursor = errors.New("moltzap: pagination cursor did not advance")
)

// callError maps the error of an rpc call of method to the client's error vocabulary:
// an error response becomes its registry type (protocol.ErrorFromWire), a closed peer or
// socket ErrNotConnected, a timeout ErrTimeout. The method name is kept as context.
func callError(method string, err error) error {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return fmt.Errorf("moltzap: %s: %w", method, protocol.ErrorFromWire(*we))
	case errors.Is(err, rpc.ErrClosed),
		errors.Is(err, transport.ErrClosed),
		errors.Is(err, transport.ErrQueueFull),
		errors.Is(err, ErrNotConnected):
		return fmt.Errorf("moltzap: %s: %w", method, ErrNotConnected)
	case errors.Is(err, rpc.ErrTimeout):
		return fmt.Errorf("moltzap: %s: %w", method, ErrTimeout)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("moltzap: %s: %w (%w)", method, ErrTimeout, context.DeadlineExceeded)
	default:
		return fmt.Errorf("moltzap: %s: %w", method, err)
	}
}

// connectionLost reports whether err means the connection is unusable (as opposed to a
// server verdict on the request).
func connectionLost(err error) bool {
	return errors.Is(err, ErrNotConnected) || errors.Is(err, ErrTimeout) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

package rpc

import "errors"

// ErrClosed is returned by calls pending when the Peer is closed and by every
// call, notification or send made after Close. When Close was given a cause,
// the returned error wraps both ErrClosed and that cause.
var ErrClosed = errors.New("rpc: peer closed")

// ErrTimeout is returned (wrapped with the method name) by Call when no
// response arrived within Options.CallTimeout.
var ErrTimeout = errors.New("rpc: call timed out")

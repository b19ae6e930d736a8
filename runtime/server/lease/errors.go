package lease

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Reasons carried in the data of a −32001 Forbidden error (REFERENCE 12.6).
const (
	// ReasonLeaseInvalid: the lease is not in the state the operation needs.
	ReasonLeaseInvalid = "LeaseInvalid"
	// ReasonLeaseMismatch: the lease belongs to another recipient or
	// conversation (Q4).
	ReasonLeaseMismatch = "LeaseMismatch"
)

var (
	// ErrNotFound reports an unknown lease id (never minted, or removed after
	// its retention window). The server maps it to −32002.
	ErrNotFound = errors.New("lease not found")
	// ErrNotPending is returned by Resolve for a lease that is no longer
	// PENDING: already resolved (first writer wins) or ABANDONED.
	ErrNotPending = errors.New("lease is not pending")
	// ErrMismatch is returned by Claim when the sender is not the lease's
	// recipient or the conversation is not the lease's conversation.
	ErrMismatch = errors.New("lease does not belong to this sender and conversation")
	// ErrInvalidVerdict is returned by Resolve for a nil or unknown verdict or
	// a grant whose leaseTimeoutMs is below 1; the lease stays PENDING.
	ErrInvalidVerdict = errors.New("invalid admission verdict")
	// ErrInvalidState matches (errors.Is) every *InvalidStateError.
	ErrInvalidState = errors.New("lease is in the wrong state")
)

// InvalidStateError reports an operation on a lease whose state does not
// allow it (Claim needs GRANTED; Consume and Unclaim need CLAIMED).
type InvalidStateError struct {
	// LeaseID is the lease the operation named.
	LeaseID protocol.LeaseID
	// State is the lease's current state.
	State protocol.LeaseState
	// Expected lists the states that would have been accepted.
	Expected []protocol.LeaseState
}

// Error describes the state mismatch.
func (e *InvalidStateError) Error() string {
	want := make([]string, len(e.Expected))
	for i, s := range e.Expected {
		want[i] = string(s)
	}
	return fmt.Sprintf("lease %s is %s, expected %s", e.LeaseID, e.State, strings.Join(want, " or "))
}

// Is makes errors.Is(err, ErrInvalidState) true.
func (e *InvalidStateError) Is(target error) bool { return target == ErrInvalidState }

// ForbiddenData returns the −32001 error data for err when err is (or wraps)
// an *InvalidStateError ({reason: LeaseInvalid, state, expected}) or
// ErrMismatch ({reason: LeaseMismatch}); ok is false for any other error.
func ForbiddenData(err error) (data protocol.ForbiddenData, ok bool) {
	var ise *InvalidStateError
	switch {
	case errors.As(err, &ise):
		reason, state := ReasonLeaseInvalid, ise.State
		return protocol.ForbiddenData{
			Reason:   &reason,
			State:    &state,
			Expected: append([]protocol.LeaseState(nil), ise.Expected...),
		}, true
	case errors.Is(err, ErrMismatch):
		reason := ReasonLeaseMismatch
		return protocol.ForbiddenData{Reason: &reason}, true
	}
	return protocol.ForbiddenData{}, false
}

// notFound wraps ErrNotFound with the lease id.
func notFound(leaseID protocol.LeaseID) error {
	return fmt.Errorf("lease %s: %w", leaseID, ErrNotFound)
}

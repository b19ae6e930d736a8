package channel

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Errors of Reply.
var (
	// ErrNoTurn is returned by Reply when ctx does not come from a handler call.
	ErrNoTurn = errors.New("moltzap channel: no dispatch turn in context")
	// ErrTurnEnded is returned by Reply after the handler returned or was abandoned.
	ErrTurnEnded = errors.New("moltzap channel: dispatch turn has ended")
)

// turn is one handler call: the conversation it answers in and the lease its first
// reply spends.
type turn struct {
	taskID string
	convID string
	ended  atomic.Bool

	mu    sync.Mutex // serialises replies so the lease is spent once
	lease string
}

type turnKey struct{}

func withTurn(ctx context.Context, t *turn) context.Context {
	return context.WithValue(ctx, turnKey{}, t)
}

func turnFrom(ctx context.Context) *turn {
	t, _ := ctx.Value(turnKey{}).(*turn)
	return t
}

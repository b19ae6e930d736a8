package bus

import (
	"context"
	"errors"
)

// ErrNoResponders is returned by Request when nothing serves the subject.
var ErrNoResponders = errors.New("bus: no responders")

// ErrClosed is returned by every operation on a bus that has been closed.
var ErrClosed = errors.New("bus: closed")

// Msg is one message received on a subscription. Data belongs to the handler.
type Msg struct {
	Subject string
	Data    []byte
}

// Handler receives the messages of one subscription, one at a time: the messages one
// publisher sent on the subject arrive in the order it published them. A handler must not
// block for long (it holds up every later message of its subscription).
type Handler func(Msg)

// Request is one request received by a Responder.
type Request struct {
	Subject string
	Data    []byte
	reply   func([]byte) error
}

// NewRequest returns a request whose Reply calls reply (for Bus implementations).
func NewRequest(subject string, data []byte, reply func([]byte) error) Request {
	return Request{Subject: subject, Data: data, reply: reply}
}

// Reply answers the request. It may be called from any goroutine, once; a reply to a
// requester that gave up is dropped.
func (r Request) Reply(data []byte) error {
	if r.reply == nil {
		return errors.New("bus: request has no reply address")
	}
	return r.reply(data)
}

// Responder handles the requests of one Serve subscription, one call at a time like a
// Handler; it answers with Request.Reply, typically from a goroutine of its own when the
// answer takes time.
type Responder func(Request)

// Subscription is a live Subscribe or Serve registration.
type Subscription interface {
	// Unsubscribe stops the deliveries; messages already being handled finish.
	Unsubscribe() error
}

// Bus is the fan-out seam between server nodes (see the package documentation).
type Bus interface {
	// Publish sends data to every subscriber of subject (none is fine). It does not block
	// on the subscribers and does not keep data after it returns.
	Publish(subject string, data []byte) error
	// Subscribe calls h for every message published on subject from now on.
	Subscribe(subject string, h Handler) (Subscription, error)
	// Serve calls r for requests sent to subject; when several serve the same subject, each
	// request goes to one of them.
	Serve(subject string, r Responder) (Subscription, error)
	// Request sends data to one responder of subject and waits for its reply, until ctx
	// ends (then ctx.Err() is returned as it is, so errors.Is(err,
	// context.DeadlineExceeded) tells a timeout). ErrNoResponders means nothing serves
	// subject.
	Request(ctx context.Context, subject string, data []byte) ([]byte, error)
	// Ping checks the bus end to end (a round trip to the broker), bounded by ctx.
	Ping(ctx context.Context) error
	// Health reports, without blocking, why the bus cannot carry messages right now (nil
	// while it can).
	Health() error
	// Close drains: messages published before it are sent and subscriptions stop, bounded
	// by ctx; the bus is unusable afterwards.
	Close(ctx context.Context) error
}

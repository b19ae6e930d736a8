// Package natsbus is the NATS implementation of bus.Bus (core NATS, no JetStream), on
// github.com/nats-io/nats.go: the fan-out of several moltzap-server nodes (--nats-url).
//
// Every subject is put under Options.Namespace ("moltzap.<subject>"), so several clusters
// share one NATS without seeing each other. Serve uses a queue group, so a request reaches
// one of the responders of its subject. The connection reconnects for ever (every
// ReconnectWait); while it is away Health reports why, publications are buffered by the
// client up to its reconnect buffer, and messages others publish meanwhile are lost (the
// server notices the gaps and resynchronises).
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/nats-io/nats.go"
)

// Options configures Connect. The zero value is a working default.
type Options struct {
	// Namespace prefixes every subject ("moltzap"); letters, digits, '_', '-' and '.'.
	Namespace string
	// Name is the connection name NATS shows (e.g. the node id).
	Name string
	// Logger receives connection events (default: discard).
	Logger *slog.Logger
	// ConnectTimeout bounds the first connection (5 s).
	ConnectTimeout time.Duration
	// ReconnectWait is the pause between reconnection attempts (1 s).
	ReconnectWait time.Duration
	// PingInterval is how often the client pings the server (2 s); two unanswered pings
	// mark the connection broken, so a dead NATS is noticed within about 3 intervals.
	PingInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = "moltzap"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 2 * time.Second
	}
	return o
}

// Bus is a bus.Bus over one NATS connection.
type Bus struct {
	nc     *nats.Conn
	prefix string
	log    *slog.Logger
	closed chan struct{} // closed by the client's ClosedHandler
}

var _ bus.Bus = (*Bus)(nil)

// Connect dials url ("nats://host:4222", several comma-separated) and returns the bus. The
// first connection must succeed within ctx and Options.ConnectTimeout; later losses are
// reconnected in the background.
func Connect(ctx context.Context, url string, o Options) (*Bus, error) {
	o = o.withDefaults()
	if strings.ContainsAny(o.Namespace, " \t*>") || strings.HasPrefix(o.Namespace, ".") || strings.HasSuffix(o.Namespace, ".") {
		return nil, fmt.Errorf("natsbus: namespace %q is not a subject prefix", o.Namespace)
	}
	b := &Bus{prefix: o.Namespace + ".", log: o.Logger, closed: make(chan struct{})}
	timeout := o.ConnectTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	nc, err := nats.Connect(url,
		nats.Name(o.Name),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(o.ReconnectWait),
		nats.PingInterval(o.PingInterval),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			b.log.Info("nats reconnected", "server", c.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			b.log.Warn("nats error", "subject", subj, "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect %s: %w", redact(url), err)
	}
	b.nc = nc
	return b, nil
}

// Conn returns the underlying NATS connection (tests, diagnostics).
func (b *Bus) Conn() *nats.Conn { return b.nc }

func (b *Bus) subject(s string) string { return b.prefix + s }

// Publish sends data on subject.
func (b *Bus) Publish(subject string, data []byte) error {
	if err := b.nc.Publish(b.subject(subject), data); err != nil {
		return fmt.Errorf("natsbus: publish %s: %w", subject, mapErr(err))
	}
	return nil
}

// Subscribe calls h for every message on subject.
func (b *Bus) Subscribe(subject string, h bus.Handler) (bus.Subscription, error) {
	s, err := b.nc.Subscribe(b.subject(subject), func(m *nats.Msg) {
		h(bus.Msg{Subject: subject, Data: m.Data})
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: subscribe %s: %w", subject, mapErr(err))
	}
	return s, nil
}

// responders is the queue group of every Serve subscription.
const responders = "responders"

// Serve answers requests to subject with r (one responder of the queue group per request).
func (b *Bus) Serve(subject string, r bus.Responder) (bus.Subscription, error) {
	s, err := b.nc.QueueSubscribe(b.subject(subject), responders, func(m *nats.Msg) {
		r(bus.NewRequest(subject, m.Data, m.Respond))
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: serve %s: %w", subject, mapErr(err))
	}
	return s, nil
}

// Request sends data to one responder of subject and waits for the reply until ctx ends.
func (b *Bus) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, b.subject(subject), data)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && (errors.Is(err, ctxErr) || errors.Is(err, nats.ErrTimeout)) {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("natsbus: request %s: %w", subject, mapErr(err))
	}
	return m.Data, nil
}

// pingTimeout bounds Ping when ctx has no deadline.
const pingTimeout = 2 * time.Second

// Ping makes a round trip to the NATS server.
func (b *Bus) Ping(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	if err := b.Health(); err != nil {
		return err
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats: flush: %w", mapErr(err))
	}
	return nil
}

// Health is nil while the connection is up.
func (b *Bus) Health() error {
	switch st := b.nc.Status(); st {
	case nats.CONNECTED:
		return nil
	case nats.CLOSED:
		return bus.ErrClosed
	default:
		if err := b.nc.LastError(); err != nil {
			return fmt.Errorf("nats %s: %w", strings.ToLower(st.String()), err)
		}
		return fmt.Errorf("nats %s", strings.ToLower(st.String()))
	}
}

// Close drains the connection (flush publications, let subscriptions finish what they
// hold) within ctx; an ended ctx closes at once.
func (b *Bus) Close(ctx context.Context) error {
	if ctx.Err() != nil || b.nc.IsClosed() {
		b.nc.Close()
		return nil
	}
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
		if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionReconnecting) {
			return nil
		}
		return fmt.Errorf("natsbus: drain: %w", err)
	}
	select {
	case <-b.closed:
		return nil
	case <-ctx.Done():
		b.nc.Close()
		return fmt.Errorf("natsbus: drain: %w", ctx.Err())
	}
}

// mapErr turns the client's errors the bus contract names into the bus sentinels.
func mapErr(err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w (%v)", bus.ErrNoResponders, err)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return fmt.Errorf("%w (%v)", bus.ErrClosed, err)
	}
	return err
}

// redact hides user:password in a NATS URL list for error messages.
func redact(url string) string {
	parts := strings.Split(url, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				parts[i] = p[:scheme+3] + "***" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}

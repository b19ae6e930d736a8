package observatory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Params holds the named parameters extracted from a topic by a channel's
// pattern: for the pattern "conversation:<conversationId>" and the topic
// "conversation:c1", Params{"conversationId": "c1"}.
type Params map[string]string

// JoinHandler runs after a socket subscribed to a topic of the channel and was
// answered with subscribed; it typically sends a snapshot with c.Send. ctx is
// cancelled when the connection ends or the server shuts down. A returned
// error is logged.
type JoinHandler func(ctx context.Context, c *ChannelContext) error

// EventHandler handles a client event routed to the channel; payload is the
// raw third element of the frame. ctx is cancelled when the connection ends or
// the server shuts down. A returned error is logged.
type EventHandler func(ctx context.Context, c *ChannelContext, payload json.RawMessage) error

// Channel serves the topics matching one pattern. A pattern is a list of
// segments separated by ':'; a segment "<name>" is a named parameter that
// matches any non-empty segment of the topic, any other segment matches
// itself only. A topic matches when it has as many segments as the pattern
// and every segment matches.
//
// Configure a Channel (OnJoin, On) before registering it with a Server.
type Channel struct {
	pattern  string
	segments []segment
	onJoin   JoinHandler
	handlers map[string]EventHandler
}

// segment is one ':'-separated part of a pattern.
type segment struct {
	text  string // literal text, or the parameter name
	param bool
}

// NewChannel returns a channel for pattern, or an error when the pattern is
// empty, has an empty parameter name ("<>"), a malformed parameter ("<id",
// "a<id>") or the same parameter name twice.
func NewChannel(pattern string) (*Channel, error) {
	if pattern == "" {
		return nil, fmt.Errorf("observatory: empty channel pattern")
	}
	parts := strings.Split(pattern, ":")
	segs := make([]segment, len(parts))
	seen := make(map[string]bool)
	for i, p := range parts {
		open, closed := strings.HasPrefix(p, "<"), strings.HasSuffix(p, ">")
		switch {
		case open && closed && len(p) > 2:
			name := p[1 : len(p)-1]
			if strings.ContainsAny(name, "<>") {
				return nil, fmt.Errorf("observatory: channel pattern %q: malformed parameter %q", pattern, p)
			}
			if seen[name] {
				return nil, fmt.Errorf("observatory: channel pattern %q: parameter %q appears twice", pattern, name)
			}
			seen[name] = true
			segs[i] = segment{text: name, param: true}
		case strings.ContainsAny(p, "<>"):
			return nil, fmt.Errorf("observatory: channel pattern %q: malformed parameter %q", pattern, p)
		default:
			segs[i] = segment{text: p}
		}
	}
	return &Channel{pattern: pattern, segments: segs, handlers: make(map[string]EventHandler)}, nil
}

// MustChannel is like NewChannel but panics on an invalid pattern; it is meant
// for patterns that are constants.
func MustChannel(pattern string) *Channel {
	ch, err := NewChannel(pattern)
	if err != nil {
		panic(err)
	}
	return ch
}

// Pattern returns the channel's topic pattern.
func (ch *Channel) Pattern() string { return ch.pattern }

// OnJoin sets the handler run after each subscription and returns ch.
func (ch *Channel) OnJoin(h JoinHandler) *Channel {
	ch.onJoin = h
	return ch
}

// On sets the handler of the client event named event and returns ch. The
// built-in events subscribe and unsubscribe never reach a channel.
func (ch *Channel) On(event string, h EventHandler) *Channel {
	ch.handlers[event] = h
	return ch
}

// Match reports whether topic matches the channel's pattern and, if so,
// returns the extracted parameters (an empty, non-nil map when the pattern has
// none).
func (ch *Channel) Match(topic string) (Params, bool) {
	parts := strings.Split(topic, ":")
	if len(parts) != len(ch.segments) {
		return nil, false
	}
	params := make(Params)
	for i, s := range ch.segments {
		switch {
		case s.param && parts[i] != "":
			params[s.text] = parts[i]
		case s.param || s.text != parts[i]:
			return nil, false
		}
	}
	return params, true
}

// ChannelContext is handed to a channel's handlers: the topic of the frame
// being handled, its parameters, and ways to answer.
type ChannelContext struct {
	// Topic is the topic of the frame being handled.
	Topic string
	// Params holds the parameters the channel's pattern extracted from Topic.
	Params Params

	srv  *Server
	conn *conn
}

// Send sends [Topic, event, payload] to this socket only. It returns an error
// when payload cannot be encoded or the socket is closing.
func (c *ChannelContext) Send(event string, payload any) error {
	msg, err := encode(c.Topic, event, payload)
	if err != nil {
		return err
	}
	return c.conn.send(msg)
}

// Broadcast sends [Topic, event, payload] to every socket subscribed to
// exactly Topic, like Server.Broadcast.
func (c *ChannelContext) Broadcast(event string, payload any) (int, error) {
	return c.srv.Broadcast(c.Topic, event, payload)
}

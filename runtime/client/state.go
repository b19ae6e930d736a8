package client

import "github.com/moltzap/moltzap-go/runtime/transport"

// State is the connection state of a client (REFERENCE 17.1).
type State int

// The states of a client.
const (
	// Connecting: Dial is opening the socket and sending network/connect.
	Connecting State = iota
	// Connected: the handshake completed; calls go through.
	Connected
	// Reconnecting: the connection dropped unexpectedly; the client is redialling and
	// calls fail with ErrNotConnected.
	Reconnecting
	// Closed: Close was called (or the connection dropped with reconnecting disabled).
	// Terminal.
	Closed
)

// String returns the lower-case name of s.
func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return "unknown"
}

// CloseInfo describes how a connection ended (REFERENCE 17.3).
type CloseInfo struct {
	// Code is the WebSocket close code: the peer's or our own close frame's when there was
	// one, 1000 for a clean end without a code, 1006 when the socket ended without a
	// close handshake.
	Code int
	// Reason is the close reason; "normal" and "abnormal" for the synthesised codes.
	Reason string
}

// closeInfoFrom converts the transport's close report.
func closeInfoFrom(ci transport.CloseInfo) CloseInfo {
	switch ci.Code {
	case transport.CloseNoStatus, 0:
		return CloseInfo{Code: int(transport.CloseNormal), Reason: "normal"}
	case transport.CloseAbnormal:
		return CloseInfo{Code: int(transport.CloseAbnormal), Reason: "abnormal"}
	}
	return CloseInfo{Code: int(ci.Code), Reason: ci.Reason}
}

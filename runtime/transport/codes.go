package transport

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// CloseCode is a WebSocket close status code (RFC 6455 section 7.4).
type CloseCode uint16

// Close codes used by MoltZap (protocol reference section 2.7).
const (
	// CloseNormal is a normal close (1000).
	CloseNormal CloseCode = 1000
	// CloseGoingAway reports a heartbeat timeout or a shutdown (1001).
	CloseGoingAway CloseCode = 1001
	// CloseProtocolError reports a WebSocket protocol violation (1002).
	CloseProtocolError CloseCode = 1002
	// CloseNoStatus is reported locally when the peer's close frame carried
	// no code (1005). It is never sent.
	CloseNoStatus CloseCode = 1005
	// CloseAbnormal is reported locally when the connection ended without a
	// close frame (1006). It is never sent.
	CloseAbnormal CloseCode = 1006
	// CloseInvalidPayload reports a text message that is not UTF-8 (1007).
	CloseInvalidPayload CloseCode = 1007
	// ClosePolicyViolation reports a policy violation such as a slow
	// consumer (1008).
	ClosePolicyViolation CloseCode = 1008
	// CloseMessageTooBig reports an inbound message above the read limit
	// (1009).
	CloseMessageTooBig CloseCode = 1009
	// CloseInternalError reports an unrecoverable internal error (1011).
	CloseInternalError CloseCode = 1011
)

// Close reasons used by this package.
const (
	reasonAbnormal     = "abnormal closure"
	reasonGoingAway    = "going away"
	reasonHeartbeat    = "heartbeat timeout"
	reasonTooBig       = "message too big"
	reasonProtocol     = "protocol error"
	reasonInvalidUTF8  = "invalid UTF-8 text"
	reasonSlowConsumer = "slow consumer: write queue full"
	reasonFrameTimeout = "read timeout: incomplete frame"
)

// maxReasonLen is the longest close reason that fits in a close frame: the
// control frame payload limit (125) minus the 2-byte code.
const maxReasonLen = 123

// String returns the decimal code.
func (c CloseCode) String() string {
	return strconv.Itoa(int(c))
}

// sendable reports whether c may appear in a close frame: the codes defined
// by RFC 6455 and registered with IANA, except those reserved for local use,
// plus the application (3000-3999) and private (4000-4999) ranges.
func (c CloseCode) sendable() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	default:
		return false
	}
}

// CloseInfo describes how a connection ended.
type CloseInfo struct {
	// Code is the close code: the one sent when the close was initiated
	// locally, the peer's when it was initiated by the peer, CloseNoStatus
	// when the peer's close frame had no code, CloseAbnormal when there was
	// no close handshake.
	Code CloseCode
	// Reason is the close reason matching Code.
	Reason string
	// Local reports whether this side initiated the close.
	Local bool
	// Err is the I/O error that ended an abnormal closure, nil otherwise.
	Err error
}

// String formats the close info for logs.
func (i CloseInfo) String() string {
	s := i.Code.String() + " " + strconv.Quote(i.Reason)
	if i.Local {
		s += " (local)"
	} else {
		s += " (remote)"
	}
	if i.Err != nil {
		s += ": " + i.Err.Error()
	}
	return s
}

// closeBody encodes a close frame payload; reason is truncated, on a rune
// boundary, to fit the control frame limit.
func closeBody(code CloseCode, reason string) []byte {
	reason = truncateReason(reason)
	p := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], reason)
	return p
}

// truncateReason shortens reason to at most maxReasonLen bytes without
// splitting a UTF-8 sequence.
func truncateReason(reason string) string {
	if len(reason) <= maxReasonLen {
		return reason
	}
	cut := maxReasonLen
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}

// parseCloseBody decodes a received close frame payload. ok is false when
// the payload is malformed (RFC 6455 sections 5.5.1 and 7.4).
func parseCloseBody(p []byte) (code CloseCode, reason string, ok bool) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", true
	case len(p) == 1:
		return 0, "", false
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	if !code.sendable() || !utf8.Valid(p[2:]) {
		return 0, "", false
	}
	return code, string(p[2:]), true
}

package loadgen

import "bytes"

// msgKey is a message id (a canonical 36-character UUID) used as a map key without
// allocating.
type msgKey [36]byte

// String returns the id.
func (k msgKey) String() string { return string(k[:]) }

var (
	// receivedPrefix starts every messages/received frame written by wire.EncodeNotification.
	receivedPrefix = []byte(`{"jsonrpc":"2.0","method":"messages/received","params":{`)
	// messageIDMarker precedes the message id in messages/received params and in the
	// messages/send result ({"message":{"id":...}}): id is the first member of Message.
	messageIDMarker = []byte(`"message":{"id":"`)
)

// receivedID reports whether frame is a messages/received notification and returns its
// message id, by byte search instead of a full decode. The first occurrence of the marker
// is the right one: only the task id, a UUID, may precede the message object, and the id
// comes before any free text inside it.
func receivedID(frame []byte) (msgKey, bool) {
	if !bytes.HasPrefix(frame, receivedPrefix) {
		return msgKey{}, false
	}
	return messageID(frame[len(receivedPrefix):])
}

// messageID returns the id of the first "message":{"id":"..."} object in b.
func messageID(b []byte) (msgKey, bool) {
	var k msgKey
	i := bytes.Index(b, messageIDMarker)
	if i < 0 {
		return k, false
	}
	b = b[i+len(messageIDMarker):]
	if len(b) <= len(k) || b[len(k)] != '"' {
		return k, false
	}
	copy(k[:], b)
	return k, true
}

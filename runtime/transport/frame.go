package transport

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// Frame header bits (RFC 6455 section 5.2).
const (
	bitFin  = 0x80
	bitMask = 0x80
	len16   = 126 // 7-bit length value announcing a 16-bit length
	len64   = 127 // 7-bit length value announcing a 64-bit length
)

// headerLen returns the size of the frame header whose second byte is b1.
func headerLen(b1 byte) int {
	n := 2
	if b1&bitMask != 0 {
		n += 4
	}
	switch b1 & 0x7f {
	case len16:
		n += 2
	case len64:
		n += 8
	}
	return n
}

// parseHeader decodes a complete header b (len(b) == headerLen(b[1])). A
// 64-bit length with the most significant bit set is ws.ErrHeaderLengthMSB.
func parseHeader(b []byte) (ws.Header, error) {
	h := ws.Header{
		Fin:    b[0]&bitFin != 0,
		Rsv:    (b[0] & 0x70) >> 4,
		OpCode: ws.OpCode(b[0] & 0x0f),
		Masked: b[1]&bitMask != 0,
	}
	rest := b[2:]
	switch n := b[1] & 0x7f; n {
	case len16:
		h.Length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case len64:
		if rest[0]&0x80 != 0 {
			return h, ws.ErrHeaderLengthMSB
		}
		h.Length = int64(binary.BigEndian.Uint64(rest))
		rest = rest[8:]
	default:
		h.Length = int64(n)
	}
	if h.Masked {
		copy(h.Mask[:], rest)
	}
	return h, nil
}

// appendHeader appends the encoding of h to dst.
func appendHeader(dst []byte, h ws.Header) []byte {
	b0 := byte(h.OpCode&0x0f) | h.Rsv<<4
	if h.Fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.Masked {
		b1 = bitMask
	}
	switch {
	case h.Length < len16:
		dst = append(dst, b0, b1|byte(h.Length))
	case h.Length <= 0xffff:
		dst = append(dst, b0, b1|len16)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|len64)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

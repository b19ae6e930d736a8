package transport

import (
	"bytes"
	"strings"
)

// parseUpgrade parses a request head (request line and header lines, each
// ending in CRLF, then an empty line) and reports whether it is a WebSocket
// upgrade of path that the direct path serves: "GET path[?query] HTTP/1.1",
// Host, Upgrade: websocket, Connection listing upgrade, a valid
// Sec-WebSocket-Key and Sec-WebSocket-Version 13, each of them once, and no
// body. Anything else, well-formed or not, is left to the HTTP server, which
// answers it exactly as before; so this parser only has to be right about
// what it accepts.
func parseUpgrade(head []byte, path string) (req UpgradeRequest, key string, ok bool) {
	line, rest, found := bytes.Cut(head, []byte("\r\n"))
	if !found || !requestLineIs(line, path) {
		return req, "", false
	}
	var upgrade, connection, version string
	seen := 0
	for len(rest) > 0 {
		line, rest, found = bytes.Cut(rest, []byte("\r\n"))
		if !found {
			return req, "", false
		}
		if len(line) == 0 {
			break // the empty line that ends the head
		}
		name, value, ok := headerLine(line)
		if !ok {
			return req, "", false
		}
		var dst *string
		var bit int
		switch {
		case bytes.EqualFold(name, []byte("Host")):
			dst, bit = &req.Host, 1
		case bytes.EqualFold(name, []byte("Origin")):
			dst, bit = &req.Origin, 2
		case bytes.EqualFold(name, []byte("Upgrade")):
			dst, bit = &upgrade, 4
		case bytes.EqualFold(name, []byte("Connection")):
			dst, bit = &connection, 8
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Key")):
			dst, bit = &key, 16
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Version")):
			dst, bit = &version, 32
		case bytes.EqualFold(name, []byte("Content-Length")), bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return req, "", false // a body: the HTTP server decides
		default:
			continue
		}
		if seen&bit != 0 {
			return req, "", false // repeated: the HTTP server decides
		}
		seen |= bit
		*dst = string(value) // only the headers used become strings
	}
	ok = req.Host != "" &&
		strings.EqualFold(upgrade, "websocket") &&
		hasToken(connection, "upgrade") &&
		validKey(key) &&
		version == "13"
	return req, key, ok
}

// requestLineIs reports whether line is "GET path HTTP/1.1", the target
// possibly followed by a query.
func requestLineIs(line []byte, path string) bool {
	rest, ok := bytes.CutPrefix(line, []byte("GET "))
	if !ok {
		return false
	}
	target, ok := bytes.CutSuffix(rest, []byte(" HTTP/1.1"))
	if !ok {
		return false
	}
	p, _, _ := bytes.Cut(target, []byte("?"))
	return string(p) == path && bytes.IndexByte(target, ' ') < 0
}

// headerLine splits "Name: value" with a token name and the value's leading
// and trailing blanks removed; a continuation line, a name that is not a
// token or a control character in the value is not a header line here.
func headerLine(line []byte) (name, value []byte, ok bool) {
	n, v, found := bytes.Cut(line, []byte(":"))
	if !found || !isToken(n) {
		return nil, nil, false
	}
	for _, c := range v {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return nil, nil, false
		}
	}
	return n, bytes.Trim(v, " \t"), true
}

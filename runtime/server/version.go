package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// parseVersion splits a dot-separated version into numeric segments.
func parseVersion(v string) ([]uint64, error) {
	parts := strings.Split(v, ".")
	out := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if p == "" || strings.Trim(p, "0123456789") != "" || err != nil {
			return nil, protocol.InvalidParamsError{Message: fmt.Sprintf("Malformed protocol version %q: invalid segment %q", v, p)}
		}
		out[i] = n
	}
	return out, nil
}

// compareVersions compares segment by segment; a missing trailing segment counts as 0.
func compareVersions(a, b []uint64) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// checkVersion applies the version gate of REFERENCE section 4.
func checkVersion(server, minV, maxV string) error {
	sv, err := parseVersion(server)
	if err != nil {
		return fmt.Errorf("server protocol version: %w", err)
	}
	lo, err := parseVersion(minV)
	if err != nil {
		return err
	}
	hi, err := parseVersion(maxV)
	if err != nil {
		return err
	}
	data := &protocol.ProtocolMismatchData{ServerVersion: protocol.ProtocolVersionString(server), ClientMinProtocol: protocol.ProtocolVersionString(minV), ClientMaxProtocol: protocol.ProtocolVersionString(maxV)}
	switch {
	case compareVersions(sv, hi) > 0:
		data.Reason = protocol.ProtocolMismatchDataReasonServerAboveClientMax
	case compareVersions(sv, lo) < 0:
		data.Reason = protocol.ProtocolMismatchDataReasonServerBelowClientMin
	default:
		return nil
	}
	return protocol.ProtocolMismatchError{Data: data}
}

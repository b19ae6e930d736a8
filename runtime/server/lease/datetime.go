package lease

import (
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// dateTimeLayout is the wire DateTime: UTC, milliseconds, Z suffix.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// formatDateTime formats t as a wire DateTime.
func formatDateTime(t time.Time) protocol.DateTime {
	return protocol.DateTime(t.UTC().Format(dateTimeLayout))
}

// optDateTime formats t, or returns nil for the zero time.
func optDateTime(t time.Time) *protocol.DateTime {
	if t.IsZero() {
		return nil
	}
	d := formatDateTime(t)
	return &d
}

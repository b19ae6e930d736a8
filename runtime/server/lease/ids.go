package lease

import (
	"crypto/rand"
	"time"

	"github.com/google/uuid"
)

// newID returns a fresh lowercase UUIDv7 as an id of type T.
func newID[T ~string]() T {
	if id, err := uuid.NewV7(); err == nil {
		return T(id.String())
	}
	// uuid.NewV7 only fails when crypto/rand fails, which it never does
	// since Go 1.24 (rand.Read then aborts the program instead). Build a
	// version 7 id by hand so Mint stays infallible.
	return T(fallbackV7(time.Now()))
}

// fallbackV7 builds a UUIDv7 from now and crypto/rand without a sequence
// counter.
func fallbackV7(now time.Time) string {
	var b uuid.UUID
	_, _ = rand.Read(b[6:])
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return b.String()
}

package store

import "github.com/moltzap/moltzap-go/generated/protocol"

// DefaultLimit is the page size used when a limit is zero or negative.
const DefaultLimit = 50

// Page selects one page of a keyset-paginated listing.
type Page struct {
	// Limit is the maximum number of items; <= 0 means DefaultLimit.
	Limit int
	// Cursor is the NextCursor of the previous page, or "" for the first.
	Cursor protocol.Cursor
}

// EffectiveLimit returns the limit to apply.
func (p Page) EffectiveLimit() int { return EffectiveLimit(p.Limit) }

// EffectiveLimit returns limit, or DefaultLimit when limit <= 0.
func EffectiveLimit(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return limit
}

// PageResult is one page of a listing.
type PageResult[T any] struct {
	Items []T
	// NextCursor fetches the next page; "" means this is the last page.
	NextCursor protocol.Cursor
}

package client

import (
	"context"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// DrainPages collects every page of a cursor-paginated list (REFERENCE 8): it calls fetch
// with a nil cursor, then with each returned next cursor, until next is nil. A cursor
// returned twice stops the loop with ErrNonAdvancingCursor (a cycle guard, not a page
// cap). On error it returns the items collected so far with the error.
//
//	agents, err := client.DrainPages(ctx, func(ctx context.Context, cur *protocol.Cursor) ([]protocol.AgentCard, *protocol.Cursor, error) {
//		r, err := c.AgentsList(ctx, protocol.AgentsListParams{Cursor: cur})
//		return r.Agents, r.NextCursor, err
//	})
func DrainPages[T any](ctx context.Context, fetch func(ctx context.Context, cursor *protocol.Cursor) (items []T, next *protocol.Cursor, err error)) ([]T, error) {
	var all []T
	seen := map[protocol.Cursor]struct{}{}
	var cursor *protocol.Cursor
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return all, fmt.Errorf("moltzap: drain pages: %w", err)
		}
		items, next, err := fetch(ctx, cursor)
		if err != nil {
			return all, fmt.Errorf("moltzap: drain pages: page %d: %w", page, err)
		}
		all = append(all, items...)
		if next == nil {
			return all, nil
		}
		if _, dup := seen[*next]; dup {
			return all, fmt.Errorf("moltzap: drain pages: page %d returned cursor %q again: %w", page, string(*next), ErrNonAdvancingCursor)
		}
		seen[*next] = struct{}{}
		cur := *next
		cursor = &cur
	}
}

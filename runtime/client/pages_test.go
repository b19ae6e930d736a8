package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// TestDrainPagesAgentsList drains agents/list two at a time across pages.
func TestDrainPagesAgentsList(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	var first client.Registration
	for i := range 5 {
		r := e.agent("page")
		if i == 0 {
			first = r
		}
		want[r.AgentID] = true
	}
	c := e.dial(first)
	pages := 0
	limit := protocol.PageLimit(2)
	agents, err := client.DrainPages(ctxFor(t, 10*time.Second), func(ctx context.Context, cur *protocol.Cursor) ([]protocol.AgentCard, *protocol.Cursor, error) {
		pages++
		r, err := c.AgentsList(ctx, protocol.AgentsListParams{Limit: &limit, Cursor: cur})
		return r.Agents, r.NextCursor, err
	})
	if err != nil {
		t.Fatalf("DrainPages: %v", err)
	}
	if pages < 3 {
		t.Fatalf("%d pages for 5 agents with limit 2", pages)
	}
	got := map[string]bool{}
	for _, a := range agents {
		if got[string(a.ID)] {
			t.Fatalf("agent %s listed twice", a.ID)
		}
		got[string(a.ID)] = true
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("agent %s missing from %d drained agents", id, len(agents))
		}
	}
}

// TestDrainPagesGuards checks the cycle guard and error propagation with a fake fetch.
func TestDrainPagesGuards(t *testing.T) {
	cur := func(s string) *protocol.Cursor { c := protocol.Cursor(s); return &c }
	// Pages: nil -> "a" -> "b" -> "a" again.
	next := map[string]*protocol.Cursor{"": cur("a"), "a": cur("b"), "b": cur("a")}
	calls := 0
	items, err := client.DrainPages(context.Background(), func(_ context.Context, c *protocol.Cursor) ([]int, *protocol.Cursor, error) {
		calls++
		key := ""
		if c != nil {
			key = string(*c)
		}
		return []int{calls}, next[key], nil
	})
	if !errors.Is(err, client.ErrNonAdvancingCursor) {
		t.Fatalf("err = %v, want ErrNonAdvancingCursor", err)
	}
	if calls != 3 || len(items) != 3 {
		t.Fatalf("calls %d items %v", calls, items)
	}

	// A single page without cursor.
	items, err = client.DrainPages(context.Background(), func(_ context.Context, c *protocol.Cursor) ([]int, *protocol.Cursor, error) {
		if c != nil {
			t.Fatalf("first page got cursor %q", *c)
		}
		return []int{1, 2}, nil, nil
	})
	if err != nil || len(items) != 2 {
		t.Fatalf("single page: %v %v", items, err)
	}

	boom := errors.New("boom")
	_, err = client.DrainPages(context.Background(), func(context.Context, *protocol.Cursor) ([]int, *protocol.Cursor, error) {
		return nil, nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("fetch error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.DrainPages(ctx, func(context.Context, *protocol.Cursor) ([]int, *protocol.Cursor, error) {
		return nil, cur("x"), nil
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func agentCases() []testCase {
	return []testCase{
		{"Agents/CreateAndGet", testAgentCreateAndGet},
		{"Agents/CreateConflict", testAgentCreateConflict},
		{"Agents/CreateInvalid", testAgentCreateInvalid},
		{"Agents/NotFound", testAgentNotFound},
		{"Agents/KeyIDSkipsSuspended", testAgentKeyIDSuspended},
		{"Agents/GetMany", testAgentGetMany},
		{"Agents/Claim", testAgentClaim},
		{"Agents/ClaimRace", testAgentClaimRace},
		{"Agents/RotateKey", testAgentRotateKey},
		{"Agents/ByOwner", testAgentsByOwner},
		{"Agents/ListVisible", testListVisibleAgents},
		{"Agents/ListVisiblePaging", testListVisibleAgentsPaging},
	}
}

func testAgentCreateAndGet(t *testing.T, e *env) {
	in := e.newAgent("alice", "")
	in.DisplayName = "Alice"
	got, err := e.s.CreateAgent(e.ctx, in)
	must(t, err, "CreateAgent")
	want := in
	want.UpdatedAt = in.CreatedAt
	same(t, got, want, "CreateAgent result")

	byID, err := e.s.GetAgent(e.ctx, in.ID)
	must(t, err, "GetAgent")
	same(t, byID, want, "GetAgent")
	byName, err := e.s.GetAgentByName(e.ctx, "alice")
	must(t, err, "GetAgentByName")
	same(t, byName, want, "GetAgentByName")
	byKey, err := e.s.GetAgentByKeyID(e.ctx, in.APIKeyID)
	must(t, err, "GetAgentByKeyID")
	same(t, byKey, want, "GetAgentByKeyID")

	// Optional fields may be absent; a claimed agent keeps its owner.
	bare := e.newAgent("bob", "user-1")
	bare.Description, bare.ClaimToken = "", ""
	got, err = e.s.CreateAgent(e.ctx, bare)
	must(t, err, "CreateAgent minimal")
	back, err := e.s.GetAgent(e.ctx, bare.ID)
	must(t, err, "GetAgent minimal")
	same(t, back, got, "minimal agent")
	if back.OwnerUserID != "user-1" || back.ClaimToken != "" || back.Description != "" {
		t.Fatalf("minimal agent = %+v", back)
	}
}

func testAgentCreateConflict(t *testing.T, e *env) {
	a := e.agent("alice", "")
	cases := map[string]func(b *store.Agent){
		"name":        func(b *store.Agent) { b.Name = a.Name },
		"id":          func(b *store.Agent) { b.ID = a.ID },
		"key id":      func(b *store.Agent) { b.APIKeyID = a.APIKeyID },
		"claim token": func(b *store.Agent) { b.ClaimToken = a.ClaimToken },
	}
	for what, mutate := range cases {
		b := e.newAgent("bob", "")
		mutate(&b)
		_, err := e.s.CreateAgent(e.ctx, b)
		wantErr(t, err, store.ErrConflict, "duplicate "+what)
	}
	// Several agents may have no claim token.
	for _, name := range []string{"carol", "dave"} {
		b := e.newAgent(name, "")
		b.ClaimToken = ""
		_, err := e.s.CreateAgent(e.ctx, b)
		must(t, err, "agent without claim token")
	}
	if _, err := e.s.GetAgentByName(e.ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a conflicting create left a row: %v", err)
	}
}

func testAgentCreateInvalid(t *testing.T, e *env) {
	cases := map[string]func(b *store.Agent){
		"no id":      func(b *store.Agent) { b.ID = "" },
		"no name":    func(b *store.Agent) { b.Name = "" },
		"no key id":  func(b *store.Agent) { b.APIKeyID = "" },
		"no hash":    func(b *store.Agent) { b.APIKeySecretHash = "" },
		"bad status": func(b *store.Agent) { b.Status = "zombie" },
	}
	for what, mutate := range cases {
		b := e.newAgent("bob", "")
		mutate(&b)
		_, err := e.s.CreateAgent(e.ctx, b)
		wantErr(t, err, store.ErrInvalid, what)
	}
}

func testAgentNotFound(t *testing.T, e *env) {
	e.agent("alice", "")
	_, err := e.s.GetAgent(e.ctx, newAgentID())
	wantErr(t, err, store.ErrNotFound, "GetAgent")
	_, err = e.s.GetAgentByName(e.ctx, "nobody")
	wantErr(t, err, store.ErrNotFound, "GetAgentByName")
	_, err = e.s.GetAgentByKeyID(e.ctx, "ffffffffffffffff")
	wantErr(t, err, store.ErrNotFound, "GetAgentByKeyID")
	_, err = e.s.SetAgentStatus(e.ctx, newAgentID(), protocol.AgentStatusSuspended, e.now())
	wantErr(t, err, store.ErrNotFound, "SetAgentStatus")
}

func testAgentKeyIDSuspended(t *testing.T, e *env) {
	in := e.newAgent("alice", "")
	in.Status = protocol.AgentStatusSuspended
	a, err := e.s.CreateAgent(e.ctx, in)
	must(t, err, "CreateAgent")
	_, err = e.s.GetAgentByKeyID(e.ctx, a.APIKeyID)
	wantErr(t, err, store.ErrNotFound, "suspended agent by key id")

	at := e.now()
	a, err = e.s.SetAgentStatus(e.ctx, a.ID, protocol.AgentStatusActive, at)
	must(t, err, "SetAgentStatus active")
	if a.Status != protocol.AgentStatusActive || !a.UpdatedAt.Equal(at) {
		t.Fatalf("after SetAgentStatus: %+v", a)
	}
	if _, err := e.s.GetAgentByKeyID(e.ctx, a.APIKeyID); err != nil {
		t.Fatalf("active agent by key id: %v", err)
	}
	_, err = e.s.SetAgentStatus(e.ctx, a.ID, protocol.AgentStatusSuspended, e.now())
	must(t, err, "SetAgentStatus suspended")
	_, err = e.s.GetAgentByKeyID(e.ctx, a.APIKeyID)
	wantErr(t, err, store.ErrNotFound, "re-suspended agent by key id")
	_, err = e.s.SetAgentStatus(e.ctx, a.ID, "zombie", e.now())
	wantErr(t, err, store.ErrInvalid, "SetAgentStatus bad status")
	// A suspended agent is still readable by id and name.
	if _, err := e.s.GetAgent(e.ctx, a.ID); err != nil {
		t.Fatalf("GetAgent suspended: %v", err)
	}
}

func testAgentGetMany(t *testing.T, e *env) {
	c := e.agent("carol", "")
	a := e.agent("alice", "")
	b := e.agent("bob", "")
	got, err := e.s.GetAgentsByIDs(e.ctx, []protocol.AgentID{c.ID, newAgentID(), a.ID, c.ID})
	must(t, err, "GetAgentsByIDs")
	same(t, agentNames(got), []string{"alice", "carol"}, "GetAgentsByIDs names")
	same(t, got[0], a, "GetAgentsByIDs record")

	got, err = e.s.GetAgentsByNames(e.ctx, []string{"bob", "nobody", "alice", "bob"})
	must(t, err, "GetAgentsByNames")
	same(t, agentIDs(got), []protocol.AgentID{a.ID, b.ID}, "GetAgentsByNames ids")

	for what, f := range map[string]func() ([]store.Agent, error){
		"ids":   func() ([]store.Agent, error) { return e.s.GetAgentsByIDs(e.ctx, nil) },
		"names": func() ([]store.Agent, error) { return e.s.GetAgentsByNames(e.ctx, []string{}) },
		"none":  func() ([]store.Agent, error) { return e.s.GetAgentsByIDs(e.ctx, []protocol.AgentID{newAgentID()}) },
	} {
		got, err := f()
		must(t, err, "empty "+what)
		if len(got) != 0 {
			t.Fatalf("empty %s: got %d agents", what, len(got))
		}
	}

	// 100 ids at once (the protocol maximum).
	var many []protocol.AgentID
	for i := range 99 {
		many = append(many, e.agent(fmt.Sprintf("bulk-%02d", i), "").ID)
	}
	got, err = e.s.GetAgentsByIDs(e.ctx, append(many, a.ID))
	must(t, err, "GetAgentsByIDs 100")
	if len(got) != 100 {
		t.Fatalf("GetAgentsByIDs 100: got %d", len(got))
	}
}

func testAgentClaim(t *testing.T, e *env) {
	a := e.agent("alice", "")
	at := e.now()
	got, first, err := e.s.ClaimAgent(e.ctx, a.ClaimToken, "owner-1", at)
	must(t, err, "first claim")
	if !first || got.OwnerUserID != "owner-1" || !got.UpdatedAt.Equal(at) || got.ID != a.ID {
		t.Fatalf("first claim: first=%v agent=%+v", first, got)
	}
	stored, err := e.s.GetAgent(e.ctx, a.ID)
	must(t, err, "GetAgent")
	same(t, stored, got, "claimed agent")

	again, first, err := e.s.ClaimAgent(e.ctx, a.ClaimToken, "owner-1", e.now())
	must(t, err, "repeat claim")
	if first {
		t.Fatal("repeat claim by the same owner reported firstClaim")
	}
	same(t, again, got, "repeat claim result")

	_, _, err = e.s.ClaimAgent(e.ctx, a.ClaimToken, "owner-2", e.now())
	wantErr(t, err, store.ErrOwnerMismatch, "claim by another owner")
	_, _, err = e.s.ClaimAgent(e.ctx, "MZAP-UNKNOWN", "owner-1", e.now())
	wantErr(t, err, store.ErrNotFound, "unknown token")
	_, _, err = e.s.ClaimAgent(e.ctx, "", "owner-1", e.now())
	wantErr(t, err, store.ErrNotFound, "empty token")

	stored, err = e.s.GetAgent(e.ctx, a.ID)
	must(t, err, "GetAgent")
	if stored.OwnerUserID != "owner-1" {
		t.Fatalf("owner changed to %q", stored.OwnerUserID)
	}
}

func testAgentClaimRace(t *testing.T, e *env) {
	a := e.agent("alice", "")
	const n = 8
	var (
		wg                sync.WaitGroup
		mu                sync.Mutex
		firsts, mismatchs int
		winner            protocol.UserID
	)
	at := e.now()
	for i := range n {
		wg.Go(func() {
			owner := protocol.UserID(fmt.Sprintf("owner-%d", i))
			got, first, err := e.s.ClaimAgent(e.ctx, a.ClaimToken, owner, at)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && first:
				firsts++
				winner = got.OwnerUserID
			case errors.Is(err, store.ErrOwnerMismatch):
				mismatchs++
			default:
				t.Errorf("claim by %s: first=%v err=%v", owner, first, err)
			}
		})
	}
	wg.Wait()
	if firsts != 1 || mismatchs != n-1 {
		t.Fatalf("firsts=%d mismatches=%d, want 1 and %d", firsts, mismatchs, n-1)
	}
	stored, err := e.s.GetAgent(e.ctx, a.ID)
	must(t, err, "GetAgent")
	if stored.OwnerUserID != winner {
		t.Fatalf("owner = %q, winner %q", stored.OwnerUserID, winner)
	}
}

func testAgentRotateKey(t *testing.T, e *env) {
	a := e.agent("alice", "owner-1")
	at := e.now()
	got, err := e.s.RotateAgentKey(e.ctx, "alice", "owner-1", "aaaaaaaaaaaaaaaa", "bb", at)
	must(t, err, "RotateAgentKey")
	if got.APIKeyID != "aaaaaaaaaaaaaaaa" || got.APIKeySecretHash != "bb" || !got.UpdatedAt.Equal(at) || got.ID != a.ID {
		t.Fatalf("rotated agent = %+v", got)
	}
	_, err = e.s.GetAgentByKeyID(e.ctx, a.APIKeyID)
	wantErr(t, err, store.ErrNotFound, "old key id")
	byKey, err := e.s.GetAgentByKeyID(e.ctx, "aaaaaaaaaaaaaaaa")
	must(t, err, "new key id")
	same(t, byKey, got, "agent by new key")

	_, err = e.s.RotateAgentKey(e.ctx, "alice", "owner-2", "cccccccccccccccc", "dd", e.now())
	wantErr(t, err, store.ErrConflict, "rotate by another owner")
	_, err = e.s.RotateAgentKey(e.ctx, "alice", "", "cccccccccccccccc", "dd", e.now())
	wantErr(t, err, store.ErrConflict, "rotate claimed agent as unowned")
	_, err = e.s.RotateAgentKey(e.ctx, "nobody", "owner-1", "cccccccccccccccc", "dd", e.now())
	wantErr(t, err, store.ErrNotFound, "rotate unknown name")
	b := e.agent("bob", "")
	_, err = e.s.RotateAgentKey(e.ctx, "bob", "", b.APIKeyID, "dd", e.now())
	must(t, err, "rotate unowned agent (same key id)")
	_, err = e.s.RotateAgentKey(e.ctx, "bob", "", "aaaaaaaaaaaaaaaa", "dd", e.now())
	wantErr(t, err, store.ErrConflict, "rotate to a taken key id")
	_, err = e.s.RotateAgentKey(e.ctx, "bob", "", "", "", e.now())
	wantErr(t, err, store.ErrInvalid, "rotate to an empty key")

	_, err = e.s.SetAgentStatus(e.ctx, a.ID, protocol.AgentStatusSuspended, e.now())
	must(t, err, "suspend")
	_, err = e.s.RotateAgentKey(e.ctx, "alice", "owner-1", "eeeeeeeeeeeeeeee", "ff", e.now())
	wantErr(t, err, store.ErrConflict, "rotate suspended agent")
}

func testAgentsByOwner(t *testing.T, e *env) {
	e.agent("zed", "owner-1")
	e.agent("amy", "owner-1")
	e.agent("bob", "owner-2")
	e.agent("cat", "")
	got, err := e.s.AgentsByOwner(e.ctx, "owner-1")
	must(t, err, "AgentsByOwner")
	same(t, agentNames(got), []string{"amy", "zed"}, "AgentsByOwner")
	got, err = e.s.AgentsByOwner(e.ctx, "")
	must(t, err, "AgentsByOwner empty")
	if len(got) != 0 {
		t.Fatalf("AgentsByOwner(\"\") = %v", agentNames(got))
	}
}

// visibilityWorld builds users and agents for the visibility tests:
// u1 owns a1, a2; u2 (accepted, requested by u2) owns b1; u4 (accepted,
// requested by u1) owns d1, d2; u3 (pending) owns c1; u5 (unrelated) owns
// e1; z1 is unclaimed.
func visibilityWorld(t *testing.T, e *env) map[string]store.Agent {
	ag := map[string]store.Agent{}
	for name, owner := range map[string]protocol.UserID{
		"a1": "u1", "a2": "u1", "b1": "u2", "c1": "u3", "d1": "u4", "d2": "u4", "e1": "u5", "z1": "",
	} {
		ag[name] = e.agent(name, owner)
	}
	addContact := func(from, to protocol.UserID, accept bool) {
		c, err := e.s.AddContact(e.ctx, store.Contact{ID: newContactID(), OwnerUserID: from, ContactUserID: to, CreatedAt: e.now()})
		must(t, err, "AddContact")
		if accept {
			_, _, err := e.s.AcceptContact(e.ctx, c.ID, to, e.now())
			must(t, err, "AcceptContact")
		}
	}
	addContact("u2", "u1", true)
	addContact("u1", "u4", true)
	addContact("u1", "u3", false)
	addContact("u5", "u2", true) // a contact of a contact is not visible
	return ag
}

func testListVisibleAgents(t *testing.T, e *env) {
	ag := visibilityWorld(t, e)
	page, err := e.s.ListVisibleAgents(e.ctx, ag["a1"].ID, store.Page{})
	must(t, err, "ListVisibleAgents a1")
	same(t, agentNames(page.Items), []string{"a1", "a2", "b1", "d1", "d2"}, "visible to a1")
	if page.NextCursor != "" {
		t.Fatalf("single page has NextCursor %q", page.NextCursor)
	}
	same(t, page.Items[2], ag["b1"], "visible record")

	page, err = e.s.ListVisibleAgents(e.ctx, ag["b1"].ID, store.Page{})
	must(t, err, "ListVisibleAgents b1")
	same(t, agentNames(page.Items), []string{"a1", "a2", "b1", "e1"}, "visible to b1")

	page, err = e.s.ListVisibleAgents(e.ctx, ag["c1"].ID, store.Page{})
	must(t, err, "ListVisibleAgents c1")
	same(t, agentNames(page.Items), []string{"c1"}, "pending contact sees only its own")

	page, err = e.s.ListVisibleAgents(e.ctx, ag["z1"].ID, store.Page{})
	must(t, err, "ListVisibleAgents z1")
	same(t, agentNames(page.Items), []string{"z1"}, "unclaimed viewer sees itself")
	if page.NextCursor != "" {
		t.Fatalf("unclaimed viewer: NextCursor %q", page.NextCursor)
	}

	_, err = e.s.ListVisibleAgents(e.ctx, newAgentID(), store.Page{})
	wantErr(t, err, store.ErrNotFound, "unknown viewer")
}

func testListVisibleAgentsPaging(t *testing.T, e *env) {
	ag := visibilityWorld(t, e)
	for i := range 6 {
		e.agent(fmt.Sprintf("a%d-extra", i), "u1")
	}
	all, err := e.s.ListVisibleAgents(e.ctx, ag["a1"].ID, store.Page{Limit: 100})
	must(t, err, "ListVisibleAgents all")
	if len(all.Items) != 11 || all.NextCursor != "" {
		t.Fatalf("all: %d items, cursor %q", len(all.Items), all.NextCursor)
	}
	for _, limit := range []int{1, 2, 3, 5, 10, 11} {
		var (
			got    []protocol.AgentName
			cursor protocol.Cursor
			pages  int
		)
		for {
			page, err := e.s.ListVisibleAgents(e.ctx, ag["a1"].ID, store.Page{Limit: limit, Cursor: cursor})
			must(t, err, "ListVisibleAgents page")
			if len(page.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page.Items))
			}
			got = append(got, agentNames(page.Items)...)
			pages++
			if page.NextCursor == "" {
				break
			}
			if page.NextCursor == cursor || pages > 20 {
				t.Fatalf("limit %d: cursor does not advance", limit)
			}
			cursor = page.NextCursor
		}
		same(t, got, agentNames(all.Items), fmt.Sprintf("limit %d pages", limit))
	}
	if !slices.IsSorted(agentNames(all.Items)) {
		t.Fatalf("not ordered by name: %v", agentNames(all.Items))
	}

	// Limit 0 means the default (50).
	def, err := e.s.ListVisibleAgents(e.ctx, ag["a1"].ID, store.Page{})
	must(t, err, "default limit")
	if len(def.Items) != 11 {
		t.Fatalf("default limit: %d items", len(def.Items))
	}

	for _, bad := range []protocol.Cursor{"garbage!", "e30", "bm90IGpzb24"} {
		_, err = e.s.ListVisibleAgents(e.ctx, ag["a1"].ID, store.Page{Cursor: bad})
		wantErr(t, err, store.ErrBadCursor, "bad cursor "+string(bad))
	}
	// A cursor of another listing is refused.
	tasks := e.tasksCursor(ag["a1"].ID)
	_, err = e.s.ListVisibleAgents(e.ctx, ag["a1"].ID, store.Page{Cursor: tasks})
	wantErr(t, err, store.ErrBadCursor, "cursor of another listing")
}

// tasksCursor returns a non-empty task-list cursor for agent.
func (e *env) tasksCursor(agent protocol.AgentID) protocol.Cursor {
	e.t.Helper()
	e.task(agent)
	e.task(agent)
	page, err := e.s.ListTasksForAgent(e.ctx, agent, store.Page{Limit: 1})
	must(e.t, err, "ListTasksForAgent")
	if page.NextCursor == "" {
		e.t.Fatal("ListTasksForAgent: no cursor")
	}
	return page.NextCursor
}

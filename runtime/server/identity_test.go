package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

const (
	ownerA = "0b5c4d6e-0000-4000-8000-00000000000a"
	ownerB = "0b5c4d6e-0000-4000-8000-00000000000b"
)

func TestAgentsLookup(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	p := e.connectAs(a)
	var res protocol.AgentsLookupResult
	p.mustCall("agents/lookup", map[string]any{"agentIds": []string{b.ID, "0b5c4d6e-0000-4000-8000-0000000000ff"}}, &res)
	if len(res.Agents) != 1 || string(res.Agents[0].ID) != b.ID || string(res.Agents[0].Name) != b.Name || res.Agents[0].Status != protocol.AgentStatusActive {
		t.Fatalf("lookup %+v", res.Agents)
	}
	var byName protocol.AgentsLookupByNameResult
	p.mustCall("agents/lookupByName", map[string]any{"names": []string{a.Name, b.Name, "nobody"}}, &byName)
	if len(byName.Agents) != 2 {
		t.Fatalf("lookupByName %+v", byName.Agents)
	}
	p.wantError("agents/lookup", map[string]any{"agentIds": []string{}}, -32602)
	p.wantError("agents/lookupByName", map[string]any{"names": []string{""}}, -32602)
}

func TestAgentsListVisibilityAndPaging(t *testing.T) {
	e := newEnv(t)
	var sibs []agent
	for i := 0; i < 5; i++ {
		s := e.register("sib")
		e.claim(s, ownerA)
		sibs = append(sibs, s)
	}
	other := e.register("other")
	e.claim(other, ownerB)
	lonely := e.register("lonely")
	p := e.connectAs(sibs[0])

	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		params := map[string]any{"limit": 2}
		if cursor != "" {
			params["cursor"] = cursor
		}
		var res protocol.AgentsListResult
		p.mustCall("agents/list", params, &res)
		for _, a := range res.Agents {
			if seen[string(a.ID)] {
				t.Fatalf("agent %s listed twice", a.Name)
			}
			seen[string(a.ID)] = true
		}
		if res.NextCursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("agents/list does not end")
		}
		cursor = string(*res.NextCursor)
	}
	if len(seen) != 5 || seen[other.ID] || seen[lonely.ID] {
		t.Fatalf("visible set %v: want exactly the 5 siblings", seen)
	}
	p.wantError("agents/list", map[string]any{"cursor": "not-a-cursor"}, -32602)
	p.wantError("agents/list", map[string]any{"limit": 201}, -32602)
	p.wantError("agents/list", map[string]any{"limit": 0}, -32602)

	var mine protocol.AgentsListResult
	e.connectAs(lonely).mustCall("agents/list", map[string]any{}, &mine)
	if len(mine.Agents) != 1 || string(mine.Agents[0].ID) != lonely.ID {
		t.Fatalf("an unclaimed agent sees %+v, want only itself", mine.Agents)
	}
}

func TestContactsFlow(t *testing.T) {
	e := newEnv(t)
	a, b, b2, unclaimed := e.register("alice"), e.register("bob"), e.register("bobtoo"), e.register("nobody")
	e.claim(a, ownerA)
	e.claim(b, ownerB)
	e.claim(b2, ownerB)
	pa, pb, pb2 := e.connectAs(a), e.connectAs(b), e.connectAs(b2)

	e.connectAs(unclaimed).wantError("contacts/list", map[string]any{}, -32000)
	pa.wantError("contacts/add", map[string]any{"contactUserId": ownerA}, -32001)

	var added protocol.ContactsAddResult
	pa.mustCall("contacts/add", map[string]any{"contactUserId": ownerB, "relationship": "colleague"}, &added)
	c := added.Contact
	if c.Status != protocol.ContactStatusPending || c.Direction != protocol.ContactDirectionOutgoing || string(c.ContactUserID) != ownerB {
		t.Fatalf("added %+v", c)
	}
	for _, p := range []*peer{pb, pb2} { // every active agent of the target user
		var n protocol.ContactRequestNotification
		p.waitNote("contact/request", nil, &n)
		if n.Contact.ID != c.ID || n.Contact.Direction != protocol.ContactDirectionIncoming || string(n.Contact.ContactUserID) != ownerA {
			t.Fatalf("contact/request %+v", n.Contact)
		}
	}
	pa.wantError("contacts/add", map[string]any{"contactUserId": ownerB}, -32003)
	pb.wantError("contacts/add", map[string]any{"contactUserId": ownerA}, -32003)
	pa.wantError("contacts/accept", map[string]any{"contactId": c.ID}, -32001)
	pb.wantError("contacts/accept", map[string]any{"contactId": "0b5c4d6e-0000-4000-8000-0000000000ee"}, -32002)

	var acc protocol.ContactsAcceptResult
	pb.mustCall("contacts/accept", map[string]any{"contactId": c.ID}, &acc)
	if acc.Contact.Status != protocol.ContactStatusAccepted {
		t.Fatalf("accepted %+v", acc.Contact)
	}
	var note protocol.ContactAcceptedNotification
	pa.waitNote("contact/accepted", nil, &note)
	if note.Contact.ID != c.ID || note.Contact.Direction != protocol.ContactDirectionOutgoing {
		t.Fatalf("contact/accepted %+v", note.Contact)
	}
	pb.mustCall("contacts/accept", map[string]any{"contactId": c.ID}, nil) // idempotent, no second notice
	pa.noNewNote("contact/accepted", nil, 200*time.Millisecond)
	if n := len(pa.notesOf("contact/accepted")); n != 1 {
		t.Fatalf("%d contact/accepted notices, want 1", n)
	}

	var byID protocol.ContactsByIDResult
	pb.mustCall("contacts/byId", map[string]any{"contactId": c.ID}, &byID)
	if byID.Contact.Direction != protocol.ContactDirectionIncoming || string(byID.Contact.ContactUserID) != ownerA {
		t.Fatalf("byId from the target %+v", byID.Contact)
	}
	var list protocol.ContactsListResult
	pa.mustCall("contacts/list", map[string]any{}, &list)
	if len(list.Contacts) != 1 || list.Contacts[0].ID != c.ID {
		t.Fatalf("list %+v", list.Contacts)
	}
	// Now bob's agents are visible to alice.
	var vis protocol.AgentsListResult
	pa.mustCall("agents/list", map[string]any{}, &vis)
	if len(vis.Agents) != 3 {
		raw, _ := json.Marshal(vis)
		t.Fatalf("alice sees %s, want herself and bob's two agents", raw)
	}
}

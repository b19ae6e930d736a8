package storetest

import (
	"fmt"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func contactCases() []testCase {
	return []testCase{
		{"Contacts/AddAndGet", testContactAddAndGet},
		{"Contacts/AddConflict", testContactAddConflict},
		{"Contacts/Accept", testContactAccept},
		{"Contacts/ListPerspectives", testContactListPerspectives},
		{"Contacts/ListPaging", testContactListPaging},
		{"Contacts/AreInContact", testAreInContact},
	}
}

// contact adds a pending edge from -> to.
func (e *env) contact(from, to protocol.UserID) store.Contact {
	e.t.Helper()
	c, err := e.s.AddContact(e.ctx, store.Contact{ID: newContactID(), OwnerUserID: from, ContactUserID: to, CreatedAt: e.now()})
	must(e.t, err, "AddContact")
	return c
}

func testContactAddAndGet(t *testing.T, e *env) {
	at := e.now()
	in := store.Contact{ID: newContactID(), OwnerUserID: "u1", ContactUserID: "u2", Relationship: "colleague", CreatedAt: at,
		Status: protocol.ContactStatusAccepted, Direction: protocol.ContactDirectionIncoming} // status and direction are ignored
	got, err := e.s.AddContact(e.ctx, in)
	must(t, err, "AddContact")
	want := store.Contact{ID: in.ID, OwnerUserID: "u1", ContactUserID: "u2", Relationship: "colleague",
		Status: protocol.ContactStatusPending, Direction: protocol.ContactDirectionOutgoing, CreatedAt: at, UpdatedAt: at}
	same(t, got, want, "AddContact result")
	stored, err := e.s.GetContact(e.ctx, in.ID)
	must(t, err, "GetContact")
	same(t, stored, want, "GetContact")

	fromTarget, ok := stored.ForViewer("u2")
	if !ok || fromTarget.OwnerUserID != "u2" || fromTarget.ContactUserID != "u1" || fromTarget.Direction != protocol.ContactDirectionIncoming {
		t.Fatalf("ForViewer(target) = %+v, %v", fromTarget, ok)
	}
	if fromTarget.RequesterUserID() != "u1" || fromTarget.TargetUserID() != "u2" ||
		stored.RequesterUserID() != "u1" || stored.TargetUserID() != "u2" {
		t.Fatal("requester/target do not survive a change of perspective")
	}
	back, _ := fromTarget.ForViewer("u1")
	same(t, back, stored, "ForViewer round trip")
	if _, ok := stored.ForViewer("u3"); ok {
		t.Fatal("ForViewer(stranger) reported a party")
	}

	_, err = e.s.GetContact(e.ctx, newContactID())
	wantErr(t, err, store.ErrNotFound, "GetContact unknown")
	noRel, err := e.s.AddContact(e.ctx, store.Contact{ID: newContactID(), OwnerUserID: "u1", ContactUserID: "u3", CreatedAt: e.now()})
	must(t, err, "AddContact without relationship")
	if noRel.Relationship != "" {
		t.Fatalf("relationship = %q", noRel.Relationship)
	}
}

func testContactAddConflict(t *testing.T, e *env) {
	c := e.contact("u1", "u2")
	add := func(id protocol.ContactID, from, to protocol.UserID) error {
		_, err := e.s.AddContact(e.ctx, store.Contact{ID: id, OwnerUserID: from, ContactUserID: to, CreatedAt: e.now()})
		return err
	}
	wantErr(t, add(newContactID(), "u1", "u2"), store.ErrConflict, "same direction")
	wantErr(t, add(newContactID(), "u2", "u1"), store.ErrConflict, "reverse direction")
	wantErr(t, add(c.ID, "u3", "u4"), store.ErrConflict, "taken id")
	wantErr(t, add(newContactID(), "u1", "u1"), store.ErrInvalid, "self contact")
	wantErr(t, add(newContactID(), "", "u1"), store.ErrInvalid, "no owner")
	wantErr(t, add("", "u1", "u5"), store.ErrInvalid, "no id")

	// After acceptance the pair stays taken.
	_, _, err := e.s.AcceptContact(e.ctx, c.ID, "u2", e.now())
	must(t, err, "AcceptContact")
	wantErr(t, add(newContactID(), "u2", "u1"), store.ErrConflict, "reverse of accepted")
	must(t, add(newContactID(), "u2", "u3"), "another pair")
}

func testContactAccept(t *testing.T, e *env) {
	c := e.contact("u1", "u2")
	_, _, err := e.s.AcceptContact(e.ctx, c.ID, "u1", e.now())
	wantErr(t, err, store.ErrForbidden, "accept by the requester")
	_, _, err = e.s.AcceptContact(e.ctx, c.ID, "u3", e.now())
	wantErr(t, err, store.ErrNotFound, "accept by a stranger")
	_, _, err = e.s.AcceptContact(e.ctx, newContactID(), "u2", e.now())
	wantErr(t, err, store.ErrNotFound, "accept unknown edge")
	stored, err := e.s.GetContact(e.ctx, c.ID)
	must(t, err, "GetContact")
	if stored.Status != protocol.ContactStatusPending {
		t.Fatalf("refused accepts changed the status to %s", stored.Status)
	}

	at := e.now()
	got, transitioned, err := e.s.AcceptContact(e.ctx, c.ID, "u2", at)
	must(t, err, "accept by the target")
	want := store.Contact{ID: c.ID, OwnerUserID: "u2", ContactUserID: "u1", Status: protocol.ContactStatusAccepted,
		Direction: protocol.ContactDirectionIncoming, CreatedAt: c.CreatedAt, UpdatedAt: at}
	if !transitioned {
		t.Fatal("first accept did not transition")
	}
	same(t, got, want, "accepted contact (acceptor's view)")

	again, transitioned, err := e.s.AcceptContact(e.ctx, c.ID, "u2", e.now())
	must(t, err, "repeat accept")
	if transitioned {
		t.Fatal("repeat accept transitioned")
	}
	same(t, again, want, "repeat accept result")
	_, _, err = e.s.AcceptContact(e.ctx, c.ID, "u1", e.now())
	wantErr(t, err, store.ErrForbidden, "requester accepting an accepted edge")

	stored, err = e.s.GetContact(e.ctx, c.ID)
	must(t, err, "GetContact")
	if stored.Status != protocol.ContactStatusAccepted || stored.OwnerUserID != "u1" || stored.Direction != protocol.ContactDirectionOutgoing {
		t.Fatalf("stored after accept = %+v", stored)
	}
}

func testContactListPerspectives(t *testing.T, e *env) {
	out := e.contact("u1", "u2") // outgoing pending for u1
	in := e.contact("u3", "u1")  // incoming, accepted below
	_, _, err := e.s.AcceptContact(e.ctx, in.ID, "u1", e.now())
	must(t, err, "AcceptContact")
	e.contact("u2", "u3") // does not involve u1

	page, err := e.s.ListContacts(e.ctx, "u1", store.Page{})
	must(t, err, "ListContacts u1")
	if len(page.Items) != 2 || page.NextCursor != "" {
		t.Fatalf("u1 contacts: %+v", page)
	}
	type view struct {
		ID           protocol.ContactID
		Owner, Other protocol.UserID
		Status       protocol.ContactStatus
		Direction    protocol.ContactDirection
	}
	views := func(cs []store.Contact) []view {
		var vs []view
		for _, c := range cs {
			vs = append(vs, view{c.ID, c.OwnerUserID, c.ContactUserID, c.Status, c.Direction})
		}
		return vs
	}
	same(t, views(page.Items), []view{
		{out.ID, "u1", "u2", protocol.ContactStatusPending, protocol.ContactDirectionOutgoing},
		{in.ID, "u1", "u3", protocol.ContactStatusAccepted, protocol.ContactDirectionIncoming},
	}, "u1's view")

	page, err = e.s.ListContacts(e.ctx, "u2", store.Page{})
	must(t, err, "ListContacts u2")
	if len(page.Items) != 2 {
		t.Fatalf("u2 contacts: %d", len(page.Items))
	}
	same(t, views(page.Items)[0], view{out.ID, "u2", "u1", protocol.ContactStatusPending, protocol.ContactDirectionIncoming}, "u2's view")

	page, err = e.s.ListContacts(e.ctx, "u9", store.Page{})
	must(t, err, "ListContacts u9")
	if len(page.Items) != 0 || page.NextCursor != "" {
		t.Fatalf("stranger contacts: %+v", page)
	}
}

func testContactListPaging(t *testing.T, e *env) {
	var want []protocol.ContactID
	for i := range 7 {
		other := protocol.UserID(fmt.Sprintf("peer-%d", i))
		var c store.Contact
		if i%2 == 0 {
			c = e.contact("me", other)
		} else {
			c = e.contact(other, "me")
		}
		want = append(want, c.ID)
	}
	var (
		got    []protocol.ContactID
		cursor protocol.Cursor
	)
	for range 10 {
		page, err := e.s.ListContacts(e.ctx, "me", store.Page{Limit: 3, Cursor: cursor})
		must(t, err, "ListContacts")
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	same(t, got, want, "paged contacts (oldest first)")
	_, err := e.s.ListContacts(e.ctx, "me", store.Page{Cursor: "%%%"})
	wantErr(t, err, store.ErrBadCursor, "bad cursor")
}

func testAreInContact(t *testing.T, e *env) {
	pending := e.contact("u1", "u2")
	check := func(a, b protocol.UserID, want bool) {
		t.Helper()
		got, err := e.s.AreInContact(e.ctx, a, b)
		must(t, err, "AreInContact")
		if got != want {
			t.Fatalf("AreInContact(%q, %q) = %v, want %v", a, b, got, want)
		}
	}
	check("u1", "u2", false)
	check("u2", "u1", false)
	_, _, err := e.s.AcceptContact(e.ctx, pending.ID, "u2", e.now())
	must(t, err, "AcceptContact")
	check("u1", "u2", true)
	check("u2", "u1", true)
	check("u1", "u3", false)
	check("u3", "u3", true)
	check("", "", false)
	check("u1", "", false)
}

package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

func TestCatchUpDeliversMissedMessagesOnce(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.AddConversation(servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice))
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)

	seen := []protocol.Message{conn.Receive(task, "conv-a", alice, "1"), conn.Receive(task, "conv-a", alice, "2")}
	conn.Disconnect()
	var missed []protocol.Message
	for range 450 { // three pages of 200
		missed = append(missed, conn.Store("conv-a", alice, "missed"))
	}
	// A live message on the new connection, before the catch-up runs: it must neither be
	// delivered twice nor move the catch-up start past the missed ones.
	live := conn.Receive(task, "conv-a", alice, "live")
	conn.Reconnect()

	want := append(append(ids(seen...), string(live.ID)), ids(missed...)...)
	rec.waitFor(t, len(want))
	time.Sleep(50 * time.Millisecond) // nothing else may follow
	got := rec.ids()
	if len(got) != len(want) {
		t.Fatalf("delivered %d messages, want %d", len(got), len(want))
	}
	for _, id := range want {
		if n := count(got, id); n != 1 {
			t.Fatalf("message %s delivered %d times", id, n)
		}
	}
	calls := conn.ListCalls()
	if len(calls) < 3 || calls[0].SinceSeq == nil || *calls[0].SinceSeq != seen[1].Seq {
		t.Fatalf("first messages/list should start at the last seq seen before the disconnect (%s): %+v", seen[1].Seq, calls)
	}

	// A second reconnect with nothing missed lists from the newest seq and delivers nothing.
	conn.Reconnect()
	eventually(t, "second catch-up", func() bool { return len(conn.ListCalls()) > len(calls) })
	time.Sleep(50 * time.Millisecond)
	if n := len(rec.ids()); n != len(want) {
		t.Fatalf("second catch-up delivered %d extra messages", n-len(want))
	}
	last := conn.ListCalls()[len(calls)]
	if *last.SinceSeq != live.Seq { // the highest seq seen
		t.Fatalf("second catch-up started at %s, want %s", *last.SinceSeq, live.Seq)
	}
}

func TestCatchUpOfConversationLoadedWithHistory(t *testing.T) {
	conn := servicetest.NewConn(self)
	base := time.Now().Add(-time.Hour)
	clock := base
	conn.SetNow(func() time.Time { return clock })
	item := servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice)
	for range 3 {
		m := conn.Store("conv-a", alice, "old")
		item.Conversation.LastMessageTimestamp = &m.CreatedAt
		clock = clock.Add(time.Second)
	}
	conn.AddConversation(item)
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	conn.Disconnect()
	fresh := []protocol.Message{conn.Store("conv-a", alice, "new1"), conn.Store("conv-a", alice, "new2")}
	conn.Reconnect()
	got := rec.waitFor(t, 2)
	time.Sleep(30 * time.Millisecond)
	if !slices.Equal(rec.ids(), ids(fresh...)) {
		t.Fatalf("delivered %v, want only the messages after the loaded history %v", got, ids(fresh...))
	}
}

func TestCatchUpFindsNewConversations(t *testing.T) {
	conn := servicetest.NewConn(self)
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	conn.Disconnect()
	// Created and written while the connection was down: no notification was seen.
	conn.AddConversation(servicetest.Conversation(task, "conv-new", "fresh", protocol.ConversationTypeGroup, alice, self, bob))
	missed := []protocol.Message{conn.Store("conv-new", alice, "a"), conn.Store("conv-new", bob, "b")}
	conn.Reconnect()
	rec.waitFor(t, 2)
	if !slices.Equal(rec.ids(), ids(missed...)) {
		t.Fatalf("delivered %v, want %v", rec.ids(), ids(missed...))
	}
	c, ok := s.Conversation("conv-new")
	if !ok || c.Name != "fresh" || c.Type != "group" || len(c.Participants) != 3 {
		t.Fatalf("conversation cache after refresh: %+v %v", c, ok)
	}
}

func TestCatchUpSkipsArchivedAndReportsArchiveChanges(t *testing.T) {
	conn := servicetest.NewConn(self)
	item := servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice)
	conn.AddConversation(item)
	s := newService(t, conn, service.Options{})
	archived := make(chan service.ConversationEvent, 1)
	s.OnConversationArchived(func(ev service.ConversationEvent) { archived <- ev })
	conn.Disconnect()
	at := protocol.DateTime("2026-01-01T00:00:00.000Z")
	item.Conversation.ArchivedAt = &at
	conn.AddConversation(item)
	if err := s.CatchUp(context.Background()); err != nil {
		t.Fatalf("catch-up: %v", err)
	}
	select {
	case ev := <-archived:
		if ev.ConversationID != "conv-a" || ev.TaskID != task {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("no archived event for an archive noticed on refresh")
	}
	if !s.IsConversationArchived("conv-a") {
		t.Fatal("conversation not archived in the cache")
	}
	if n := len(conn.ListCalls()); n != 0 {
		t.Fatalf("archived conversation was listed %d times", n)
	}
}

func TestFailedCatchUpKeepsItsCursor(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.AddConversation(servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice))
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	first := conn.Receive(task, "conv-a", alice, "1")
	conn.Disconnect()
	missed := conn.Store("conv-a", alice, "missed")
	conn.SetListErr(protocol.ForbiddenError{})
	if err := s.CatchUp(context.Background()); err == nil {
		t.Fatal("catch-up succeeded with a failing messages/list")
	}
	// A live message after the failed catch-up must not move the cursor past the gap.
	live := conn.Receive(task, "conv-a", alice, "live")
	conn.SetListErr(nil)
	if err := s.CatchUp(context.Background()); err != nil {
		t.Fatalf("catch-up: %v", err)
	}
	if got, want := rec.ids(), ids(first, live, missed); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

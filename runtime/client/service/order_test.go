package service_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

// Live messages that arrive after a reconnect, before the catch-up listed the missed ones,
// are held and delivered after them: the conversation reads in seq order. Duplicates of
// listed messages are dropped by seq even once their ids left the window.
func TestLiveMessagesWaitForTheCatchUp(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.AddConversation(servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice))
	reports := make(chan service.CatchUpReport, 4)
	s := newService(t, conn, service.Options{DedupWindow: 2, OnCatchUp: func(r service.CatchUpReport) { reports <- r }})
	rec := newRecorder(s)

	before := conn.Receive(task, "conv-a", alice, "before")
	conn.Disconnect()
	var missed []protocol.Message
	for i := range 5 {
		missed = append(missed, conn.Store("conv-a", alice, fmt.Sprintf("missed %d", i)))
	}
	// On the new connection, before the catch-up: a live message, and a live copy of a
	// missed one (a node's fan-out overlapping the listing).
	live := conn.Receive(task, "conv-a", alice, "live")
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: missed[1]})
	if n := len(rec.ids()); n != 1 {
		t.Fatalf("%d messages delivered before the catch-up, want only the one before the drop", n)
	}
	conn.Reconnect()
	r := recv(t, reports)
	if r.Err != nil || len(r.Recovered) != 1 || r.Recovered[0].Count != 6 {
		t.Fatalf("catch-up report %+v, want 6 messages recovered (5 missed + the live one)", r)
	}
	want := append(append(ids(before), ids(missed...)...), string(live.ID))
	if got := rec.ids(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v (seq order, each once)", got, want)
	}

	// missed[0] left the 2-id window long ago; its seq is below the floor: still a duplicate.
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: missed[0]})
	after := conn.Receive(task, "conv-a", alice, "after")
	if got := rec.ids(); !slices.Equal(got, append(want, string(after.ID))) {
		t.Fatalf("after the catch-up: delivered %v", got)
	}
}

// A conversation first heard of during the gap (its live message arrives before the
// catch-up) is caught up from its start, its messages delivered in seq order.
func TestConversationLearntDuringTheGapIsCaughtUpFromItsStart(t *testing.T) {
	conn := servicetest.NewConn(self)
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	conn.Disconnect()
	conn.AddConversation(servicetest.Conversation(task, "conv-new", "", protocol.ConversationTypeDm, alice, self))
	early := []protocol.Message{conn.Store("conv-new", alice, "1"), conn.Store("conv-new", alice, "2")}
	live := conn.Receive(task, "conv-new", alice, "3")
	if n := len(rec.ids()); n != 0 {
		t.Fatalf("%d messages delivered before the catch-up", n)
	}
	conn.Reconnect()
	rec.waitFor(t, 3)
	time.Sleep(30 * time.Millisecond)
	if got, want := rec.ids(), append(ids(early...), string(live.ID)); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if calls := conn.ListCalls(); len(calls) == 0 || calls[0].SinceSeq == nil || *calls[0].SinceSeq != "0" {
		t.Fatalf("messages/list calls %+v, want one from seq 0", calls)
	}
}

// A catch-up refused by the server does not keep live messages waiting: the held ones are
// delivered when the run ends, new ones at once, and the cursor stays for the next run.
func TestFailedCatchUpReleasesHeldMessages(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.AddConversation(servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice))
	reports := make(chan service.CatchUpReport, 4)
	s := newService(t, conn, service.Options{OnCatchUp: func(r service.CatchUpReport) { reports <- r }})
	rec := newRecorder(s)
	first := conn.Receive(task, "conv-a", alice, "first")
	conn.Disconnect()
	missed := conn.Store("conv-a", alice, "missed")
	held := conn.Receive(task, "conv-a", alice, "held")
	conn.SetListErr(protocol.InternalError{})
	conn.Reconnect()
	if r := recv(t, reports); r.Err == nil {
		t.Fatal("catch-up reported no error with a failing messages/list")
	}
	live := conn.Receive(task, "conv-a", alice, "live")
	if got, want := rec.ids(), ids(first, held, live); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	conn.SetListErr(nil)
	conn.Disconnect()
	conn.Reconnect()
	if r := recv(t, reports); r.Err != nil {
		t.Fatalf("second catch-up: %v", r.Err)
	}
	if got, want := rec.ids(), ids(first, held, live, missed); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v (the missed one recovered by the second run)", got, want)
	}
}

// A catch-up cut short by a lost connection keeps the live messages held: the next
// reconnect's run delivers everything in seq order.
func TestCatchUpCutByADropKeepsHolding(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.AddConversation(servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice))
	reports := make(chan service.CatchUpReport, 4)
	s := newService(t, conn, service.Options{OnCatchUp: func(r service.CatchUpReport) { reports <- r }})
	rec := newRecorder(s)
	first := conn.Receive(task, "conv-a", alice, "first")
	conn.Disconnect()
	missed := conn.Store("conv-a", alice, "missed")
	held := conn.Receive(task, "conv-a", alice, "held")
	conn.SetListErr(fmt.Errorf("moltzap: messages/list: %w", client.ErrNotConnected))
	conn.Reconnect()
	if r := recv(t, reports); r.Err == nil {
		t.Fatal("catch-up reported no error with a dropped connection")
	}
	if got := rec.ids(); !slices.Equal(got, ids(first)) {
		t.Fatalf("delivered %v while the catch-up is owed, want only %v", got, ids(first))
	}
	conn.SetListErr(nil)
	conn.Disconnect()
	conn.Reconnect()
	if r := recv(t, reports); r.Err != nil {
		t.Fatalf("second catch-up: %v", r.Err)
	}
	if got, want := rec.ids(), ids(first, missed, held); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// recv waits for a catch-up report.
func recv(t *testing.T, ch <-chan service.CatchUpReport) service.CatchUpReport {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no catch-up report")
		return service.CatchUpReport{}
	}
}

package service_test

import (
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

func TestDuplicateMessagesAreDroppedPerConversation(t *testing.T) {
	conn := servicetest.NewConn(self)
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	m := conn.Receive(task, "conv-a", alice, "hi")
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: m})
	// The same id in another conversation is a different window.
	other := m
	other.ConversationID = "conv-b"
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: other})
	if got := rec.ids(); len(got) != 2 {
		t.Fatalf("delivered %v, want the message once per conversation", got)
	}
}

func TestDedupWindowEvictsAfter1000(t *testing.T) {
	conn := servicetest.NewConn(self)
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	var all []protocol.Message
	for i := 0; i < service.DefaultDedupWindow+1; i++ {
		all = append(all, conn.Receive(task, "conv-a", alice, "x"))
	}
	if n := len(rec.ids()); n != service.DefaultDedupWindow+1 {
		t.Fatalf("delivered %d", n)
	}
	// The first id was evicted by the 1001st: it is delivered again.
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: all[0]})
	// The second is still in the window (and re-delivering the first evicted it).
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: all[2]})
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: all[len(all)-1]})
	got := rec.ids()
	if len(got) != service.DefaultDedupWindow+2 || got[len(got)-1] != string(all[0].ID) {
		t.Fatalf("after redelivery: %d delivered, last %s", len(got), got[len(got)-1])
	}
	conn.Notify(protocol.MessagesReceivedNotification{TaskID: task, Message: all[1]})
	if n := len(rec.ids()); n != service.DefaultDedupWindow+3 {
		t.Fatalf("all[1] should have been evicted by the redelivered all[0]; delivered %d", n)
	}
}

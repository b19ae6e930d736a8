package service_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

func TestStartDrainsTheConversationList(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.SetConversationPageSize(2)
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5"} {
		conn.AddConversation(servicetest.Conversation(task, id, "name-"+id, protocol.ConversationTypeGroup, self, alice, bob))
	}
	conn.SetName(alice, "Alice")
	s := newService(t, conn, service.Options{})
	if n := len(s.Conversations()); n != 5 {
		t.Fatalf("cached %d conversations, want 5", n)
	}
	c, ok := s.Conversation("c5")
	if !ok || c.Name != "name-c5" || c.Type != "group" || c.TaskID != task || !slices.Equal(c.Participants, []string{self, alice, bob}) {
		t.Fatalf("c5 = %+v", c)
	}
	// Start warmed the names of the participants.
	if n, ok := s.AgentName(alice); !ok || n != "Alice" {
		t.Fatalf("alice's name not cached: %q %v", n, ok)
	}
}

func TestConversationNotificationsKeepTheCacheCurrent(t *testing.T) {
	conn := servicetest.NewConn(self)
	s := newService(t, conn, service.Options{})
	var events []string
	s.OnConversationArchived(func(ev service.ConversationEvent) { events = append(events, "archived:"+ev.ConversationID) })
	s.OnConversationUnarchived(func(ev service.ConversationEvent) { events = append(events, "unarchived:"+ev.ConversationID) })

	name := "pair"
	conn.Notify(protocol.TaskConversationCreatedNotification{TaskID: task, ConversationID: "dm", Name: &name, Participants: []protocol.AgentID{alice}})
	conn.Notify(protocol.TaskConversationCreatedNotification{TaskID: task, ConversationID: "grp", Participants: []protocol.AgentID{alice, bob}})
	dm, _ := s.Conversation("dm")
	grp, _ := s.Conversation("grp")
	if dm.Type != "dm" || dm.Name != "pair" || !slices.Contains(dm.Participants, self) || !slices.Contains(dm.Participants, alice) {
		t.Fatalf("dm = %+v", dm)
	}
	if grp.Type != "group" || len(grp.Participants) != 3 {
		t.Fatalf("grp = %+v", grp)
	}

	conn.Notify(protocol.TaskConversationParticipantsAddedNotification{TaskID: task, ConversationID: "dm", AddedAgentID: bob, ByAgentOrTM: "tm"})
	conn.Notify(protocol.TaskConversationParticipantsRemovedNotification{TaskID: task, ConversationID: "dm", RemovedAgentID: alice, Reason: "tm_remove"})
	dm, _ = s.Conversation("dm")
	if !slices.Contains(dm.Participants, bob) || slices.Contains(dm.Participants, alice) {
		t.Fatalf("participants after add/remove: %v", dm.Participants)
	}

	conn.Notify(protocol.TaskConversationArchivedNotification{TaskID: task, ConversationID: "dm", ArchivedAt: "2026-01-01T00:00:00.000Z"})
	if !s.IsConversationArchived("dm") || s.IsConversationArchived("grp") {
		t.Fatal("archived state wrong")
	}
	conn.Notify(protocol.TaskConversationArchivedNotification{TaskID: task, ConversationID: "dm", ArchivedAt: "2026-01-01T00:00:00.000Z"})
	conn.Notify(protocol.TaskConversationUnarchivedNotification{TaskID: task, ConversationID: "dm"})
	if s.IsConversationArchived("dm") {
		t.Fatal("still archived after unarchive")
	}
	if want := []string{"archived:dm", "unarchived:dm"}; !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
}

func TestResolveAgentName(t *testing.T) {
	conn := servicetest.NewConn(self)
	s := newService(t, conn, service.Options{})
	conn.SetName(alice, "Alice")
	before := conn.Lookups()
	if n := s.ResolveAgentName(t.Context(), alice); n != "Alice" {
		t.Fatalf("resolved %q", n)
	}
	if n := s.ResolveAgentName(t.Context(), alice); n != "Alice" || conn.Lookups() != before+1 {
		t.Fatalf("second resolve %q used %d lookups, want the cache", n, conn.Lookups()-before)
	}
	if n := s.ResolveAgentName(t.Context(), "agent-unknown"); n != "agent-unknown" {
		t.Fatalf("unknown agent resolved to %q, want the raw id", n)
	}
	conn.SetLookupErr(errors.New("boom"))
	if n := s.ResolveAgentName(t.Context(), bob); n != bob {
		t.Fatalf("failed lookup resolved to %q, want the raw id", n)
	}
}

func TestSendPostsOneTextPartAndIsNotCaughtUp(t *testing.T) {
	conn := servicetest.NewConn(self)
	conn.AddConversation(servicetest.Conversation(task, "conv-a", "", protocol.ConversationTypeDm, self, alice))
	s := newService(t, conn, service.Options{})
	rec := newRecorder(s)
	in := conn.Receive(task, "conv-a", alice, "question")
	m, err := s.Send(t.Context(), task, "conv-a", "answer", string(in.ID), "lease-1")
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	sent := conn.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d", len(sent))
	}
	p := sent[0]
	if len(p.Parts) != 1 || p.Parts[0] != (protocol.TextPart{Text: "answer"}) || *p.ReplyToID != in.ID || *p.DispatchLeaseID != "lease-1" || p.TaskID != task {
		t.Fatalf("params %+v", p)
	}
	if _, err := s.Send(t.Context(), task, "conv-a", "plain", "", ""); err != nil {
		t.Fatalf("send: %v", err)
	}
	if p := conn.Sent()[1]; p.ReplyToID != nil || p.DispatchLeaseID != nil {
		t.Fatalf("empty replyTo/lease were sent: %+v", p)
	}
	conn.Disconnect()
	conn.Reconnect()
	eventually(t, "catch-up", func() bool { return len(conn.ListCalls()) > 0 })
	s.Close() // waits for the catch-up
	if got := rec.ids(); !slices.Equal(got, ids(in)) {
		t.Fatalf("delivered %v; own message %s must not come back", got, m.ID)
	}
}

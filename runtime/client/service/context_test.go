package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

func contextFixture(t *testing.T) (*servicetest.Conn, *service.Service, *time.Time) {
	t.Helper()
	conn := servicetest.NewConn(self)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	conn.SetNow(func() time.Time { return now })
	for _, id := range []string{"here", "c1", "c2", "c3"} {
		conn.AddConversation(servicetest.Conversation(task, id, "name-"+id, protocol.ConversationTypeGroup, self, alice, bob))
	}
	conn.SetName(alice, "Alice")
	s := newService(t, conn, service.Options{Now: func() time.Time { return now }})
	return conn, s, &now
}

func TestPeekContextEntries(t *testing.T) {
	conn, s, now := contextFixture(t)
	conn.Receive(task, "here", alice, "in the viewing conversation")
	for i := range 4 {
		conn.Receive(task, "c1", alice, strings.Repeat("x", 200)+string(rune('a'+i)))
	}
	*now = now.Add(2 * time.Minute)
	conn.Receive(task, "c2", bob, "hello from bob")
	conn.Receive(task, "c3", self, "own message from another connection")
	*now = now.Add(5 * time.Minute)

	p := s.PeekContextEntries("here", service.ContextOptions{})
	if len(p.Entries) != 2 {
		t.Fatalf("entries %+v, want c2 then c1", p.Entries)
	}
	c2, c1 := p.Entries[0], p.Entries[1]
	if c2.ConversationID != "c2" || c2.SenderName != bob || c2.Text != "hello from bob" || c2.Count != 1 || c2.MinutesAgo != 5 || c2.ConversationName != "name-c2" {
		t.Fatalf("c2 entry %+v", c2)
	}
	if c1.ConversationID != "c1" || c1.SenderName != "Alice" || c1.Count != 3 || c1.MinutesAgo != 7 || len([]rune(c1.Text)) != service.ContextTextLimit {
		t.Fatalf("c1 entry %+v (text %d chars)", c1, len(c1.Text))
	}

	// Peeking again without committing is idempotent.
	again := s.PeekContextEntries("here", service.ContextOptions{})
	if len(again.Entries) != 2 || again.Entries[0] != c2 || again.Entries[1] != c1 {
		t.Fatalf("second peek %+v", again.Entries)
	}
	// A message that arrives between peek and commit stays new.
	late := conn.Receive(task, "c2", alice, "late")
	p.Commit()
	p.Commit()
	after := s.PeekContextEntries("here", service.ContextOptions{})
	if len(after.Entries) != 1 || after.Entries[0].ConversationID != "c2" || after.Entries[0].Text != "late" || after.Entries[0].Count != 1 {
		t.Fatalf("after commit %+v (late %s)", after.Entries, late.ID)
	}
	// Markers are per viewing conversation.
	if other := s.PeekContextEntries("c3", service.ContextOptions{}); len(other.Entries) != 3 {
		t.Fatalf("peek from c3: %+v", other.Entries)
	}
	// Caps.
	capped := s.PeekContextEntries("c3", service.ContextOptions{MaxConversations: 1, MaxMessagesPerConv: 1})
	if len(capped.Entries) != 1 || capped.Entries[0].Count != 1 {
		t.Fatalf("capped %+v", capped.Entries)
	}
}

func TestPeekFullMessages(t *testing.T) {
	conn, s, _ := contextFixture(t)
	var sent []protocol.Message
	for range 4 {
		sent = append(sent, conn.Receive(task, "c1", alice, "line"))
	}
	p := s.PeekFullMessages("here", service.ContextOptions{})
	if len(p.Messages) != 3 {
		t.Fatalf("messages %+v, want the last 3", p.Messages)
	}
	m := p.Messages[0]
	if m.ConversationID != "c1" || m.SenderID != alice || m.SenderName != "Alice" || m.Text != "line" || m.Timestamp != string(sent[1].CreatedAt) {
		t.Fatalf("first message %+v", m)
	}
	// Entry markers and full-message markers are independent.
	s.PeekContextEntries("here", service.ContextOptions{}).Commit()
	if again := s.PeekFullMessages("here", service.ContextOptions{}); len(again.Messages) != 3 {
		t.Fatalf("full messages after committing entries: %d", len(again.Messages))
	}
	p.Commit()
	if again := s.PeekFullMessages("here", service.ContextOptions{}); len(again.Messages) != 0 {
		t.Fatalf("full messages after commit: %+v", again.Messages)
	}
}

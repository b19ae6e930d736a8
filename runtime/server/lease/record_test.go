package lease

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// fakeClock is a settable clock for wire timestamps.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRecordPending(t *testing.T) {
	zone := time.FixedZone("X", 2*3600)
	clock := &fakeClock{now: time.Date(2026, 5, 25, 12, 15, 30, 123456789, zone)}
	r, _ := newTest(t, Options{Clock: clock.Now})
	l := r.Mint(binding("c1"))
	raw, err := json.Marshal(l.Record())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"verdict", "resolvedAt", "consumedAt", "expiredAt", "consumedMessageId", "leaseTimeoutMs"} {
		if v, ok := m[k]; !ok || v != nil {
			t.Fatalf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	want := map[string]any{
		"dispatchId":            string(l.DispatchID),
		"leaseId":               string(l.LeaseID),
		"conversationId":        string(l.ConversationID),
		"taskId":                string(l.TaskID),
		"appId":                 "app-1",
		"recipientAgentId":      string(l.RecipientAgentID),
		"moderatorConnectionId": "mod-conn",
		"state":                 "PENDING",
		"mintedAt":              "2026-05-25T10:15:30.123Z",
	}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("%s = %v, want %v", k, m[k], v)
		}
	}
	if len(m) != 15 {
		t.Fatalf("record has %d properties, want 15: %s", len(m), raw)
	}
}

func TestRecordConsumedRoundTrip(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 25, 10, 0, 0, 0, time.UTC)}
	r, _ := newTest(t, Options{Clock: clock.Now})
	b := binding("c1")
	b.ModeratorConnID = ""
	l := r.Mint(b)
	clock.Add(time.Second)
	mustResolve(t, r, l.LeaseID, grant(5000))
	mustClaim(t, r, l)
	clock.Add(time.Second)
	got, err := r.Consume(l.LeaseID, "0197a000-0000-7000-8000-00000000beef")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(got.Record())
	if err != nil {
		t.Fatal(err)
	}
	var back protocol.LeaseRecord
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	if back.State != protocol.LeaseStateCONSUMED || back.ModeratorConnectionID != "" ||
		back.ResolvedAt == nil || *back.ResolvedAt != "2026-05-25T10:00:01.000Z" ||
		back.ConsumedAt == nil || *back.ConsumedAt != "2026-05-25T10:00:02.000Z" ||
		back.ExpiredAt != nil || back.ConsumedMessageID == nil || *back.ConsumedMessageID != "0197a000-0000-7000-8000-00000000beef" ||
		back.LeaseTimeoutMs == nil || *back.LeaseTimeoutMs != 5000 {
		t.Fatalf("record = %s", raw)
	}
	if g, ok := back.Verdict.(protocol.DispatchGrant); !ok || *g.LeaseTimeoutMs != 5000 {
		t.Fatalf("verdict = %#v", back.Verdict)
	}
	n := got.ConsumedNotification()
	if n.ConsumedAt != "2026-05-25T10:00:02.000Z" || n.MessageID != got.ConsumedMessageID || n.DispatchID != got.DispatchID {
		t.Fatalf("consumed notification = %+v", n)
	}
}

func TestExpiredNotification(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 25, 10, 0, 0, 0, time.UTC)}
	r, _ := newTest(t, Options{Clock: clock.Now})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	clock.Add(1500 * time.Millisecond)
	r.ConnectionClosed("c1")
	got, _ := r.GetLease(l.LeaseID)
	n := got.ExpiredNotification()
	if n.ExpiredAt != "2026-05-25T10:00:01.500Z" || n.ConversationID != l.ConversationID || n.LeaseID != l.LeaseID {
		t.Fatalf("expired notification = %+v", n)
	}
	if rec := got.Record(); rec.ExpiredAt == nil || *rec.ExpiredAt != n.ExpiredAt {
		t.Fatalf("record expiredAt = %v", rec.ExpiredAt)
	}
}

package lease

import (
	"errors"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestClaimNotFound(t *testing.T) {
	r, _ := newTest(t, Options{})
	const id = "0197a000-0000-7000-8000-000000000001"
	_, err := r.Claim(id, "a", "c")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), id) {
		t.Fatalf("err = %v, want ErrNotFound naming the lease", err)
	}
	if _, ok := ForbiddenData(err); ok {
		t.Fatal("ForbiddenData accepted ErrNotFound")
	}
}

func TestClaimWrongState(t *testing.T) {
	r, _ := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	_, err := r.Claim(l.LeaseID, l.RecipientAgentID, l.ConversationID)
	wantInvalidState(t, err, protocol.LeaseStatePENDING, protocol.LeaseStateGRANTED)
	data, ok := ForbiddenData(err)
	if !ok || *data.Reason != ReasonLeaseInvalid || *data.State != protocol.LeaseStatePENDING ||
		len(data.Expected) != 1 || data.Expected[0] != protocol.LeaseStateGRANTED {
		t.Fatalf("ForbiddenData = %+v, %v", data, ok)
	}

	mustResolve(t, r, l.LeaseID, hold(""))
	_, err = r.Claim(l.LeaseID, l.RecipientAgentID, l.ConversationID)
	wantInvalidState(t, err, protocol.LeaseStateHOLD, protocol.LeaseStateGRANTED)

	g := r.Mint(binding("c1"))
	mustResolve(t, r, g.LeaseID, grant(60000))
	mustClaim(t, r, g)
	_, err = r.Claim(g.LeaseID, g.RecipientAgentID, g.ConversationID)
	wantInvalidState(t, err, protocol.LeaseStateCLAIMED, protocol.LeaseStateGRANTED)
}

func TestClaimMismatch(t *testing.T) {
	r, _ := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	for _, c := range []struct {
		sender protocol.AgentID
		conv   protocol.ConversationID
	}{
		{"0197a000-0000-7000-8000-0000000000ff", l.ConversationID},
		{l.RecipientAgentID, "0197a000-0000-7000-8000-0000000000ee"},
	} {
		_, err := r.Claim(l.LeaseID, c.sender, c.conv)
		if !errors.Is(err, ErrMismatch) {
			t.Fatalf("Claim(%s, %s) err = %v, want ErrMismatch", c.sender, c.conv, err)
		}
		if data, ok := ForbiddenData(err); !ok || *data.Reason != ReasonLeaseMismatch || data.State != nil {
			t.Fatalf("ForbiddenData = %+v, %v", data, ok)
		}
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateGRANTED)
	// Ids compare case-insensitively.
	got, err := r.Claim(upper(l.LeaseID), upper(l.RecipientAgentID), upper(l.ConversationID))
	if err != nil || got.State != protocol.LeaseStateCLAIMED {
		t.Fatalf("upper-case Claim = %+v, %v", got, err)
	}
}

func TestConsumeAndUnclaimErrors(t *testing.T) {
	r, _ := newTest(t, Options{})
	const missing = "0197a000-0000-7000-8000-000000000002"
	if _, err := r.Consume(missing, "m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Consume err = %v", err)
	}
	if _, err := r.Unclaim(missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Unclaim err = %v", err)
	}
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	_, err := r.Consume(l.LeaseID, "m")
	wantInvalidState(t, err, protocol.LeaseStateGRANTED, protocol.LeaseStateCLAIMED)
	_, err = r.Unclaim(l.LeaseID)
	wantInvalidState(t, err, protocol.LeaseStateGRANTED, protocol.LeaseStateCLAIMED)

	mustClaim(t, r, l)
	if _, err := r.Consume(l.LeaseID, "m"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Consume(l.LeaseID, "m2")
	wantInvalidState(t, err, protocol.LeaseStateCONSUMED, protocol.LeaseStateCLAIMED)
}

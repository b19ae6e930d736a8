package endpoint

import "strings"

// Caller is what a Router needs to know about the connection making a request.
type Caller interface {
	// Authenticated reports whether network/connect succeeded on this connection.
	Authenticated() bool
	// Active reports whether the agent's status is active.
	Active() bool
	// HasOwner reports whether the agent has an owner user.
	HasOwner() bool
}

// Access is the caller rule of a method: the catalog's "callers" and "requires" as a bit
// set. The generated package names the combinations its catalog uses (AgentOnly,
// ActiveAgent, ...).
type Access uint8

// The bits of an Access.
const (
	// CallerUnauthenticated admits a connection that has not sent network/connect.
	CallerUnauthenticated Access = 1 << iota
	// CallerAgent marks a method agents call (informational: handlers check it).
	CallerAgent
	// CallerTaskMaster marks a method TaskMasters call (informational: handlers check it).
	CallerTaskMaster
	// RequireActive refuses a caller whose agent is not active.
	RequireActive
	// RequireOwner refuses a caller whose agent has no owner user.
	RequireOwner
)

// Messages of the refusals the Router words itself.
const (
	// MessageNotClaimed is the Forbidden message for an inactive caller.
	MessageNotClaimed = "Agent must be claimed before performing this action"
	// MessageNoOwner is the Unauthorized message for a caller without owner.
	MessageNoOwner = "Contacts require a claimed agent owner"
)

var accessNames = []string{"unauthenticated", "agent", "taskmaster", "active", "owner"}

// String lists the bits as the catalog names them, callers first: "agent+active".
func (a Access) String() string {
	var parts []string
	for i, name := range accessNames {
		if a&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// check applies the rule to c; it returns nil or the refusal built by errs.
func (a Access) check(c Caller, errs RouterErrors) error {
	switch {
	case a&CallerUnauthenticated == 0 && !c.Authenticated():
		return errs.Unauthorized("")
	case a&RequireActive != 0 && !c.Active():
		return errs.Forbidden(MessageNotClaimed)
	case a&RequireOwner != 0 && !c.HasOwner():
		return errs.Unauthorized(MessageNoOwner)
	}
	return nil
}

// Trusted is the Caller of a CallbackRouter: the callbacks come from the server the
// TaskMaster connected to, so every check passes.
type Trusted struct{}

// Authenticated returns true.
func (Trusted) Authenticated() bool { return true }

// Active returns true.
func (Trusted) Active() bool { return true }

// HasOwner returns true.
func (Trusted) HasOwner() bool { return true }

package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// AgentsLookup returns the cards of the ids that exist (names are public within a server).
func (h handlers) AgentsLookup(ctx context.Context, _ *Conn, p protocol.AgentsLookupParams) (protocol.AgentsLookupResult, error) {
	as, err := h.s.store.GetAgentsByIDs(ctx, p.AgentIDs)
	if err != nil {
		return protocol.AgentsLookupResult{}, storeErr("agents/lookup", err)
	}
	return protocol.AgentsLookupResult{Agents: agentCards(as)}, nil
}

// AgentsLookupByName returns the cards of the names that exist.
func (h handlers) AgentsLookupByName(ctx context.Context, _ *Conn, p protocol.AgentsLookupByNameParams) (protocol.AgentsLookupByNameResult, error) {
	as, err := h.s.store.GetAgentsByNames(ctx, p.Names)
	if err != nil {
		return protocol.AgentsLookupByNameResult{}, storeErr("agents/lookupByName", err)
	}
	return protocol.AgentsLookupByNameResult{Agents: agentCards(as)}, nil
}

// AgentsList pages through the agents visible to the caller.
func (h handlers) AgentsList(ctx context.Context, c *Conn, p protocol.AgentsListParams) (protocol.AgentsListResult, error) {
	res, err := h.s.store.ListVisibleAgents(ctx, c.AgentID(), pageOf(p.Limit, p.Cursor))
	if err != nil {
		return protocol.AgentsListResult{}, storeErr("agents/list", err)
	}
	return protocol.AgentsListResult{Agents: agentCards(res.Items), NextCursor: optString(res.NextCursor)}, nil
}

// ContactsList pages through the contact edges of the caller's owner, both directions.
func (h handlers) ContactsList(ctx context.Context, c *Conn, p protocol.ContactsListParams) (protocol.ContactsListResult, error) {
	res, err := h.s.store.ListContacts(ctx, c.Owner(), pageOf(p.Limit, p.Cursor))
	if err != nil {
		return protocol.ContactsListResult{}, storeErr("contacts/list", err)
	}
	out := make([]protocol.Contact, len(res.Items))
	for i, ct := range res.Items {
		out[i] = contact(ct)
	}
	return protocol.ContactsListResult{Contacts: out, NextCursor: optString(res.NextCursor)}, nil
}

// ContactsAdd requests a contact edge from the caller's owner to another user and tells
// that user's active agents (contact/request).
func (h handlers) ContactsAdd(ctx context.Context, c *Conn, p protocol.ContactsAddParams) (protocol.ContactsAddResult, error) {
	owner, target := c.Owner(), p.ContactUserID
	if target == owner {
		return protocol.ContactsAddResult{}, protocol.ForbiddenError{Message: "Cannot add your own owner as a contact"}
	}
	rec := store.Contact{ID: newID[protocol.ContactID](), OwnerUserID: owner, ContactUserID: target, CreatedAt: now()}
	if p.Relationship != nil {
		rec.Relationship = *p.Relationship
	}
	ct, err := h.s.store.AddContact(ctx, rec)
	if errors.Is(err, store.ErrConflict) {
		return protocol.ContactsAddResult{}, protocol.ConflictError{Message: "Contact already exists"}
	}
	if err != nil {
		return protocol.ContactsAddResult{}, storeErr("contacts/add", err)
	}
	if seen, ok := ct.ForViewer(target); ok {
		h.s.notifyActiveAgentsOf(ctx, target, protocol.ContactRequestNotification{Contact: contact(seen)})
	}
	return protocol.ContactsAddResult{Contact: contact(ct)}, nil
}

// ContactsAccept accepts a pending edge addressed to the caller's owner; on the transition
// the requester's active agents get contact/accepted.
func (h handlers) ContactsAccept(ctx context.Context, c *Conn, p protocol.ContactsAcceptParams) (protocol.ContactsAcceptResult, error) {
	owner := c.Owner()
	ct, transitioned, err := h.s.store.AcceptContact(ctx, p.ContactID, owner, now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return protocol.ContactsAcceptResult{}, protocol.NotFoundError{Message: "Contact not found"}
	case errors.Is(err, store.ErrForbidden):
		return protocol.ContactsAcceptResult{}, protocol.ForbiddenError{Message: "Only the requested user can accept a contact"}
	case err != nil:
		return protocol.ContactsAcceptResult{}, storeErr("contacts/accept", err)
	}
	if transitioned {
		requester := ct.RequesterUserID()
		if seen, ok := ct.ForViewer(requester); ok {
			h.s.notifyActiveAgentsOf(ctx, requester, protocol.ContactAcceptedNotification{Contact: contact(seen)})
		}
	}
	return protocol.ContactsAcceptResult{Contact: contact(ct)}, nil
}

// ContactsByID returns one edge of the caller's owner.
func (h handlers) ContactsByID(ctx context.Context, c *Conn, p protocol.ContactsByIDParams) (protocol.ContactsByIDResult, error) {
	ct, err := h.s.store.GetContact(ctx, p.ContactID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return protocol.ContactsByIDResult{}, protocol.NotFoundError{Message: "Contact not found"}
		}
		return protocol.ContactsByIDResult{}, storeErr("contacts/byId", err)
	}
	seen, ok := ct.ForViewer(c.Owner())
	if !ok {
		return protocol.ContactsByIDResult{}, protocol.NotFoundError{Message: "Contact not found"}
	}
	return protocol.ContactsByIDResult{Contact: contact(seen)}, nil
}

// notifyActiveAgentsOf sends n to every live connection of the user's active agents.
func (s *Server) notifyActiveAgentsOf(ctx context.Context, userID protocol.UserID, n protocol.Notification) {
	as, err := s.store.AgentsByOwner(ctx, userID)
	if err != nil {
		s.log.Warn("list agents of user", "user", userID, "err", fmt.Errorf("notify %s: %w", n.Method(), err))
		return
	}
	var ids []protocol.AgentID
	for _, a := range as {
		if a.Status == protocol.AgentStatusActive {
			ids = append(ids, a.ID)
		}
	}
	s.notifyAgents(ids, n, nil)
}

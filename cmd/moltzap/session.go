package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// session is a connection of the selected profile's agent.
type session struct {
	*client.Client
	a       *app
	p       profile.Profile
	servers []string // the servers to try, in order
	server  string   // the connected server once connected; before, the list (for messages)
	names   *nameCache
	closing atomic.Bool
	current atomic.Pointer[client.Client] // the client, for the connection callbacks
}

// dialMode selects the connection behaviour.
type dialMode int

const (
	oneShot   dialMode = iota // one command: no reconnecting
	streaming                 // listen, tm run: reconnect, report drops on stderr
)

// options builds the connection options for the profile. A one-shot connection tries the
// servers in order until one answers; a streaming one also fails over to the next server
// when its connection drops.
func (s *session) options(mode dialMode) client.Options {
	o := client.Options{URLs: s.servers, AgentKey: s.p.APIKey}
	if mode == oneShot {
		o.Reconnect = client.Backoff{Disabled: true}
		return o
	}
	o.OnDisconnect = func(ci client.CloseInfo) {
		if !s.closing.Load() {
			fmt.Fprintf(s.a.stderr, "moltzap: connection lost (%d %s); reconnecting\n", ci.Code, ci.Reason)
		}
	}
	o.OnReconnect = func(protocol.HelloOk) {
		s.reconnectedNotice()
	}
	return o
}

// reconnectedNotice reports a completed reconnect on stderr, naming the server when there
// are several to choose from.
func (s *session) reconnectedNotice() {
	if c := s.current.Load(); c != nil && len(s.servers) > 1 {
		fmt.Fprintf(s.a.stderr, "moltzap: reconnected to %s\n", c.URL())
		return
	}
	fmt.Fprintln(s.a.stderr, "moltzap: reconnected")
}

// newSession loads the selected profile; connect or connectTM dial it.
func (a *app) newSession() (*session, error) {
	p, err := a.loadProfile()
	if err != nil {
		return nil, err
	}
	servers := a.serversFor(p)
	return &session{a: a, p: p, servers: servers, server: strings.Join(servers, ", ")}, nil
}

// connect opens an agent connection for the selected profile.
func (a *app) connect(ctx context.Context, mode dialMode) (*session, error) {
	s, err := a.newSession()
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(ctx, s.options(mode))
	if err != nil {
		return nil, s.dialError(err)
	}
	s.attach(c)
	return s, nil
}

// withSession connects for a one-shot command, runs fn and closes the connection.
func (a *app) withSession(ctx context.Context, fn func(s *session) error) error {
	s, err := a.connect(ctx, oneShot)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// withSessionAs is withSession as the TaskMaster of appID when one is given (see
// connectMaybeTM).
func (a *app) withSessionAs(ctx context.Context, appID string, fn func(s *session) error) error {
	s, err := a.connectMaybeTM(ctx, appID)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// connectTM opens a TaskMaster connection registering manifest.
func (a *app) connectTM(ctx context.Context, mode dialMode, h protocol.TaskMasterHandlers, manifest protocol.AppManifest) (*session, error) {
	s, err := a.newSession()
	if err != nil {
		return nil, err
	}
	tm, err := client.DialTaskMaster(ctx, s.options(mode), h, manifest)
	if err != nil {
		return nil, s.dialError(err)
	}
	s.attach(tm.Client)
	return s, nil
}

func (s *session) dialError(err error) error {
	if errors.As(err, &protocol.UnauthorizedError{}) {
		return &hintError{err: err, hint: fmt.Sprintf("%s refused the API key of profile %q (agent %s); if its data was reset, register again with --force",
			s.server, s.a.profileName, s.p.Name)}
	}
	if _, ok := serverError(err); ok {
		return err // printed as the server's error
	}
	return fmt.Errorf("connect to %s as %s (profile %s): %w", s.server, s.p.Name, s.a.profileName, err)
}

func (s *session) attach(c *client.Client) {
	s.Client = c
	s.current.Store(c)
	s.server = c.URL()
	s.names = newNameCache(c)
	s.names.put(protocol.AgentID(c.AgentID()), s.p.Name)
	if s.p.AgentID != "" {
		s.names.put(protocol.AgentID(s.p.AgentID), s.p.Name)
	}
}

// Close closes the connection without reporting it as a drop.
func (s *session) Close() error {
	s.closing.Store(true)
	return s.Client.Close()
}

// nameCache maps agent ids to names, filled by agents/lookup.
type nameCache struct {
	c  *client.Client
	mu sync.Mutex
	m  map[protocol.AgentID]string
}

func newNameCache(c *client.Client) *nameCache {
	return &nameCache{c: c, m: map[protocol.AgentID]string{}}
}

func (n *nameCache) put(id protocol.AgentID, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.m[normID(id)] = name
}

// resolve looks up the ids not cached yet; failures leave them unresolved.
func (n *nameCache) resolve(ctx context.Context, ids ...protocol.AgentID) {
	n.mu.Lock()
	var missing []protocol.AgentID
	seen := map[protocol.AgentID]bool{}
	for _, id := range ids {
		id = normID(id)
		if _, ok := n.m[id]; !ok && id != "" && !seen[id] {
			missing = append(missing, id)
			seen[id] = true
		}
	}
	n.mu.Unlock()
	for len(missing) > 0 {
		chunk := missing[:min(100, len(missing))]
		missing = missing[len(chunk):]
		res, err := n.c.AgentsLookup(ctx, protocol.AgentsLookupParams{AgentIDs: chunk})
		if err != nil {
			return
		}
		for _, card := range res.Agents {
			n.put(card.ID, string(card.Name))
		}
	}
}

// name is the cached name of id, else the id itself.
func (n *nameCache) name(id protocol.AgentID) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.m[normID(id)]; ok {
		return name
	}
	return string(id)
}

func normID(id protocol.AgentID) protocol.AgentID {
	return protocol.AgentID(strings.ToLower(string(id)))
}

// agentNamePattern is the server's agent name syntax.
var agentNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,30}[a-z0-9]$`)

const agentNameRule = "3-32 characters: lowercase letters, digits, '_' and '-', starting and ending with a letter or digit"

func isUUID(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }

// splitRefs flattens repeated and comma-separated flag values.
func splitRefs(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// checkRefs validates agent references (names or ids) given to flag.
func checkRefs(flag string, refs []string) error {
	for _, r := range refs {
		if !isUUID(r) && !agentNamePattern.MatchString(r) {
			return usagef("--%s %q: not an agent id (UUID) or name (%s)", flag, r, agentNameRule)
		}
	}
	return nil
}

// resolveAgents turns names or ids into agent ids (names through agents/lookupByName);
// unknown names are an error naming them.
func (s *session) resolveAgents(ctx context.Context, refs []string) ([]protocol.AgentID, error) {
	var names []string
	for _, r := range refs {
		if !isUUID(r) {
			names = append(names, r)
		}
	}
	byName := map[string]protocol.AgentID{}
	for rest := names; len(rest) > 0; {
		chunk := rest[:min(100, len(rest))]
		rest = rest[len(chunk):]
		res, err := s.AgentsLookupByName(ctx, protocol.AgentsLookupByNameParams{Names: chunk})
		if err != nil {
			return nil, fmt.Errorf("look up agents %s: %w", strings.Join(chunk, ", "), err)
		}
		for _, card := range res.Agents {
			byName[string(card.Name)] = card.ID
			s.names.put(card.ID, string(card.Name))
		}
	}
	out := make([]protocol.AgentID, 0, len(refs))
	var unknown []string
	seen := map[protocol.AgentID]bool{}
	for _, r := range refs {
		id := protocol.AgentID(strings.ToLower(r))
		if !isUUID(r) {
			var ok bool
			if id, ok = byName[r]; !ok {
				unknown = append(unknown, r)
				continue
			}
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no agent named %s on %s", strings.Join(quoteAll(unknown), ", "), s.server)
	}
	return out, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// pageLimit is the page size used when draining lists.
var pageLimit = protocol.PageLimit(200)

// conversations drains task/conversation/list.
func (s *session) conversations(ctx context.Context) ([]protocol.TaskConversationListItem, error) {
	return client.DrainPages(ctx, func(ctx context.Context, cur *protocol.Cursor) ([]protocol.TaskConversationListItem, *protocol.Cursor, error) {
		r, err := s.TaskConversationList(ctx, protocol.TaskConversationListParams{Limit: &pageLimit, Cursor: cur})
		return r.Items, r.NextCursor, err
	})
}

// taskOf finds the task of a conversation the caller participates in.
func (s *session) taskOf(ctx context.Context, conv string) (protocol.TaskID, error) {
	items, err := s.conversations(ctx)
	if err != nil {
		return "", fmt.Errorf("find the task of conversation %s: %w", conv, err)
	}
	for _, it := range items {
		if strings.EqualFold(string(it.Conversation.ID), conv) {
			return it.TaskID, nil
		}
	}
	return "", fmt.Errorf("conversation %s is not among %s's conversations; pass its task with --task", conv, s.p.Name)
}

// taskFlag returns --task when given (checked to be a UUID), else the task of conv.
func (s *session) taskFlag(ctx context.Context, task, conv string) (protocol.TaskID, error) {
	if task != "" {
		return protocol.TaskID(strings.ToLower(task)), nil
	}
	return s.taskOf(ctx, conv)
}

// checkUUID validates a flag or argument that must be a UUID.
// checkOptionalUUID is checkUUID for a flag that may be left empty.
func checkOptionalUUID(what, v string) error {
	if v == "" {
		return nil
	}
	return checkUUID(what, v)
}

func checkUUID(what, v string) error {
	if !isUUID(v) {
		return usagef("%s %q: want a UUID (8-4-4-4-12 hex)", what, v)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/spf13/cobra"
)

// tm run: a rule-based TaskMaster.

func newTMCmd(a *app) *cobra.Command {
	return groupCmd("tm", "Run a TaskMaster for an app", newTMRunCmd(a))
}

// tmRules are the admission rules of tm run.
type tmRules struct {
	acceptTasks bool
	denyFrom    map[protocol.AgentID]bool // dispatches acting on messages from these senders are denied
	blockWords  []string                  // lowercased; a message containing one is blocked
}

// blockedWord returns the first blocked word the text parts contain.
func (r tmRules) blockedWord(parts protocol.MessageParts) (string, bool) {
	for _, p := range parts {
		tp, ok := p.(protocol.TextPart)
		if !ok {
			continue
		}
		text := strings.ToLower(tp.Text)
		for _, w := range r.blockWords {
			if strings.Contains(text, w) {
				return w, true
			}
		}
	}
	return "", false
}

// tmDecision is one logged verdict (also the --json line).
type tmDecision struct {
	Time           time.Time               `json:"time"`
	Callback       string                  `json:"callback"`
	TaskID         protocol.TaskID         `json:"taskId"`
	ConversationID protocol.ConversationID `json:"conversationId,omitempty"`
	AgentID        protocol.AgentID        `json:"agentId"` // initiator, sender or recipient
	SenderID       protocol.AgentID        `json:"senderId,omitempty"`
	Invited        []protocol.AgentID      `json:"invitedAgentIds,omitempty"`
	Recipients     []protocol.AgentID      `json:"recipients,omitempty"`
	Text           string                  `json:"text,omitempty"`
	Decision       string                  `json:"decision"`
	Reason         string                  `json:"reason,omitempty"`
}

// agents lists the ids the text form names.
func (d tmDecision) agents() []protocol.AgentID {
	ids := append([]protocol.AgentID{d.AgentID, d.SenderID}, d.Invited...)
	return append(ids, d.Recipients...)
}

// format renders a decision as one readable line.
func (d tmDecision) format(name func(protocol.AgentID) string) string {
	names := func(ids []protocol.AgentID) string {
		if len(ids) == 0 {
			return "nobody"
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = name(id)
		}
		return strings.Join(out, ", ")
	}
	var what string
	switch d.Callback {
	case protocol.CallbackTaskCreate:
		what = fmt.Sprintf("%s from %s inviting %s", d.TaskID, name(d.AgentID), names(d.Invited))
	case protocol.CallbackMessagesAuthorize:
		what = fmt.Sprintf("%s %s: %q", d.ConversationID, name(d.AgentID), d.Text)
	case protocol.CallbackDispatchAuthorize:
		what = fmt.Sprintf("%s %s acting on a message from %s", d.ConversationID, name(d.AgentID), name(d.SenderID))
	}
	verdict := d.Decision
	if d.Callback == protocol.CallbackMessagesAuthorize && d.Decision == "Forward" {
		verdict += " to " + names(d.Recipients)
	}
	if d.Reason != "" {
		verdict += " (" + d.Reason + ")"
	}
	return fmt.Sprintf("[%s] %s %s: %s", d.Time.Local().Format("15:04:05"), d.Callback, what, verdict)
}

// ruleTM implements protocol.TaskMasterHandlers with tmRules. It learns task participants
// from task/create (requester and invitees) and from the conversation notifications of its
// own connection; messages are forwarded to the known participants other than the sender.
type ruleTM struct {
	rules tmRules
	log   func(tmDecision)

	mu           sync.Mutex
	participants map[protocol.TaskID]map[protocol.AgentID]bool
}

func newRuleTM(rules tmRules, log func(tmDecision)) *ruleTM {
	return &ruleTM{rules: rules, log: log, participants: map[protocol.TaskID]map[protocol.AgentID]bool{}}
}

func (t *ruleTM) learn(task protocol.TaskID, ids ...protocol.AgentID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.participants[task]
	if set == nil {
		set = map[protocol.AgentID]bool{}
		t.participants[task] = set
	}
	for _, id := range ids {
		set[normID(id)] = true
	}
}

// recipients returns the known participants of task other than sender, and whether the
// task is known at all.
func (t *ruleTM) recipients(task protocol.TaskID, sender protocol.AgentID) ([]protocol.AgentID, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	set, ok := t.participants[task]
	out := []protocol.AgentID{}
	for id := range set {
		if id != normID(sender) {
			out = append(out, id)
		}
	}
	return out, ok
}

// observe learns participants from the TaskMaster connection's own notifications.
func (t *ruleTM) observe(n protocol.Notification) {
	switch v := n.(type) {
	case protocol.TaskConversationCreatedNotification:
		t.learn(v.TaskID, v.Participants...)
	case protocol.TaskConversationParticipantsAddedNotification:
		t.learn(v.TaskID, v.AddedAgentID)
	case protocol.TaskCreatedNotification:
		t.learn(v.Task.ID, v.Task.InitiatorAgentID)
	}
}

func (t *ruleTM) TaskCreate(_ context.Context, p protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
	d := tmDecision{Time: time.Now(), Callback: protocol.CallbackTaskCreate, TaskID: p.TaskID, AgentID: p.InitiatorAgentID, Invited: p.InvitedAgentIDs}
	var res protocol.TaskCreateResult
	if t.rules.acceptTasks {
		t.learn(p.TaskID, append([]protocol.AgentID{p.InitiatorAgentID}, p.InvitedAgentIDs...)...)
		d.Decision = "accept"
		res.Verdict = protocol.TaskCreateAccept{}
	} else {
		reason := "tasks are not accepted: --accept-tasks=false"
		d.Decision, d.Reason = "reject", reason
		res.Verdict = protocol.TaskCreateReject{Reason: &reason}
	}
	t.log(d)
	return res, nil
}

func (t *ruleTM) MessagesAuthorize(_ context.Context, p protocol.MessagesAuthorizeParams) (protocol.MessagesAuthorizeResult, error) {
	sender := p.Message.SenderAgentID
	d := tmDecision{Time: time.Now(), Callback: protocol.CallbackMessagesAuthorize, TaskID: p.TaskID, ConversationID: p.ConversationID,
		AgentID: sender, Text: oneLine(partsText(p.Message.Parts))}
	var res protocol.MessagesAuthorizeResult
	if w, blocked := t.rules.blockedWord(p.Message.Parts); blocked {
		reason := fmt.Sprintf("contains the blocked word %q", w)
		d.Decision, d.Reason = "Block", reason
		res.Verdict = protocol.MessagesAuthorizeBlock{Reason: &reason}
	} else {
		to, known := t.recipients(p.TaskID, sender)
		d.Decision, d.Recipients = "Forward", to
		if !known {
			d.Reason = "task requested before this TaskMaster started: participants unknown"
		}
		res.Verdict = protocol.MessagesAuthorizeForward{Recipients: to}
	}
	t.log(d)
	return res, nil
}

func (t *ruleTM) DispatchAuthorize(_ context.Context, p protocol.DispatchAuthorizeParams) (protocol.DispatchAuthorizeResult, error) {
	d := tmDecision{Time: time.Now(), Callback: protocol.CallbackDispatchAuthorize, TaskID: p.TaskID, ConversationID: p.ConversationID,
		AgentID: p.Recipient.AgentID, SenderID: p.Message.SenderAgentID}
	var res protocol.DispatchAuthorizeResult
	if t.rules.denyFrom[normID(p.Message.SenderAgentID)] {
		reason := "the sender is listed in --deny-dispatch-from"
		d.Decision, d.Reason = "deny", reason
		res.Admission = protocol.DispatchDeny{Reason: &reason}
	} else {
		d.Decision = "grant"
		res.Admission = protocol.DispatchGrant{}
	}
	t.log(d)
	return res, nil
}

// decisionQueue hands decisions from the callback goroutines to the printing loop.
type decisionQueue struct {
	mu     sync.Mutex
	items  []tmDecision
	signal chan struct{}
}

func (q *decisionQueue) push(d tmDecision) {
	q.mu.Lock()
	q.items = append(q.items, d)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *decisionQueue) take() []tmDecision {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

func newTMRunCmd(a *app) *cobra.Command {
	var appID, name string
	var accept bool
	var denyFrom, blockWords []string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run --app APP_ID",
		Short: "Run a rule-based TaskMaster for an app until interrupted",
		Long: `Register as the TaskMaster of an app (apps/register) and answer its callbacks by simple
rules, logging each decision (one line each, or one JSON object per line with --json):

  task/create          accept, or reject every task with --accept-tasks=false
  messages/authorize   Block a message containing a --block-messages-containing word
                       (case-insensitive), else Forward it to the task's other participants
  dispatch/authorize   deny acting on messages from --deny-dispatch-from senders, else grant

Participants are learned from the tasks this TaskMaster accepted. Runs until interrupted
(Ctrl-C, exit 0) or --timeout elapses (exit 0); re-registers after a reconnect. A line on
standard error says when the TaskMaster is running.`,
		Example: "  moltzap --profile tm tm run --app 7b1e3c9a-2f4d-4c8e-9a61-0d5f2b8c4e17 --block-messages-containing secret",
		Args:    noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := checkUUID("--app", appID); err != nil {
				return err
			}
			if strings.EqualFold(appID, defaultAppID) {
				return usagef("--app %s is the server's built-in app; choose another app id", appID)
			}
			if name == "" {
				return usagef("--name must not be empty")
			}
			if timeout < 0 {
				return usagef("--timeout %s: want a positive duration or 0 (none)", timeout)
			}
			senders := splitRefs(denyFrom)
			if err := checkRefs("deny-dispatch-from", senders); err != nil {
				return err
			}
			rules := tmRules{acceptTasks: accept, denyFrom: map[protocol.AgentID]bool{}}
			for _, w := range splitRefs(blockWords) {
				rules.blockWords = append(rules.blockWords, strings.ToLower(w))
			}
			if len(senders) > 0 { // resolve the names before any callback can arrive
				s, err := a.connect(ctx, oneShot)
				if err != nil {
					return err
				}
				ids, err := s.resolveAgents(ctx, senders)
				s.Close()
				if err != nil {
					return err
				}
				for _, id := range ids {
					rules.denyFrom[normID(id)] = true
				}
			}
			return a.runTM(ctx, rules, protocol.AppManifest{AppID: protocol.AppID(strings.ToLower(appID)), Name: name}, timeout)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&appID, "app", "", "the app id (a UUID you choose; required)")
	f.StringVar(&name, "name", "moltzap tm", "the app's name in its manifest")
	f.BoolVar(&accept, "accept-tasks", true, "accept requested tasks (false: reject every task)")
	f.StringSliceVar(&denyFrom, "deny-dispatch-from", nil, "deny dispatches acting on messages from these agents (names or ids, comma-separated)")
	f.StringSliceVar(&blockWords, "block-messages-containing", nil, "block messages containing any of these words (comma-separated)")
	f.DurationVar(&timeout, "timeout", 0, "stop after this long (0: never)")
	_ = cmd.MarkFlagRequired("app")
	_ = cmd.RegisterFlagCompletionFunc("deny-dispatch-from", a.completeAgentNames)
	noCompletion(cmd, "app", "name", "block-messages-containing", "timeout")
	return cmd
}

func (a *app) runTM(ctx context.Context, rules tmRules, manifest protocol.AppManifest, timeout time.Duration) error {
	q := &decisionQueue{signal: make(chan struct{}, 1)}
	tm := newRuleTM(rules, q.push)
	s, err := a.connectTM(ctx, streaming, tm, manifest)
	if err != nil {
		return err
	}
	defer s.Close()
	cancel := s.OnAny(tm.observe)
	defer cancel()
	fmt.Fprintf(a.stderr, "moltzap: TaskMaster of app %s (%s) running as %s (%s) on %s; Ctrl-C to stop\n",
		manifest.AppID, manifest.Name, s.p.Name, s.AgentID(), s.server)

	var deadline <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	flush := func() error {
		for _, d := range q.take() {
			if a.json {
				if err := printJSONLine(a.stdout, d); err != nil {
					return err
				}
				continue
			}
			// Detached from ctx: the last flush runs after an interrupt cancelled it, and its
			// lines still deserve names.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			s.names.resolve(rctx, d.agents()...)
			cancel()
			if _, err := fmt.Fprintln(a.stdout, d.format(s.names.name)); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return flush()
		case <-deadline:
			return flush()
		case <-s.Done():
			_ = flush()
			return errors.New("connection closed")
		case <-q.signal:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

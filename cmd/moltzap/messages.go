package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/spf13/cobra"
)

// send, history, listen.

// completionTimeout bounds the server round trips of shell completion.
const completionTimeout = 2 * time.Second

const maxTextLength = 32768

func newSendCmd(a *app) *cobra.Command {
	var conv, task, replyTo string
	cmd := &cobra.Command{
		Use:   "send --conversation CONV_ID [--task TASK_ID] TEXT...",
		Short: "Send a text message into a conversation",
		Long: `Send a text message (messages/send). The words of TEXT are joined with spaces; a single
"-" reads the text from standard input. Without --task the conversation's task is looked
up among the caller's conversations.`,
		Example:           `  moltzap --profile alice send --conversation 0197a0f2-... "hi bob"`,
		Args:              minArgs("TEXT"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkUUID("--conversation", conv); err != nil {
				return err
			}
			if err := checkOptionalUUID("--task", task); err != nil {
				return err
			}
			if err := checkOptionalUUID("--reply-to", replyTo); err != nil {
				return err
			}
			text := strings.Join(args, " ")
			if len(args) == 1 && args[0] == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4*maxTextLength+1))
				if err != nil {
					return fmt.Errorf("read standard input: %w", err)
				}
				text = strings.TrimRight(string(b), "\r\n")
			}
			if n := utf8.RuneCountInString(text); n == 0 || n > maxTextLength {
				return usagef("TEXT: want 1-%d characters, got %d", maxTextLength, n)
			}
			conv = strings.ToLower(conv)
			return a.withSession(ctx, func(s *session) error {
				taskID, err := s.taskFlag(ctx, task, conv)
				if err != nil {
					return err
				}
				p := protocol.MessagesSendParams{TaskID: taskID, ConversationID: protocol.ConversationID(conv),
					Parts: protocol.MessageParts{protocol.TextPart{Text: text}}}
				if replyTo != "" {
					id := protocol.MessageID(strings.ToLower(replyTo))
					p.ReplyToID = &id
				}
				res, err := s.MessagesSend(ctx, p)
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, res)
				}
				fmt.Fprintf(a.stdout, "Sent message %s (seq %s) to conversation %s\n", res.Message.ID, res.Message.Seq, conv)
				return nil
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&conv, "conversation", "", "the conversation (required)")
	f.StringVar(&task, "task", "", "the conversation's task (default: looked up)")
	f.StringVar(&replyTo, "reply-to", "", "id of the message this one replies to")
	_ = cmd.MarkFlagRequired("conversation")
	noCompletion(cmd, "conversation", "task", "reply-to")
	return cmd
}

func newHistoryCmd(a *app) *cobra.Command {
	var task, since string
	var limit int
	cmd := &cobra.Command{
		Use:   "history CONV_ID [--task TASK_ID] [--since SEQ] [--limit N]",
		Short: "Show the messages of a conversation",
		Long: `Show a conversation's messages (messages/list) in ascending sequence order: the newest
--limit messages, or with --since SEQ the oldest --limit messages after SEQ. Without --task
the conversation's task is looked up among the caller's conversations.`,
		Args:              exactArgs("CONV_ID"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			conv := strings.ToLower(args[0])
			if err := checkUUID("CONV_ID", conv); err != nil {
				return err
			}
			if err := checkOptionalUUID("--task", task); err != nil {
				return err
			}
			if since != "" {
				if v, err := strconv.ParseInt(since, 10, 64); err != nil || v < 0 {
					return usagef("--since %q: want a sequence number (a non-negative integer)", since)
				}
			}
			if limit < 1 || limit > 200 {
				return usagef("--limit %d: want 1-200", limit)
			}
			return a.withSession(ctx, func(s *session) error {
				taskID, err := s.taskFlag(ctx, task, conv)
				if err != nil {
					return err
				}
				lim := protocol.PageLimit(limit)
				p := protocol.MessagesListParams{TaskID: taskID, ConversationID: protocol.ConversationID(conv), Limit: &lim}
				if since != "" {
					seq := protocol.Seq(since)
					p.SinceSeq = &seq
				}
				res, err := s.MessagesList(ctx, p)
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, res)
				}
				ids := make([]protocol.AgentID, len(res.Messages))
				for i, m := range res.Messages {
					ids[i] = m.SenderID
				}
				s.names.resolve(ctx, ids...)
				for _, m := range res.Messages {
					fmt.Fprintln(a.stdout, formatMessage(m, s.names.name))
				}
				if res.HasMore {
					if since != "" && len(res.Messages) > 0 {
						last := res.Messages[len(res.Messages)-1].Seq
						fmt.Fprintf(a.stderr, "moltzap: more messages follow; continue with --since %s\n", last)
					} else {
						fmt.Fprintln(a.stderr, "moltzap: older messages exist; read them from the start with --since 0")
					}
				}
				return nil
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&task, "task", "", "the conversation's task (default: looked up)")
	f.StringVar(&since, "since", "", "show the messages after this sequence number")
	f.IntVar(&limit, "limit", 50, "maximum number of messages (1-200)")
	noCompletion(cmd, "task", "since", "limit")
	return cmd
}

// formatMessage renders a stored message: "#3 [2026-05-25 10:15:30] bob: hello".
func formatMessage(m protocol.Message, name func(protocol.AgentID) string) string {
	return fmt.Sprintf("#%s [%s] %s: %s", m.Seq, localTime(m.CreatedAt), name(m.SenderID), oneLine(partsText(m.Parts)))
}

func newListenCmd(a *app) *cobra.Command {
	var count int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "listen [--count N] [--timeout D]",
		Short: "Stream notifications (messages, tasks, conversations) until interrupted",
		Long: `Stream the notifications the server sends to the profile's agent, one line each:

  [12:00:01] messages/received <conversation> bob: hello

With --json each notification is one JSON object per line, {"method": ..., "params": ...}.
Runs until interrupted (Ctrl-C, exit 0), until --count notifications were printed (exit 0)
or until --timeout elapses: exit 0, except with --count when fewer notifications arrived
(exit 1). The connection is re-established after a drop (or a server restart) and the
messages missed meanwhile are recovered: every message is printed once, in order, and a
line on standard error says how many were recovered. When the server refuses the key on
reconnecting (it was rotated, or the agent deleted) listen stops with exit 1. A line on
standard error says when listening has started.

With several servers (--server given more than once, or a comma list) listen connects to
the first that answers and, when its node goes away, fails over to the next one (round-robin
with backoff) and recovers what it missed there.`,
		Example: "  moltzap --profile bob listen\n  moltzap --profile bob listen --json --count 1 --timeout 30s",
		Args:    noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if count < 0 {
				return usagef("--count %d: want 0 (unlimited) or more", count)
			}
			if timeout < 0 {
				return usagef("--timeout %s: want a positive duration or 0 (none)", timeout)
			}
			return a.listen(cmd.Context(), count, timeout)
		}),
	}
	f := cmd.Flags()
	f.IntVar(&count, "count", 0, "exit after this many notifications (0: unlimited)")
	f.DurationVar(&timeout, "timeout", 0, "exit after this long (0: never)")
	noCompletion(cmd, "count", "timeout")
	return cmd
}

// noteQueue hands notifications from the client's notification goroutine (which must not
// block) to the printing loop, in arrival order.
type noteQueue struct {
	mu     sync.Mutex
	items  []received
	signal chan struct{}
}

// received is a notification to print, or a notice for standard error.
type received struct {
	at     time.Time
	n      protocol.Notification
	notice string
}

func newNoteQueue() *noteQueue { return &noteQueue{signal: make(chan struct{}, 1)} }

func (q *noteQueue) push(n protocol.Notification) { q.add(received{at: time.Now(), n: n}) }

func (q *noteQueue) add(rs ...received) {
	q.mu.Lock()
	q.items = append(q.items, rs...)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *noteQueue) take() []received {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

// catchUpGate orders listen's messages across a reconnect. From a disconnect until the
// service's catch-up has finished, messages (live ones arriving after the reconnect and
// recovered ones) are held; then they are released in seq order per conversation,
// followed by a notice per conversation with recovered messages.
type catchUpGate struct {
	q           *noteQueue
	mu          sync.Mutex
	holding     bool
	drops, ups  int // disconnects and reconnects seen
	held        []received
	recovered   map[string]int // conversation -> messages recovered in this gap
	recoveredAt []string       // conversations in first-recovered order
	failed      error
}

func (g *catchUpGate) message(taskID string, m protocol.Message) {
	r := received{at: time.Now(), n: protocol.MessagesReceivedNotification{TaskID: protocol.TaskID(taskID), Message: m}}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.holding {
		g.held = append(g.held, r)
		return
	}
	g.q.add(r)
}

func (g *catchUpGate) disconnected() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.drops++
	g.holding = true
}

func (g *catchUpGate) reconnected() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ups++
}

// caughtUp records a catch-up run and, when it ended the gap, releases the held messages.
func (g *catchUpGate) caughtUp(rep service.CatchUpReport) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range rep.Recovered {
		if g.recovered == nil {
			g.recovered = map[string]int{}
		}
		if _, ok := g.recovered[r.ConversationID]; !ok {
			g.recoveredAt = append(g.recoveredAt, r.ConversationID)
		}
		g.recovered[r.ConversationID] += r.Count
	}
	g.failed = rep.Err
	if rep.Again || g.drops != g.ups || !g.holding {
		return // still disconnected, or another run follows
	}
	out := orderBySeq(g.held)
	switch {
	case g.failed != nil:
		out = append(out, received{notice: "moltzap: reconnected; catching up on missed messages failed: " + describeError(g.failed)})
	case len(g.recoveredAt) == 0:
		out = append(out, received{notice: "moltzap: reconnected; no messages missed"})
	}
	for _, conv := range g.recoveredAt {
		n := g.recovered[conv]
		out = append(out, received{notice: fmt.Sprintf("moltzap: reconnected; recovered %d %s in %s", n, plural(n, "message", "messages"), conv)})
	}
	g.q.add(out...)
	g.holding, g.held, g.recovered, g.recoveredAt, g.failed = false, nil, nil, nil, nil
}

// orderBySeq sorts messages by seq within each conversation; the conversations keep the
// slots their messages held.
func orderBySeq(rs []received) []received {
	byConv := map[protocol.ConversationID][]int{}
	for i, r := range rs {
		m := r.n.(protocol.MessagesReceivedNotification).Message
		byConv[m.ConversationID] = append(byConv[m.ConversationID], i)
	}
	out := make([]received, len(rs))
	for _, slots := range byConv {
		group := make([]received, len(slots))
		for j, i := range slots {
			group[j] = rs[i]
		}
		sort.SliceStable(group, func(a, b int) bool {
			return seqLess(group[a].n.(protocol.MessagesReceivedNotification).Message.Seq, group[b].n.(protocol.MessagesReceivedNotification).Message.Seq)
		})
		for j, i := range slots {
			out[i] = group[j]
		}
	}
	return out
}

// seqLess compares decimal seqs numerically.
func seqLess(a, b protocol.Seq) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// authWatch is a client log handler that reports a reconnect refused for the credentials
// (-32000): the client retries forever, but listen must stop.
type authWatch struct{ refused chan<- error }

func (authWatch) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h authWatch) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && errors.As(err, &protocol.UnauthorizedError{}) {
			select {
			case h.refused <- err:
			default:
			}
			return false
		}
		return true
	})
	return nil
}

func (h authWatch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h authWatch) WithGroup(string) slog.Handler      { return h }

// listen streams the agent's notifications. Messages go through the service layer: they
// are de-duplicated by id and, after a reconnect, the ones missed while disconnected are
// recovered (messages/list from the last seq seen) and printed once, in seq order.
func (a *app) listen(ctx context.Context, count int, timeout time.Duration) error {
	s, err := a.newSession()
	if err != nil {
		return err
	}
	q := newNoteQueue()
	gate := &catchUpGate{q: q}
	refused := make(chan error, 1)
	opts := s.options(streaming)
	onDisconnect := opts.OnDisconnect
	opts.OnDisconnect = func(ci client.CloseInfo) {
		gate.disconnected()
		onDisconnect(ci)
	}
	opts.OnReconnect = func(protocol.HelloOk) {
		if len(s.servers) > 1 {
			s.reconnectedNotice() // which node; the catch-up notice follows
		}
		gate.reconnected()
	}
	opts.Logger = slog.New(authWatch{refused: refused})
	c, err := client.Dial(ctx, opts)
	if err != nil {
		return s.dialError(err)
	}
	s.attach(c)
	defer s.Close()
	svc := service.New(c, service.Options{OnCatchUp: gate.caughtUp})
	defer svc.Close()
	cancelMessages := svc.Messages(gate.message)
	defer cancelMessages()
	cancel := s.OnAny(func(n protocol.Notification) {
		if _, ok := n.(protocol.MessagesReceivedNotification); !ok {
			q.push(n) // messages come through the service
		}
	})
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		return fmt.Errorf("load the conversations of %s: %w", s.p.Name, err)
	}
	fmt.Fprintf(a.stderr, "moltzap: listening as %s (%s) on %s; Ctrl-C to stop\n", s.p.Name, s.AgentID(), s.server)

	var deadline <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	got := 0
	for {
		select {
		case <-ctx.Done():
			return nil // interrupted: the normal end of listening
		case <-deadline:
			if count > 0 && got < count {
				return fmt.Errorf("timed out after %s with %d of %d notifications", timeout, got, count)
			}
			return nil
		case err := <-refused:
			return &hintError{err: fmt.Errorf("reconnect to %s refused: %w", strings.Join(s.servers, ", "), err),
				hint: fmt.Sprintf("the server no longer accepts the API key of profile %q (agent %s): its key was rotated or the agent deleted; register again with --force",
					a.profileName, s.p.Name)}
		case <-s.Done():
			return errors.New("connection closed")
		case <-q.signal:
			for _, r := range q.take() {
				if r.notice != "" {
					fmt.Fprintln(a.stderr, r.notice)
					continue
				}
				if err := a.printNotification(ctx, s, r); err != nil {
					return err
				}
				got++
				if count > 0 && got >= count {
					return nil
				}
			}
		}
	}
}

func (a *app) printNotification(ctx context.Context, s *session, r received) error {
	if a.json {
		return printJSONLine(a.stdout, notificationJSON{Method: r.n.Method(), Params: r.n})
	}
	if ids := notificationAgents(r.n); len(ids) > 0 {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s.names.resolve(rctx, ids...)
		cancel()
	}
	_, err := fmt.Fprintln(a.stdout, formatNotification(r.at, r.n, s.names.name))
	return err
}

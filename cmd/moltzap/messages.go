package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/generated/protocol"
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
(exit 1). The connection is re-established after a drop. A line on standard error says
when listening has started.`,
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

type received struct {
	at time.Time
	n  protocol.Notification
}

func newNoteQueue() *noteQueue { return &noteQueue{signal: make(chan struct{}, 1)} }

func (q *noteQueue) push(n protocol.Notification) {
	q.mu.Lock()
	q.items = append(q.items, received{at: time.Now(), n: n})
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

func (a *app) listen(ctx context.Context, count int, timeout time.Duration) error {
	s, err := a.connect(ctx, streaming)
	if err != nil {
		return err
	}
	defer s.Close()
	q := newNoteQueue()
	cancel := s.OnAny(q.push)
	defer cancel()
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
		case <-s.Done():
			return errors.New("connection closed")
		case <-q.signal:
			for _, r := range q.take() {
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

package service

import (
	"log/slog"
	"time"
)

// Defaults applied by New to zero Options fields (REFERENCE 17.2).
const (
	// DefaultDedupWindow is the number of message ids remembered per conversation.
	DefaultDedupWindow = 1000
	// DefaultHistoryPerConversation is the number of recent inbound messages kept per
	// conversation for the cross-conversation context.
	DefaultHistoryPerConversation = 50
	// DefaultMaxContextConversations is the default number of other conversations a
	// context peek summarises.
	DefaultMaxContextConversations = 5
	// DefaultMaxContextMessages is the default number of messages per conversation a
	// context peek counts or returns.
	DefaultMaxContextMessages = 3
	// ContextTextLimit is the length (in characters) a context entry's text is cut to.
	ContextTextLimit = 120
)

// Page sizes of the list calls the service makes.
const (
	conversationPageSize = 100
	messagesPageSize     = 200
	lookupBatchSize      = 100
)

// Options configure a Service. The zero value is usable.
type Options struct {
	// Logger receives diagnostics; default: discard.
	Logger *slog.Logger
	// DedupWindow is the number of message ids remembered per conversation (default 1000).
	DedupWindow int
	// HistoryPerConversation bounds the recent messages kept per conversation for the
	// cross-conversation context (default 50).
	HistoryPerConversation int
	// Now is the clock used for "minutes ago"; default time.Now.
	Now func() time.Time
	// OnCatchUp, when set, is called after each automatic catch-up run (the one started
	// by a reconnect), on the catch-up goroutine, after the recovered messages were
	// delivered. It must not block.
	OnCatchUp func(CatchUpReport)
}

// CatchUpReport describes one automatic catch-up run.
type CatchUpReport struct {
	// Recovered lists the conversations in which the run delivered messages missed while
	// the connection was down, with their counts.
	Recovered []RecoveredMessages
	// Err is the run's error (nil when every conversation was caught up).
	Err error
	// Again reports that another run follows (a reconnect happened during this one).
	Again bool
}

// RecoveredMessages is the number of messages a catch-up delivered in one conversation.
type RecoveredMessages struct {
	TaskID, ConversationID string
	Count                  int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = DefaultDedupWindow
	}
	if o.HistoryPerConversation <= 0 {
		o.HistoryPerConversation = DefaultHistoryPerConversation
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

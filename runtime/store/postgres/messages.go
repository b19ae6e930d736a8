package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

const messageColumns = `id, conversation_id, task_id, sender_id, seq, reply_to_id, parts,
	tagged_entities, decision_tag, decision_recipients, decision_reason, created_at`

const (
	// sqlAppendBump takes the next seq of conversation $2 and touches it with $1. Its row
	// lock serialises the appends of the conversation until the transaction ends.
	sqlAppendBump = `UPDATE conversations SET last_seq = last_seq + 1,
			last_message_at = GREATEST(last_message_at, $1), updated_at = GREATEST(updated_at, $1)
		WHERE id = $2 RETURNING last_seq, task_id`
	// sqlAppendInsert inserts the message unless its reply target ($6) is not a message
	// of the same conversation (no row inserted).
	sqlAppendInsert = `INSERT INTO messages (` + messageColumns + `)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::text, $7::bytea,
			$8::text[], $9::text, $10::text[], $11::text, $12::timestamptz
		WHERE $6::text IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $6::text AND conversation_id = $2::text)`
	// sqlAppendOne is an append without a reply target in one statement (one round trip,
	// its own transaction): the seq bump of conversation $2, provided it is in task $3 (or
	// $3 is empty), and the insert; when the conversation is missing or in another task no
	// row is bumped or inserted, and when the insert fails the bump is undone with it.
	sqlAppendOne = `WITH bump AS (
			UPDATE conversations SET last_seq = last_seq + 1,
				last_message_at = GREATEST(last_message_at, $11), updated_at = GREATEST(updated_at, $11)
			WHERE id = $2::text AND ($3::text = '' OR task_id = $3::text)
			RETURNING last_seq, task_id)
		INSERT INTO messages (` + messageColumns + `)
		SELECT $1::text, $2::text, bump.task_id, $4::text, bump.last_seq, NULL, $5::bytea,
			$6::text[], $7::text, $8::text[], $9::text, $10::timestamptz
		FROM bump RETURNING seq, task_id`
	sqlGetMessage  = `SELECT ` + messageColumns + ` FROM messages WHERE id = $1`
	sqlDecisionSet = `UPDATE messages SET decision_tag = $1, decision_recipients = $2, decision_reason = $3
		WHERE id = $4 AND decision_tag = 'pending'`
	sqlDecisionGet = `SELECT decision_tag, decision_recipients, decision_reason FROM messages WHERE id = $1`

	// visibleTo restricts a listing to the messages agent $2 may see.
	visibleTo = ` AND (sender_id = $2 OR (decision_tag = 'forward' AND $2 = ANY(decision_recipients)))`
	// The four ListMessages queries: every row or those visible to $2, newest first or
	// after a seq. Arguments: conversation, [viewer,] [sinceSeq,] limit.
	sqlListNewestAll     = `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2`
	sqlListNewestVisible = `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = $1` + visibleTo + ` ORDER BY seq DESC LIMIT $3`
	sqlListSinceAll      = `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
	sqlListSinceVisible  = `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = $1` + visibleTo + ` AND seq > $3 ORDER BY seq LIMIT $4`
)

func scanMessage(r pgx.Row) (store.Message, error) {
	var (
		m                  store.Message
		replyTo            *string
		tagged, recipients []string
		reason             *string
	)
	if err := r.Scan(&m.ID, &m.ConversationID, &m.TaskID, &m.SenderID, &m.Seq, &replyTo, &m.Parts,
		&tagged, &m.Decision.Tag, &recipients, &reason, &m.CreatedAt); err != nil {
		return store.Message{}, err
	}
	m.ReplyToID = deref[protocol.MessageID](replyTo)
	m.TaggedEntities = typed[protocol.AgentID](tagged)
	m.Decision.Recipients, m.Decision.Reason = typed[protocol.AgentID](recipients), deref[string](reason)
	m.Decision = normalizeDecision(m.Decision)
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

// normalizeDecision keeps only the fields meaningful for the tag; a forward decision
// always has a non-nil recipient list.
func normalizeDecision(d store.Decision) store.Decision {
	switch d.Tag {
	case store.DecisionForward:
		d.Reason = ""
		if d.Recipients == nil {
			d.Recipients = []protocol.AgentID{}
		}
	case store.DecisionBlock:
		d.Recipients = nil
	default:
		d.Recipients, d.Reason = nil, ""
	}
	return d
}

// decisionArgs returns the stored columns of a normalised decision: tag, recipients
// (NULL unless forward), reason (NULL unless a non-empty block reason).
func decisionArgs(d store.Decision) (tag string, recipients []string, reason any) {
	if d.Tag == store.DecisionForward {
		recipients = stringsOf(d.Recipients)
	}
	return string(d.Tag), recipients, optString(d.Reason)
}

// AppendMessage implements store.MessageStore.
func (s *Store) AppendMessage(ctx context.Context, m store.Message) (store.Message, error) {
	if m.ID == "" || m.ConversationID == "" || m.SenderID == "" || len(m.Parts) == 0 {
		return store.Message{}, fmt.Errorf("append message: id, conversation, sender and parts required: %w", store.ErrInvalid)
	}
	switch m.Decision.Tag {
	case "", store.DecisionPending:
		m.Decision = store.Decision{Tag: store.DecisionPending}
	case store.DecisionForward, store.DecisionBlock:
		m.Decision = normalizeDecision(m.Decision)
		m.Decision.Recipients = slices.Clone(m.Decision.Recipients)
	default:
		return store.Message{}, fmt.Errorf("append message: decision tag %q: %w", m.Decision.Tag, store.ErrInvalid)
	}
	if !storable(m.ConversationID) {
		return store.Message{}, fmt.Errorf("append message %s: conversation %q: %w", m.ID, m.ConversationID, store.ErrNotFound)
	}
	m.CreatedAt = micro(m.CreatedAt)
	m.TaggedEntities = slices.Clone(m.TaggedEntities)
	var tagged []string
	if m.TaggedEntities != nil {
		tagged = stringsOf(m.TaggedEntities)
	}
	tag, recipients, reason := decisionArgs(m.Decision)
	if m.ReplyToID == "" {
		// The common case: one statement, sent with the concurrent ones (groupcommit.go).
		args := []any{m.ID, m.ConversationID, m.TaskID, m.SenderID, m.Parts, tagged, tag, recipients, reason, m.CreatedAt, m.CreatedAt}
		return s.appends.submit(&appendReq{ctx: ctx, m: m, args: args, done: make(chan result, 1)})
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var taskID protocol.TaskID
		err := tx.QueryRow(ctx, sqlAppendBump, m.CreatedAt, m.ConversationID).Scan(&m.Seq, &taskID)
		if noRows(err) {
			return fmt.Errorf("conversation %s: %w", m.ConversationID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if m.TaskID == "" {
			m.TaskID = taskID
		} else if m.TaskID != taskID {
			return fmt.Errorf("conversation %s is not in task %s: %w", m.ConversationID, m.TaskID, store.ErrInvalid)
		}
		ct, err := tx.Exec(ctx, sqlAppendInsert, m.ID, m.ConversationID, m.TaskID, m.SenderID, m.Seq,
			optString(m.ReplyToID), m.Parts, tagged, tag, recipients, reason, m.CreatedAt)
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return fmt.Errorf("reply target %s: %w", m.ReplyToID, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return store.Message{}, fmt.Errorf("append message %s: %w", m.ID, err)
	}
	return m, nil
}

// appendOne appends m, which has no reply target, with one statement (sqlAppendOne and
// its arguments args).
func (s *Store) appendOne(ctx context.Context, m store.Message, args []any) (store.Message, error) {
	err := s.pool.QueryRow(ctx, sqlAppendOne, args...).Scan(&m.Seq, &m.TaskID)
	if noRows(err) {
		err = s.whyNotAppended(ctx, m)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("append message %s: %w", m.ID, mapErr(err))
	}
	return m, nil
}

// whyNotAppended tells why sqlAppendOne appended nothing: the conversation is missing, or
// it is in another task than m's.
func (s *Store) whyNotAppended(ctx context.Context, m store.Message) error {
	c, err := s.GetConversation(ctx, m.ConversationID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("conversation %s: %w", m.ConversationID, store.ErrNotFound)
	case err != nil:
		return err
	case m.TaskID != "" && c.TaskID != m.TaskID:
		return fmt.Errorf("conversation %s is not in task %s: %w", m.ConversationID, m.TaskID, store.ErrInvalid)
	}
	return fmt.Errorf("conversation %s: appended nothing although it is in task %s", m.ConversationID, c.TaskID)
}

// GetMessage implements store.MessageStore.
func (s *Store) GetMessage(ctx context.Context, id protocol.MessageID) (store.Message, error) {
	if !storable(id) {
		return store.Message{}, fmt.Errorf("get message %s: %w", id, store.ErrNotFound)
	}
	m, err := scanMessage(s.pool.QueryRow(ctx, sqlGetMessage, id))
	if noRows(err) {
		return store.Message{}, fmt.Errorf("get message %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("get message %s: %w", id, mapErr(err))
	}
	return m, nil
}

// SetMessageDecision implements store.MessageStore.
func (s *Store) SetMessageDecision(ctx context.Context, id protocol.MessageID, d store.Decision) (store.Decision, error) {
	if d.Tag != store.DecisionForward && d.Tag != store.DecisionBlock {
		return store.Decision{}, fmt.Errorf("set decision of %s: tag %q: %w", id, d.Tag, store.ErrInvalid)
	}
	if !storable(id) {
		return store.Decision{}, fmt.Errorf("set decision of message %s: %w", id, store.ErrNotFound)
	}
	d = normalizeDecision(d)
	d.Recipients = slices.Clone(d.Recipients)
	tag, recipients, reason := decisionArgs(d)
	// The compare-and-set is one statement; a decision is final once set, so the read
	// after a lost CAS returns the decision that won.
	ct, err := s.pool.Exec(ctx, sqlDecisionSet, tag, recipients, reason, id)
	if err != nil {
		return store.Decision{}, fmt.Errorf("set decision of message %s: %w", id, mapErr(err))
	}
	if ct.RowsAffected() > 0 {
		return d, nil
	}
	var (
		cur    store.Decision
		stored []string
		why    *string
	)
	err = s.pool.QueryRow(ctx, sqlDecisionGet, id).Scan(&cur.Tag, &stored, &why)
	if noRows(err) {
		return store.Decision{}, fmt.Errorf("set decision of message %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Decision{}, fmt.Errorf("set decision of message %s: read stored decision: %w", id, mapErr(err))
	}
	cur.Recipients, cur.Reason = typed[protocol.AgentID](stored), deref[string](why)
	cur = normalizeDecision(cur)
	return cur, fmt.Errorf("set decision of message %s: already decided %s: %w", id, cur.Tag, store.ErrStateChanged)
}

// ListMessages implements store.MessageStore.
func (s *Store) ListMessages(ctx context.Context, conversationID protocol.ConversationID, viewer store.MessageViewer, sinceSeq *int64, limit int) ([]store.Message, bool, error) {
	limit = store.EffectiveLimit(limit)
	if !storable(conversationID) || (!viewer.SeesAll && !storable(viewer.AgentID)) {
		return []store.Message{}, false, nil
	}
	query, args := listQuery(conversationID, viewer, sinceSeq, limit+1)
	rows, err := s.pool.Query(ctx, query, args...)
	var out []store.Message
	if err == nil {
		out, err = pgx.AppendRows(make([]store.Message, 0, min(limit+1, 256)), rows,
			func(r pgx.CollectableRow) (store.Message, error) { return scanMessage(r) })
	}
	if err != nil {
		return nil, false, fmt.Errorf("list messages of %s: %w", conversationID, mapErr(err))
	}
	hasMore := len(out) > limit
	if hasMore {
		out = out[:limit]
	}
	if sinceSeq == nil {
		slices.Reverse(out)
	}
	return out, hasMore, nil
}

// listQuery returns the ListMessages query for a viewer and paging direction, with its
// arguments.
func listQuery(conv protocol.ConversationID, viewer store.MessageViewer, sinceSeq *int64, rowLimit int) (string, []any) {
	switch {
	case viewer.SeesAll && sinceSeq == nil:
		return sqlListNewestAll, []any{conv, rowLimit}
	case viewer.SeesAll:
		return sqlListSinceAll, []any{conv, *sinceSeq, rowLimit}
	case sinceSeq == nil:
		return sqlListNewestVisible, []any{conv, viewer.AgentID, rowLimit}
	default:
		return sqlListSinceVisible, []any{conv, viewer.AgentID, *sinceSeq, rowLimit}
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

const messageColumns = `id, conversation_id, task_id, sender_id, seq, reply_to_id, parts,
	tagged_entities, decision, created_at`

// pendingJSON is the stored form of the pending decision.
const pendingJSON = `{"tag":"pending"}`

func scanMessage(r rowScanner) (store.Message, error) {
	var (
		m               store.Message
		replyTo, tagged sql.NullString
		decision        string
		createdAt       int64
	)
	if err := r.Scan(text(&m.ID), text(&m.ConversationID), text(&m.TaskID), text(&m.SenderID), &m.Seq, &replyTo,
		&m.Parts, &tagged, &decision, &createdAt); err != nil {
		return store.Message{}, err
	}
	m.ReplyToID = protocol.MessageID(replyTo.String)
	if tagged.Valid {
		if err := json.Unmarshal([]byte(tagged.String), &m.TaggedEntities); err != nil {
			return store.Message{}, fmt.Errorf("decode tagged entities of %s: %w", m.ID, err)
		}
	}
	d, err := decodeDecision(decision)
	if err != nil {
		return store.Message{}, fmt.Errorf("decode decision of %s: %w", m.ID, err)
	}
	m.Decision = d
	m.CreatedAt = fromMicro(createdAt)
	return m, nil
}

// decodeDecision parses a stored decision.
func decodeDecision(s string) (store.Decision, error) {
	if s == pendingJSON {
		return store.Decision{Tag: store.DecisionPending}, nil
	}
	var d store.Decision
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return store.Decision{}, err
	}
	return normalizeDecision(d), nil
}

// normalizeDecision keeps only the fields meaningful for the tag; a forward
// decision always has a non-nil recipient list.
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

// AppendMessage implements store.MessageStore.
func (s *Store) AppendMessage(ctx context.Context, m store.Message) (store.Message, error) {
	if m.ID == "" || m.ConversationID == "" || m.SenderID == "" || len(m.Parts) == 0 {
		return store.Message{}, fmt.Errorf("append message: id, conversation, sender and parts required: %w", store.ErrInvalid)
	}
	var tagged any
	if m.TaggedEntities != nil {
		b, err := json.Marshal(m.TaggedEntities)
		if err != nil {
			return store.Message{}, fmt.Errorf("append message: encode tagged entities: %w", err)
		}
		tagged = string(b)
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Microsecond)
	decisionJSON := pendingJSON
	switch m.Decision.Tag {
	case "", store.DecisionPending:
		m.Decision = store.Decision{Tag: store.DecisionPending}
	case store.DecisionForward, store.DecisionBlock:
		m.Decision = normalizeDecision(m.Decision)
		m.Decision.Recipients = slices.Clone(m.Decision.Recipients)
		b, err := json.Marshal(m.Decision)
		if err != nil {
			return store.Message{}, fmt.Errorf("append message: encode decision: %w", err)
		}
		decisionJSON = string(b)
	default:
		return store.Message{}, fmt.Errorf("append message: decision tag %q: %w", m.Decision.Tag, store.ErrInvalid)
	}
	// The hot-path statements take ids as plain strings: database/sql converts
	// a named string type by reflection, with one more allocation per argument.
	r := &appendReq{ctx: ctx, m: m, tagged: tagged, decisionJSON: decisionJSON, at: toMicro(m.CreatedAt), done: make(chan error, 1)}
	if err := s.appends.submit(r); err != nil {
		return store.Message{}, fmt.Errorf("append message %s: %w", m.ID, err)
	}
	return r.m, nil
}

// GetMessage implements store.MessageStore.
func (s *Store) GetMessage(ctx context.Context, id protocol.MessageID) (store.Message, error) {
	m, err := scanMessage(s.st.getMessage.QueryRowContext(ctx, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Message{}, fmt.Errorf("get message %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("get message %s: %w", id, err)
	}
	return m, nil
}

// SetMessageDecision implements store.MessageStore.
func (s *Store) SetMessageDecision(ctx context.Context, id protocol.MessageID, d store.Decision) (store.Decision, error) {
	if d.Tag != store.DecisionForward && d.Tag != store.DecisionBlock {
		return store.Decision{}, fmt.Errorf("set decision of %s: tag %q: %w", id, d.Tag, store.ErrInvalid)
	}
	d = normalizeDecision(d)
	d.Recipients = slices.Clone(d.Recipients)
	b, err := json.Marshal(d)
	if err != nil {
		return store.Decision{}, fmt.Errorf("set decision of %s: encode: %w", id, err)
	}
	var cur store.Decision
	err = s.write(ctx, func(tx *txn) error {
		res, err := tx.StmtContext(ctx, s.st.decisionSet).ExecContext(ctx, string(d.Tag), string(b), string(id))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n > 0 {
			cur = d
			return nil
		}
		var stored string
		err = tx.StmtContext(ctx, s.st.decisionGet).QueryRowContext(ctx, string(id)).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur, err = decodeDecision(stored); err != nil {
			return fmt.Errorf("decode stored decision: %w", err)
		}
		return fmt.Errorf("already decided %s: %w", cur.Tag, store.ErrStateChanged)
	})
	if err != nil {
		return cur, fmt.Errorf("set decision of message %s: %w", id, err)
	}
	return cur, nil
}

// ListMessages implements store.MessageStore.
func (s *Store) ListMessages(ctx context.Context, conversationID protocol.ConversationID, viewer store.MessageViewer, sinceSeq *int64, limit int) ([]store.Message, bool, error) {
	limit = store.EffectiveLimit(limit)
	var since int64
	if sinceSeq != nil {
		since = *sinceSeq
	}
	rows, err := s.st.list(viewer.SeesAll, sinceSeq != nil).QueryContext(ctx,
		string(conversationID), string(viewer.AgentID), since, limit+1) // plain strings: see AppendMessage
	if err != nil {
		return nil, false, fmt.Errorf("list messages of %s: %w", conversationID, err)
	}
	defer rows.Close()
	out := make([]store.Message, 0, min(limit+1, 256))
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list messages of %s: %w", conversationID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list messages of %s: %w", conversationID, err)
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

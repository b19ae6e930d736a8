package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const conversationColumns = `id, task_id, type, name, created_by, metadata,
	last_message_at, archived_at, created_at, updated_at`

func scanConversation(r rowScanner) (store.Conversation, error) {
	var (
		c                    store.Conversation
		name, metadata       sql.NullString
		lastMsg, archived    sql.NullInt64
		createdAt, updatedAt int64
	)
	if err := r.Scan(&c.ID, &c.TaskID, &c.Type, &name, &c.CreatedBy, &metadata,
		&lastMsg, &archived, &createdAt, &updatedAt); err != nil {
		return store.Conversation{}, err
	}
	c.Name = name.String
	if metadata.Valid {
		c.Metadata = json.RawMessage(metadata.String)
	}
	c.LastMessageAt, c.ArchivedAt = fromNullMicro(lastMsg), fromNullMicro(archived)
	c.CreatedAt, c.UpdatedAt = fromMicro(createdAt), fromMicro(updatedAt)
	return c, nil
}

// getConversationTx reads a conversation; ErrNotFound if absent.
func getConversationTx(ctx context.Context, q rowQuerier, id protocol.ConversationID) (store.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Conversation{}, fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
	}
	return c, err
}

// queryConversations runs a query selecting conversationColumns.
func queryConversations(ctx context.Context, q querier, query string, args ...any) ([]store.Conversation, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateConversation implements store.ConversationStore.
func (s *Store) CreateConversation(ctx context.Context, c store.Conversation, participants []protocol.AgentID) (store.Conversation, error) {
	if c.ID == "" || c.TaskID == "" || c.CreatedBy == "" {
		return store.Conversation{}, fmt.Errorf("create conversation: id, task and creator required: %w", store.ErrInvalid)
	}
	if !c.Type.Valid() {
		return store.Conversation{}, fmt.Errorf("create conversation: type %q: %w", c.Type, store.ErrInvalid)
	}
	var metadata any
	if c.Metadata != nil {
		if !json.Valid(c.Metadata) {
			return store.Conversation{}, fmt.Errorf("create conversation: metadata is not JSON: %w", store.ErrInvalid)
		}
		metadata = string(c.Metadata)
	}
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.UpdatedAt = c.UpdatedAt.UTC().Truncate(time.Microsecond)
	c.LastMessageAt, c.ArchivedAt = truncPtr(c.LastMessageAt), truncPtr(c.ArchivedAt)
	participants = unique(participants)
	err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations (`+conversationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.TaskID, c.Type, optString(c.Name), c.CreatedBy, metadata,
			optMicro(c.LastMessageAt), optMicro(c.ArchivedAt), toMicro(c.CreatedAt), toMicro(c.UpdatedAt))
		if err != nil {
			return mapErr(err)
		}
		for _, a := range participants {
			if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_participants
				(conversation_id, agent_id, joined_at) VALUES (?, ?, ?)`,
				c.ID, a, toMicro(c.CreatedAt)); err != nil {
				return fmt.Errorf("add participant %s: %w", a, mapErr(err))
			}
		}
		return nil
	})
	if err != nil {
		return store.Conversation{}, fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	return c, nil
}

// GetConversation implements store.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, id protocol.ConversationID) (store.Conversation, error) {
	c, err := getConversationTx(ctx, s.r, id)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// ConversationsOfTask implements store.ConversationStore.
func (s *Store) ConversationsOfTask(ctx context.Context, taskID protocol.TaskID) ([]store.Conversation, error) {
	out, err := queryConversations(ctx, s.r, `SELECT `+conversationColumns+` FROM conversations
		WHERE task_id = ? ORDER BY created_at, id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("conversations of task %s: %w", taskID, err)
	}
	return out, nil
}

// setArchived sets (archive) or clears the archive mark; changed reports
// whether the row changed.
func (s *Store) setArchived(ctx context.Context, id protocol.ConversationID, archive bool, at time.Time) (store.Conversation, bool, error) {
	var (
		c       store.Conversation
		changed bool
	)
	err := s.write(ctx, func(tx *txn) error {
		query := `UPDATE conversations SET archived_at = ?1, updated_at = max(updated_at, ?1)
			WHERE id = ?2 AND archived_at IS NULL RETURNING ` + conversationColumns
		if !archive {
			query = `UPDATE conversations SET archived_at = NULL, updated_at = max(updated_at, ?1)
				WHERE id = ?2 AND archived_at IS NOT NULL RETURNING ` + conversationColumns
		}
		var err error
		c, err = scanConversation(tx.QueryRowContext(ctx, query, toMicro(at), id))
		if err == nil {
			changed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		c, err = getConversationTx(ctx, tx, id)
		return err
	})
	return c, changed, err
}

// ArchiveConversation implements store.ConversationStore.
func (s *Store) ArchiveConversation(ctx context.Context, id protocol.ConversationID, at time.Time) (store.Conversation, bool, error) {
	c, changed, err := s.setArchived(ctx, id, true, at)
	if err != nil {
		return store.Conversation{}, false, fmt.Errorf("archive conversation: %w", err)
	}
	return c, changed, nil
}

// UnarchiveConversation implements store.ConversationStore.
func (s *Store) UnarchiveConversation(ctx context.Context, id protocol.ConversationID, at time.Time) (store.Conversation, bool, error) {
	c, changed, err := s.setArchived(ctx, id, false, at)
	if err != nil {
		return store.Conversation{}, false, fmt.Errorf("unarchive conversation: %w", err)
	}
	return c, changed, nil
}

// AddConversationParticipant implements store.ConversationStore.
func (s *Store) AddConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID, at time.Time) (bool, error) {
	var added bool
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO conversation_participants
			(conversation_id, agent_id, joined_at) VALUES (?, ?, ?)
			ON CONFLICT (conversation_id, agent_id) DO NOTHING`, id, agentID, toMicro(at))
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		added = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add %s to conversation %s: %w", agentID, id, err)
	}
	return added, nil
}

// RemoveConversationParticipant implements store.ConversationStore.
func (s *Store) RemoveConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	var removed bool
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM conversation_participants
			WHERE conversation_id = ? AND agent_id = ?`, id, agentID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n > 0 {
			removed = true
			return nil
		}
		_, err = getConversationTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remove %s from conversation %s: %w", agentID, id, err)
	}
	return removed, nil
}

// ConversationParticipants implements store.ConversationStore.
func (s *Store) ConversationParticipants(ctx context.Context, id protocol.ConversationID) ([]protocol.AgentID, error) {
	var out []protocol.AgentID
	err := s.read(ctx, func(tx *txn) error {
		if _, err := getConversationTx(ctx, tx, id); err != nil {
			return err
		}
		var err error
		out, err = queryStrings[protocol.AgentID](ctx, tx, `SELECT agent_id FROM conversation_participants
			WHERE conversation_id = ? ORDER BY joined_at, agent_id`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("participants of conversation: %w", err)
	}
	return out, nil
}

// IsConversationParticipant implements store.ConversationStore.
func (s *Store) IsConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversation_participants
		WHERE conversation_id = ? AND agent_id = ?`, id, agentID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is %s in conversation %s: %w", agentID, id, err)
	}
	return n > 0, nil
}

// ConversationIDsForAgent implements store.ConversationStore.
func (s *Store) ConversationIDsForAgent(ctx context.Context, agentID protocol.AgentID) ([]protocol.ConversationID, error) {
	out, err := queryStrings[protocol.ConversationID](ctx, s.r, `SELECT conversation_id FROM conversation_participants
		WHERE agent_id = ? ORDER BY conversation_id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("conversations of %s: %w", agentID, err)
	}
	return out, nil
}

// cursorConversations is the cursor kind of ListConversationsForAgent
// (keyset: updated_at, id, descending).
const cursorConversations = "conversations"

// ListConversationsForAgent implements store.ConversationStore.
func (s *Store) ListConversationsForAgent(ctx context.Context, agentID protocol.AgentID, page store.Page) (store.PageResult[store.ConversationListItem], error) {
	var res store.PageResult[store.ConversationListItem]
	beforeAt, beforeID := int64(1<<63-1), "\U0010FFFF"
	if page.Cursor != "" {
		v, err := cursor.Decode(page.Cursor, cursorConversations, 2)
		if err != nil {
			return res, fmt.Errorf("list conversations: %w", err)
		}
		if beforeAt, err = cursor.Int(v[0]); err != nil {
			return res, fmt.Errorf("list conversations: %w", err)
		}
		beforeID = v[1]
	}
	limit := page.EffectiveLimit()
	err := s.read(ctx, func(tx *txn) error {
		convs, err := queryConversations(ctx, tx, `SELECT c.id, c.task_id, c.type, c.name,
				c.created_by, c.metadata, c.last_message_at, c.archived_at, c.created_at, c.updated_at
			FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
			WHERE p.agent_id = ?1 AND (c.updated_at < ?2 OR (c.updated_at = ?2 AND c.id < ?3))
			ORDER BY c.updated_at DESC, c.id DESC LIMIT ?4`, agentID, beforeAt, beforeID, limit+1)
		if err != nil {
			return err
		}
		if len(convs) > limit {
			convs = convs[:limit]
			last := convs[limit-1]
			res.NextCursor = cursor.Encode(cursorConversations,
				strconv.FormatInt(toMicro(last.UpdatedAt), 10), string(last.ID))
		}
		members, err := participantsOf(ctx, tx, convs)
		if err != nil {
			return err
		}
		res.Items = make([]store.ConversationListItem, len(convs))
		for i, c := range convs {
			ps := members[c.ID]
			if ps == nil {
				ps = []protocol.AgentID{}
			}
			res.Items[i] = store.ConversationListItem{Conversation: c, Participants: ps}
		}
		return nil
	})
	if err != nil {
		return store.PageResult[store.ConversationListItem]{}, fmt.Errorf("list conversations of %s: %w", agentID, err)
	}
	return res, nil
}

// participantsOf returns the members of each conversation of convs, by id,
// ordered by join time then agent id.
func participantsOf(ctx context.Context, tx *txn, convs []store.Conversation) (map[protocol.ConversationID][]protocol.AgentID, error) {
	out := make(map[protocol.ConversationID][]protocol.AgentID, len(convs))
	if len(convs) == 0 {
		return out, nil
	}
	ids := make([]any, len(convs))
	for i, c := range convs {
		ids[i] = string(c.ID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT conversation_id, agent_id FROM conversation_participants
		WHERE conversation_id IN (`+placeholders(len(ids))+`)
		ORDER BY conversation_id, joined_at, agent_id`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var conv, agent string
		if err := rows.Scan(&conv, &agent); err != nil {
			return nil, err
		}
		id := protocol.ConversationID(conv)
		out[id] = append(out[id], protocol.AgentID(agent))
	}
	return out, rows.Err()
}

// TouchConversation implements store.ConversationStore.
func (s *Store) TouchConversation(ctx context.Context, id protocol.ConversationID, lastMessageAt time.Time) error {
	err := s.write(ctx, func(tx *txn) error {
		return touchTx(ctx, tx, id, toMicro(lastMessageAt))
	})
	if err != nil {
		return fmt.Errorf("touch conversation %s: %w", id, err)
	}
	return nil
}

// touchTx moves last_message_at and updated_at forward to at.
func touchTx(ctx context.Context, tx *txn, id protocol.ConversationID, at int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE conversations
		SET last_message_at = max(COALESCE(last_message_at, ?1), ?1), updated_at = max(updated_at, ?1)
		WHERE id = ?2`, at, id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

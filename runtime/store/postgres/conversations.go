package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const conversationColumns = `id, task_id, type, name, created_by, metadata,
	last_message_at, archived_at, created_at, updated_at`

const (
	sqlConvInsert = `INSERT INTO conversations (` + conversationColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	// sqlConvJoinAll adds every agent of $2 to conversation $1, joined at $3.
	sqlConvJoinAll = `INSERT INTO conversation_participants (conversation_id, agent_id, joined_at)
		SELECT $1, agent_id, $3 FROM unnest($2::text[]) AS agent_id`
	sqlConvByID    = `SELECT ` + conversationColumns + ` FROM conversations WHERE id = $1`
	sqlConvLock    = `SELECT ` + conversationColumns + ` FROM conversations WHERE id = $1 FOR NO KEY UPDATE`
	sqlConvsOfTask = `SELECT ` + conversationColumns + ` FROM conversations
		WHERE task_id = $1 ORDER BY created_at, id`
	sqlConvArchive = `UPDATE conversations SET archived_at = $1, updated_at = GREATEST(updated_at, $1)
		WHERE id = $2 RETURNING ` + conversationColumns
	sqlConvUnarchive = `UPDATE conversations SET archived_at = NULL, updated_at = GREATEST(updated_at, $1)
		WHERE id = $2 RETURNING ` + conversationColumns
	sqlConvJoin = `INSERT INTO conversation_participants (conversation_id, agent_id, joined_at)
		VALUES ($1, $2, $3) ON CONFLICT (conversation_id, agent_id) DO NOTHING`
	sqlConvLeave  = `DELETE FROM conversation_participants WHERE conversation_id = $1 AND agent_id = $2`
	sqlConvExists = `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`
	// sqlConvMembers returns one row with a NULL agent for a conversation without
	// members and no row for an unknown conversation.
	sqlConvMembers = `SELECT p.agent_id FROM conversations c
		LEFT JOIN conversation_participants p ON p.conversation_id = c.id
		WHERE c.id = $1 ORDER BY p.joined_at, p.agent_id`
	sqlConvIsMember = `SELECT EXISTS (SELECT 1 FROM conversation_participants
		WHERE conversation_id = $1 AND agent_id = $2)`
	sqlConvIDsOfAgent = `SELECT conversation_id FROM conversation_participants
		WHERE agent_id = $1 ORDER BY conversation_id`
	// sqlConvsForAgent pages through the conversations $1 belongs to before the keyset
	// ($2, $3), most recent activity first, each with its members; $2 NULL is the first
	// page. One statement, so the members are those of the same snapshot.
	sqlConvsForAgent = `SELECT c.id, c.task_id, c.type, c.name, c.created_by, c.metadata,
			c.last_message_at, c.archived_at, c.created_at, c.updated_at,
			ARRAY(SELECT m.agent_id FROM conversation_participants m
				WHERE m.conversation_id = c.id ORDER BY m.joined_at, m.agent_id)
		FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
		WHERE p.agent_id = $1 AND ($2::timestamptz IS NULL OR (c.updated_at, c.id) < ($2, $3::text))
		ORDER BY c.updated_at DESC, c.id DESC LIMIT $4`
	sqlConvTouch = `UPDATE conversations
		SET last_message_at = GREATEST(last_message_at, $1), updated_at = GREATEST(updated_at, $1)
		WHERE id = $2`
)

// conversationDest holds the scan destinations of conversationColumns.
type conversationDest struct {
	c              store.Conversation
	name, metadata *string
}

// dest returns the destinations in conversationColumns order.
func (d *conversationDest) dest() []any {
	return []any{&d.c.ID, &d.c.TaskID, &d.c.Type, &d.name, &d.c.CreatedBy, &d.metadata,
		&d.c.LastMessageAt, &d.c.ArchivedAt, &d.c.CreatedAt, &d.c.UpdatedAt}
}

// conversation returns the scanned record.
func (d *conversationDest) conversation() store.Conversation {
	c := d.c
	c.Name = deref[string](d.name)
	if d.metadata != nil {
		c.Metadata = json.RawMessage(*d.metadata)
	}
	c.LastMessageAt, c.ArchivedAt = utcPtr(c.LastMessageAt), utcPtr(c.ArchivedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

func scanConversation(r pgx.Row) (store.Conversation, error) {
	var d conversationDest
	if err := r.Scan(d.dest()...); err != nil {
		return store.Conversation{}, err
	}
	return d.conversation(), nil
}

// getConversation reads a conversation with query (sqlConvByID or sqlConvLock);
// ErrNotFound if absent.
func getConversation(ctx context.Context, q querier, query string, id protocol.ConversationID) (store.Conversation, error) {
	if !storable(id) {
		return store.Conversation{}, fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
	}
	c, err := scanConversation(q.QueryRow(ctx, query, id))
	if noRows(err) {
		return store.Conversation{}, fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
	}
	return c, mapErr(err)
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
	c.CreatedAt = micro(c.CreatedAt)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.UpdatedAt = micro(c.UpdatedAt)
	c.LastMessageAt, c.ArchivedAt = microPtr(c.LastMessageAt), microPtr(c.ArchivedAt)
	members, err := memberIDs(participants)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlConvInsert, c.ID, c.TaskID, c.Type, optString(c.Name), c.CreatedBy,
			metadata, c.LastMessageAt, c.ArchivedAt, c.CreatedAt, c.UpdatedAt); err != nil {
			return err
		}
		if len(members) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, sqlConvJoinAll, c.ID, members, c.CreatedAt); err != nil {
			return fmt.Errorf("add participants: %w", err)
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
	c, err := getConversation(ctx, s.pool, sqlConvByID, id)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("get %w", err)
	}
	return c, nil
}

// ConversationsOfTask implements store.ConversationStore.
func (s *Store) ConversationsOfTask(ctx context.Context, taskID protocol.TaskID) ([]store.Conversation, error) {
	if !storable(taskID) {
		return []store.Conversation{}, nil
	}
	rows, err := s.pool.Query(ctx, sqlConvsOfTask, taskID)
	var out []store.Conversation
	if err == nil {
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Conversation, error) { return scanConversation(r) })
	}
	if err != nil {
		return nil, fmt.Errorf("conversations of task %s: %w", taskID, mapErr(err))
	}
	return out, nil
}

// setArchived sets (archive) or clears the archive mark; changed reports whether the row
// changed. The row is locked first, so the decision and the update see the same state.
func (s *Store) setArchived(ctx context.Context, id protocol.ConversationID, archive bool, at time.Time) (store.Conversation, bool, error) {
	var (
		c       store.Conversation
		changed bool
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = getConversation(ctx, tx, sqlConvLock, id); err != nil {
			return err
		}
		if (c.ArchivedAt == nil) != archive {
			return nil
		}
		query := sqlConvArchive
		if !archive {
			query = sqlConvUnarchive
		}
		c, err = scanConversation(tx.QueryRow(ctx, query, micro(at), id))
		changed = err == nil
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
	if !storable(id) || !storable(agentID) {
		return false, fmt.Errorf("add %s to conversation %s: %w", agentID, id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, sqlConvJoin, id, agentID, micro(at))
	if err != nil {
		return false, fmt.Errorf("add %s to conversation %s: %w", agentID, id, mapErr(err))
	}
	return tag.RowsAffected() > 0, nil
}

// RemoveConversationParticipant implements store.ConversationStore.
func (s *Store) RemoveConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	if !storable(id) {
		return false, fmt.Errorf("remove %s from conversation %s: %w", agentID, id, store.ErrNotFound)
	}
	removed, err := s.leave(ctx, id, agentID)
	if err != nil {
		return false, fmt.Errorf("remove %s from conversation %s: %w", agentID, id, mapErr(err))
	}
	return removed, nil
}

// leave deletes the membership; when there was none it checks that the conversation
// exists.
func (s *Store) leave(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	if storable(agentID) {
		tag, err := s.pool.Exec(ctx, sqlConvLeave, id, agentID)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() > 0 {
			return true, nil
		}
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, sqlConvExists, id).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, store.ErrNotFound
	}
	return false, nil
}

// ConversationParticipants implements store.ConversationStore.
func (s *Store) ConversationParticipants(ctx context.Context, id protocol.ConversationID) ([]protocol.AgentID, error) {
	if !storable(id) {
		return nil, fmt.Errorf("participants of conversation %s: %w", id, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, sqlConvMembers, id)
	var members []*protocol.AgentID
	if err == nil {
		members, err = pgx.CollectRows(rows, pgx.RowTo[*protocol.AgentID])
	}
	if err != nil {
		return nil, fmt.Errorf("participants of conversation %s: %w", id, mapErr(err))
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("participants of conversation %s: %w", id, store.ErrNotFound)
	}
	out := make([]protocol.AgentID, 0, len(members))
	for _, m := range members {
		if m != nil {
			out = append(out, *m)
		}
	}
	return out, nil
}

// IsConversationParticipant implements store.ConversationStore.
func (s *Store) IsConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	if !storable(id) || !storable(agentID) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, sqlConvIsMember, id, agentID).Scan(&ok); err != nil {
		return false, fmt.Errorf("is %s in conversation %s: %w", agentID, id, mapErr(err))
	}
	return ok, nil
}

// ConversationIDsForAgent implements store.ConversationStore.
func (s *Store) ConversationIDsForAgent(ctx context.Context, agentID protocol.AgentID) ([]protocol.ConversationID, error) {
	if !storable(agentID) {
		return []protocol.ConversationID{}, nil
	}
	rows, err := s.pool.Query(ctx, sqlConvIDsOfAgent, agentID)
	var out []protocol.ConversationID
	if err == nil {
		out, err = pgx.CollectRows(rows, pgx.RowTo[protocol.ConversationID])
	}
	if err != nil {
		return nil, fmt.Errorf("conversations of %s: %w", agentID, mapErr(err))
	}
	return out, nil
}

// cursorConversations is the cursor kind of ListConversationsForAgent (keyset:
// updated_at, id, descending).
const cursorConversations = "conversations"

// ListConversationsForAgent implements store.ConversationStore.
func (s *Store) ListConversationsForAgent(ctx context.Context, agentID protocol.AgentID, page store.Page) (store.PageResult[store.ConversationListItem], error) {
	var (
		res      store.PageResult[store.ConversationListItem]
		beforeAt *time.Time
		beforeID string
	)
	if page.Cursor != "" {
		at, id, err := decodeTimeCursor(page.Cursor, cursorConversations)
		if err != nil {
			return res, fmt.Errorf("list conversations: %w", err)
		}
		beforeAt, beforeID = &at, id
	}
	res.Items = []store.ConversationListItem{}
	if !storable(agentID) {
		return res, nil
	}
	limit := page.EffectiveLimit()
	rows, err := s.pool.Query(ctx, sqlConvsForAgent, agentID, beforeAt, beforeID, limit+1)
	if err == nil {
		res.Items, err = pgx.CollectRows(rows, scanListItem)
	}
	if err != nil {
		return store.PageResult[store.ConversationListItem]{}, fmt.Errorf("list conversations of %s: %w", agentID, mapErr(err))
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		last := res.Items[limit-1].Conversation
		res.NextCursor = cursor.Encode(cursorConversations, encodeMicro(last.UpdatedAt), string(last.ID))
	}
	return res, nil
}

// scanListItem reads a row of sqlConvsForAgent.
func scanListItem(r pgx.CollectableRow) (store.ConversationListItem, error) {
	var (
		d       conversationDest
		members []string
	)
	if err := r.Scan(append(d.dest(), &members)...); err != nil {
		return store.ConversationListItem{}, err
	}
	ps := typed[protocol.AgentID](members)
	if ps == nil {
		ps = []protocol.AgentID{}
	}
	return store.ConversationListItem{Conversation: d.conversation(), Participants: ps}, nil
}

// TouchConversation implements store.ConversationStore.
func (s *Store) TouchConversation(ctx context.Context, id protocol.ConversationID, lastMessageAt time.Time) error {
	if !storable(id) {
		return fmt.Errorf("touch conversation %s: %w", id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, sqlConvTouch, micro(lastMessageAt), id)
	if err != nil {
		return fmt.Errorf("touch conversation %s: %w", id, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("touch conversation %s: %w", id, store.ErrNotFound)
	}
	return nil
}

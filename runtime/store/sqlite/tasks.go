package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const taskColumns = `id, app_id, initiator_agent_id, status, started_at, ended_at, created_at`

func scanTask(r rowScanner) (store.Task, error) {
	var (
		t              store.Task
		started, ended sql.NullInt64
		createdAt      int64
	)
	if err := r.Scan(&t.ID, &t.AppID, &t.InitiatorAgentID, &t.Status, &started, &ended, &createdAt); err != nil {
		return store.Task{}, err
	}
	t.StartedAt, t.EndedAt = fromNullMicro(started), fromNullMicro(ended)
	t.CreatedAt = fromMicro(createdAt)
	return t, nil
}

// getTaskTx reads a task inside a transaction; ErrNotFound if absent.
func getTaskTx(ctx context.Context, tx *txn, id protocol.TaskID) (store.Task, error) {
	t, err := scanTask(tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Task{}, fmt.Errorf("task %s: %w", id, store.ErrNotFound)
	}
	return t, err
}

// truncPtr normalises an optional time to UTC microseconds.
func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC().Truncate(time.Microsecond)
	return &v
}

// CreateTask implements store.TaskStore.
func (s *Store) CreateTask(ctx context.Context, t store.Task, participants []protocol.AgentID) (store.Task, error) {
	if t.ID == "" || t.AppID == "" || t.InitiatorAgentID == "" {
		return store.Task{}, fmt.Errorf("create task: id, app and initiator required: %w", store.ErrInvalid)
	}
	if t.Status == "" {
		t.Status = protocol.TaskStatusWaiting
	}
	if !t.Status.Valid() {
		return store.Task{}, fmt.Errorf("create task: status %q: %w", t.Status, store.ErrInvalid)
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Microsecond)
	t.StartedAt, t.EndedAt = truncPtr(t.StartedAt), truncPtr(t.EndedAt)
	participants = unique(participants)
	err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.AppID, t.InitiatorAgentID, t.Status,
			optMicro(t.StartedAt), optMicro(t.EndedAt), toMicro(t.CreatedAt))
		if err != nil {
			return mapErr(err)
		}
		for _, a := range participants {
			if _, err := tx.ExecContext(ctx, `INSERT INTO task_participants (task_id, agent_id, admitted_at)
				VALUES (?, ?, ?)`, t.ID, a, toMicro(t.CreatedAt)); err != nil {
				return fmt.Errorf("admit %s: %w", a, mapErr(err))
			}
		}
		return nil
	})
	if err != nil {
		return store.Task{}, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	return t, nil
}

// GetTask implements store.TaskStore.
func (s *Store) GetTask(ctx context.Context, id protocol.TaskID) (store.Task, error) {
	t, err := scanTask(s.r.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Task{}, fmt.Errorf("get task %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Task{}, fmt.Errorf("get task %s: %w", id, err)
	}
	return t, nil
}

// setTaskStatusTx is the compare-and-set of SetTaskStatus inside tx. On a
// lost CAS it returns the current task with ErrStateChanged.
func setTaskStatusTx(ctx context.Context, tx *txn, id protocol.TaskID, from []protocol.TaskStatus, to protocol.TaskStatus, at int64) (store.Task, error) {
	args := append([]any{to, at, id}, stringArgs(from)...)
	t, err := scanTask(tx.QueryRowContext(ctx, `UPDATE tasks SET
			status = ?1,
			started_at = CASE WHEN ?1 = 'active' THEN COALESCE(started_at, ?2) ELSE started_at END,
			ended_at = CASE WHEN ?1 IN ('failed', 'closed') THEN ?2 ELSE ended_at END
		WHERE id = ?3 AND status IN (`+placeholders(len(from))+`)
		RETURNING `+taskColumns, args...))
	if !errors.Is(err, sql.ErrNoRows) {
		return t, err
	}
	cur, err := getTaskTx(ctx, tx, id)
	if err != nil {
		return store.Task{}, err
	}
	return cur, fmt.Errorf("task %s is %s: %w", id, cur.Status, store.ErrStateChanged)
}

// SetTaskStatus implements store.TaskStore.
func (s *Store) SetTaskStatus(ctx context.Context, id protocol.TaskID, from []protocol.TaskStatus, to protocol.TaskStatus, at time.Time) (store.Task, error) {
	if len(from) == 0 || !to.Valid() {
		return store.Task{}, fmt.Errorf("set task status: from required, to %q: %w", to, store.ErrInvalid)
	}
	var t store.Task
	err := s.write(ctx, func(tx *txn) error {
		var err error
		t, err = setTaskStatusTx(ctx, tx, id, from, to, toMicro(at))
		return err
	})
	if err != nil {
		return t, fmt.Errorf("set status of task %s: %w", id, err)
	}
	return t, nil
}

// cursorTasks is the cursor kind of ListTasksForAgent (keyset: created_at, id, descending).
const cursorTasks = "tasks"

// ListTasksForAgent implements store.TaskStore.
func (s *Store) ListTasksForAgent(ctx context.Context, agentID protocol.AgentID, page store.Page) (store.PageResult[store.Task], error) {
	var res store.PageResult[store.Task]
	beforeAt, beforeID := int64(1<<63-1), "\U0010FFFF"
	if page.Cursor != "" {
		v, err := cursor.Decode(page.Cursor, cursorTasks, 2)
		if err != nil {
			return res, fmt.Errorf("list tasks: %w", err)
		}
		if beforeAt, err = cursor.Int(v[0]); err != nil {
			return res, fmt.Errorf("list tasks: %w", err)
		}
		beforeID = v[1]
	}
	limit := page.EffectiveLimit()
	rows, err := s.r.QueryContext(ctx, `SELECT t.id, t.app_id, t.initiator_agent_id, t.status,
			t.started_at, t.ended_at, t.created_at
		FROM task_participants p JOIN tasks t ON t.id = p.task_id
		WHERE p.agent_id = ?1 AND p.admitted_at IS NOT NULL
		  AND (t.created_at < ?2 OR (t.created_at = ?2 AND t.id < ?3))
		ORDER BY t.created_at DESC, t.id DESC LIMIT ?4`, agentID, beforeAt, beforeID, limit+1)
	if err != nil {
		return res, fmt.Errorf("list tasks of %s: %w", agentID, err)
	}
	defer rows.Close()
	res.Items = []store.Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return store.PageResult[store.Task]{}, fmt.Errorf("list tasks of %s: %w", agentID, err)
		}
		res.Items = append(res.Items, t)
	}
	if err := rows.Err(); err != nil {
		return store.PageResult[store.Task]{}, fmt.Errorf("list tasks of %s: %w", agentID, err)
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		last := res.Items[limit-1]
		res.NextCursor = cursor.Encode(cursorTasks, strconv.FormatInt(toMicro(last.CreatedAt), 10), string(last.ID))
	}
	return res, nil
}

// AddTaskParticipant implements store.TaskStore.
func (s *Store) AddTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID, at time.Time) (store.TaskParticipant, error) {
	p := store.TaskParticipant{TaskID: taskID, AgentID: agentID}
	err := s.write(ctx, func(tx *txn) error {
		var admitted sql.NullInt64
		err := tx.QueryRowContext(ctx, `INSERT INTO task_participants (task_id, agent_id, admitted_at)
			VALUES (?, ?, ?)
			ON CONFLICT (task_id, agent_id) DO UPDATE SET admitted_at = COALESCE(admitted_at, excluded.admitted_at)
			RETURNING admitted_at`, taskID, agentID, toMicro(at)).Scan(&admitted)
		p.AdmittedAt = fromNullMicro(admitted)
		return mapErr(err)
	})
	if err != nil {
		return store.TaskParticipant{}, fmt.Errorf("add %s to task %s: %w", agentID, taskID, err)
	}
	return p, nil
}

// RemoveTaskParticipant implements store.TaskStore.
func (s *Store) RemoveTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (store.ParticipantRemoval, error) {
	var r store.ParticipantRemoval
	err := s.write(ctx, func(tx *txn) error {
		if _, err := getTaskTx(ctx, tx, taskID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM task_participants WHERE task_id = ? AND agent_id = ?`, taskID, agentID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		r.Removed = n > 0
		r.ConversationIDs, err = queryStrings[protocol.ConversationID](ctx, tx, `DELETE FROM conversation_participants
			WHERE agent_id = ? AND conversation_id IN (SELECT id FROM conversations WHERE task_id = ?)
			RETURNING conversation_id`, agentID, taskID)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM task_participants WHERE task_id = ?`, taskID).Scan(&r.Remaining)
	})
	if err != nil {
		return store.ParticipantRemoval{}, fmt.Errorf("remove %s from task %s: %w", agentID, taskID, err)
	}
	slices.Sort(r.ConversationIDs)
	return r, nil
}

// IsTaskParticipant implements store.TaskStore.
func (s *Store) IsTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM task_participants
		WHERE task_id = ? AND agent_id = ? AND admitted_at IS NOT NULL`, taskID, agentID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is %s in task %s: %w", agentID, taskID, err)
	}
	return n > 0, nil
}

// TaskParticipants implements store.TaskStore.
func (s *Store) TaskParticipants(ctx context.Context, taskID protocol.TaskID) ([]store.TaskParticipant, error) {
	out := []store.TaskParticipant{}
	err := s.read(ctx, func(tx *txn) error {
		if _, err := getTaskTx(ctx, tx, taskID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT agent_id, admitted_at FROM task_participants
			WHERE task_id = ? ORDER BY admitted_at, agent_id`, taskID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p := store.TaskParticipant{TaskID: taskID}
			var admitted sql.NullInt64
			if err := rows.Scan(&p.AgentID, &admitted); err != nil {
				return err
			}
			p.AdmittedAt = fromNullMicro(admitted)
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("participants of task %s: %w", taskID, err)
	}
	return out, nil
}

// CloseTask implements store.TaskStore.
func (s *Store) CloseTask(ctx context.Context, taskID protocol.TaskID, at time.Time) (store.Task, []protocol.ConversationID, error) {
	var (
		t        store.Task
		archived []protocol.ConversationID
	)
	atMicro := toMicro(at)
	err := s.write(ctx, func(tx *txn) error {
		var err error
		t, err = setTaskStatusTx(ctx, tx, taskID,
			[]protocol.TaskStatus{protocol.TaskStatusWaiting, protocol.TaskStatusActive}, protocol.TaskStatusClosed, atMicro)
		if err != nil {
			return err
		}
		archived, err = queryStrings[protocol.ConversationID](ctx, tx, `UPDATE conversations
			SET archived_at = ?1, updated_at = max(updated_at, ?1)
			WHERE task_id = ?2 AND archived_at IS NULL RETURNING id`, atMicro, taskID)
		return err
	})
	if err != nil {
		return t, nil, fmt.Errorf("close task %s: %w", taskID, err)
	}
	slices.Sort(archived)
	return t, archived, nil
}

// WaitingTasksOlderThan implements store.TaskStore.
func (s *Store) WaitingTasksOlderThan(ctx context.Context, before time.Time) ([]store.Task, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks
		WHERE status = 'waiting' AND created_at < ? ORDER BY created_at, id`, toMicro(before))
	if err != nil {
		return nil, fmt.Errorf("waiting tasks: %w", err)
	}
	defer rows.Close()
	out := []store.Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("waiting tasks: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("waiting tasks: %w", err)
	}
	return out, nil
}

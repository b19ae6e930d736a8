package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const taskColumns = `id, app_id, initiator_agent_id, status, started_at, ended_at, created_at`

const (
	sqlTaskInsert = `INSERT INTO tasks (` + taskColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	sqlTaskByID   = `SELECT ` + taskColumns + ` FROM tasks WHERE id = $1`
	// sqlTaskAdmitAll admits every agent of $2 to task $1 at $3.
	sqlTaskAdmitAll = `INSERT INTO task_participants (task_id, agent_id, admitted_at)
		SELECT $1, agent_id, $3 FROM unnest($2::text[]) AS agent_id`
	// sqlTaskSetStatus is the compare-and-set of SetTaskStatus: to $1 at $2, task $3,
	// from one of $4.
	sqlTaskSetStatus = `UPDATE tasks SET
			status = $1,
			started_at = CASE WHEN $1 = 'active' THEN COALESCE(started_at, $2) ELSE started_at END,
			ended_at = CASE WHEN $1 IN ('failed', 'closed') THEN $2 ELSE ended_at END
		WHERE id = $3 AND status = ANY($4::text[])
		RETURNING ` + taskColumns
	// sqlTasksForAgent pages through the tasks $1 is admitted to before the keyset ($2,
	// $3), newest first; $2 NULL is the first page.
	sqlTasksForAgent = `SELECT t.id, t.app_id, t.initiator_agent_id, t.status,
			t.started_at, t.ended_at, t.created_at
		FROM task_participants p JOIN tasks t ON t.id = p.task_id
		WHERE p.agent_id = $1 AND p.admitted_at IS NOT NULL
		  AND ($2::timestamptz IS NULL OR (t.created_at, t.id) < ($2, $3::text))
		ORDER BY t.created_at DESC, t.id DESC LIMIT $4`
	sqlTaskAdmit = `INSERT INTO task_participants (task_id, agent_id, admitted_at) VALUES ($1, $2, $3)
		ON CONFLICT (task_id, agent_id) DO UPDATE
			SET admitted_at = COALESCE(task_participants.admitted_at, excluded.admitted_at)
		RETURNING admitted_at`
	sqlTaskLockShare       = `SELECT 1 FROM tasks WHERE id = $1 FOR SHARE`
	sqlTaskRemove          = `DELETE FROM task_participants WHERE task_id = $1 AND agent_id = $2`
	sqlTaskRemoveFromConvs = `DELETE FROM conversation_participants cp USING conversations c
		WHERE cp.conversation_id = c.id AND c.task_id = $1 AND cp.agent_id = $2
		RETURNING cp.conversation_id`
	sqlTaskCountParticipants = `SELECT COUNT(*) FROM task_participants WHERE task_id = $1`
	sqlTaskIsParticipant     = `SELECT EXISTS (SELECT 1 FROM task_participants
		WHERE task_id = $1 AND agent_id = $2 AND admitted_at IS NOT NULL)`
	// sqlTaskParticipants returns one row with a NULL agent for a task without
	// participants and no row for an unknown task. Invited (not admitted) participants
	// come first, as NULLs sort in SQLite.
	sqlTaskParticipants = `SELECT p.agent_id, p.admitted_at
		FROM tasks t LEFT JOIN task_participants p ON p.task_id = t.id
		WHERE t.id = $1 ORDER BY p.admitted_at NULLS FIRST, p.agent_id`
	sqlTaskArchiveConvs = `UPDATE conversations SET archived_at = $1, updated_at = GREATEST(updated_at, $1)
		WHERE task_id = $2 AND archived_at IS NULL RETURNING id`
	sqlTasksWaiting = `SELECT ` + taskColumns + ` FROM tasks
		WHERE status = 'waiting' AND created_at < $1 ORDER BY created_at, id`
)

func scanTask(r pgx.Row) (store.Task, error) {
	var t store.Task
	if err := r.Scan(&t.ID, &t.AppID, &t.InitiatorAgentID, &t.Status, &t.StartedAt, &t.EndedAt, &t.CreatedAt); err != nil {
		return store.Task{}, err
	}
	t.StartedAt, t.EndedAt = utcPtr(t.StartedAt), utcPtr(t.EndedAt)
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// queryTasks runs a query selecting taskColumns and scans every row.
func queryTasks(ctx context.Context, q querier, query string, args ...any) ([]store.Task, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Task, error) { return scanTask(r) })
}

// getTask reads a task; ErrNotFound if absent.
func getTask(ctx context.Context, q querier, id protocol.TaskID) (store.Task, error) {
	if !storable(id) {
		return store.Task{}, fmt.Errorf("task %s: %w", id, store.ErrNotFound)
	}
	t, err := scanTask(q.QueryRow(ctx, sqlTaskByID, id))
	if noRows(err) {
		return store.Task{}, fmt.Errorf("task %s: %w", id, store.ErrNotFound)
	}
	return t, mapErr(err)
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
	t.CreatedAt = micro(t.CreatedAt)
	t.StartedAt, t.EndedAt = microPtr(t.StartedAt), microPtr(t.EndedAt)
	admit, err := memberIDs(participants)
	if err != nil {
		return store.Task{}, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlTaskInsert, t.ID, t.AppID, t.InitiatorAgentID, t.Status,
			t.StartedAt, t.EndedAt, t.CreatedAt); err != nil {
			return err
		}
		if len(admit) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, sqlTaskAdmitAll, t.ID, admit, t.CreatedAt); err != nil {
			return fmt.Errorf("admit participants: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Task{}, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	return t, nil
}

// memberIDs returns the distinct agent ids of participants. An id PostgreSQL cannot hold
// names no agent: ErrNotFound, as for any unknown participant.
func memberIDs(participants []protocol.AgentID) ([]string, error) {
	for _, a := range participants {
		if !storable(a) {
			return nil, fmt.Errorf("participant %q: %w", a, store.ErrNotFound)
		}
	}
	return unique(participants), nil
}

// GetTask implements store.TaskStore.
func (s *Store) GetTask(ctx context.Context, id protocol.TaskID) (store.Task, error) {
	t, err := getTask(ctx, s.pool, id)
	if err != nil {
		return store.Task{}, fmt.Errorf("get %w", err)
	}
	return t, nil
}

// setTaskStatus is the compare-and-set of SetTaskStatus on q. On a lost CAS it returns
// the current task with ErrStateChanged.
func setTaskStatus(ctx context.Context, q querier, id protocol.TaskID, from []protocol.TaskStatus, to protocol.TaskStatus, at time.Time) (store.Task, error) {
	t, err := scanTask(q.QueryRow(ctx, sqlTaskSetStatus, to, at, id, stringsOf(from)))
	if !noRows(err) {
		return t, err
	}
	cur, err := getTask(ctx, q, id)
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
	if !storable(id) {
		return store.Task{}, fmt.Errorf("set status of task %s: %w", id, store.ErrNotFound)
	}
	// One statement: a concurrent change makes the UPDATE wait and re-check the status,
	// so exactly one of racing callers wins. The read after a lost CAS may see a later
	// state than the one that made it lose, which is still a state that is not in from.
	t, err := setTaskStatus(ctx, s.pool, id, from, to, micro(at))
	if err != nil {
		return t, fmt.Errorf("set status of task %s: %w", id, mapErr(err))
	}
	return t, nil
}

// cursorTasks is the cursor kind of ListTasksForAgent (keyset: created_at, id, descending).
const cursorTasks = "tasks"

// ListTasksForAgent implements store.TaskStore.
func (s *Store) ListTasksForAgent(ctx context.Context, agentID protocol.AgentID, page store.Page) (store.PageResult[store.Task], error) {
	var (
		res      store.PageResult[store.Task]
		beforeAt *time.Time
		beforeID string
	)
	if page.Cursor != "" {
		at, id, err := decodeTimeCursor(page.Cursor, cursorTasks)
		if err != nil {
			return res, fmt.Errorf("list tasks: %w", err)
		}
		beforeAt, beforeID = &at, id
	}
	res.Items = []store.Task{}
	if !storable(agentID) {
		return res, nil
	}
	limit := page.EffectiveLimit()
	items, err := queryTasks(ctx, s.pool, sqlTasksForAgent, agentID, beforeAt, beforeID, limit+1)
	if err != nil {
		return store.PageResult[store.Task]{}, fmt.Errorf("list tasks of %s: %w", agentID, mapErr(err))
	}
	res.Items = items
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		last := res.Items[limit-1]
		res.NextCursor = cursor.Encode(cursorTasks, encodeMicro(last.CreatedAt), string(last.ID))
	}
	return res, nil
}

// AddTaskParticipant implements store.TaskStore.
func (s *Store) AddTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID, at time.Time) (store.TaskParticipant, error) {
	p := store.TaskParticipant{TaskID: taskID, AgentID: agentID}
	if !storable(taskID) || !storable(agentID) {
		return store.TaskParticipant{}, fmt.Errorf("add %s to task %s: %w", agentID, taskID, store.ErrNotFound)
	}
	if err := s.pool.QueryRow(ctx, sqlTaskAdmit, taskID, agentID, micro(at)).Scan(&p.AdmittedAt); err != nil {
		return store.TaskParticipant{}, fmt.Errorf("add %s to task %s: %w", agentID, taskID, mapErr(err))
	}
	p.AdmittedAt = utcPtr(p.AdmittedAt)
	return p, nil
}

// RemoveTaskParticipant implements store.TaskStore.
func (s *Store) RemoveTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (store.ParticipantRemoval, error) {
	var r store.ParticipantRemoval
	if !storable(taskID) {
		return r, fmt.Errorf("remove %s from task %s: %w", agentID, taskID, store.ErrNotFound)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		// FOR SHARE: the task exists until commit; concurrent removals still run at once.
		if err := tx.QueryRow(ctx, sqlTaskLockShare, taskID).Scan(new(int)); err != nil {
			if noRows(err) {
				return fmt.Errorf("task %s: %w", taskID, store.ErrNotFound)
			}
			return err
		}
		tag, err := tx.Exec(ctx, sqlTaskRemove, taskID, agentID)
		if err != nil {
			return err
		}
		r.Removed = tag.RowsAffected() > 0
		rows, err := tx.Query(ctx, sqlTaskRemoveFromConvs, taskID, agentID)
		if err != nil {
			return err
		}
		if r.ConversationIDs, err = pgx.CollectRows(rows, pgx.RowTo[protocol.ConversationID]); err != nil {
			return err
		}
		return tx.QueryRow(ctx, sqlTaskCountParticipants, taskID).Scan(&r.Remaining)
	})
	if err != nil {
		return store.ParticipantRemoval{}, fmt.Errorf("remove %s from task %s: %w", agentID, taskID, err)
	}
	slices.Sort(r.ConversationIDs)
	return r, nil
}

// IsTaskParticipant implements store.TaskStore.
func (s *Store) IsTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (bool, error) {
	if !storable(taskID) || !storable(agentID) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, sqlTaskIsParticipant, taskID, agentID).Scan(&ok); err != nil {
		return false, fmt.Errorf("is %s in task %s: %w", agentID, taskID, mapErr(err))
	}
	return ok, nil
}

// TaskParticipants implements store.TaskStore.
func (s *Store) TaskParticipants(ctx context.Context, taskID protocol.TaskID) ([]store.TaskParticipant, error) {
	if !storable(taskID) {
		return nil, fmt.Errorf("participants of task %s: %w", taskID, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, sqlTaskParticipants, taskID)
	if err != nil {
		return nil, fmt.Errorf("participants of task %s: %w", taskID, mapErr(err))
	}
	var (
		out   = []store.TaskParticipant{}
		found bool
	)
	for rows.Next() {
		found = true
		var (
			agent    *protocol.AgentID
			admitted *time.Time
		)
		if err := rows.Scan(&agent, &admitted); err != nil {
			rows.Close()
			return nil, fmt.Errorf("participants of task %s: %w", taskID, err)
		}
		if agent != nil {
			out = append(out, store.TaskParticipant{TaskID: taskID, AgentID: *agent, AdmittedAt: utcPtr(admitted)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("participants of task %s: %w", taskID, mapErr(err))
	}
	if !found {
		return nil, fmt.Errorf("participants of task %s: %w", taskID, store.ErrNotFound)
	}
	return out, nil
}

// CloseTask implements store.TaskStore.
func (s *Store) CloseTask(ctx context.Context, taskID protocol.TaskID, at time.Time) (store.Task, []protocol.ConversationID, error) {
	var (
		t        store.Task
		archived []protocol.ConversationID
	)
	if !storable(taskID) {
		return t, nil, fmt.Errorf("close task %s: %w", taskID, store.ErrNotFound)
	}
	at = micro(at)
	open := []protocol.TaskStatus{protocol.TaskStatusWaiting, protocol.TaskStatusActive}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = setTaskStatus(ctx, tx, taskID, open, protocol.TaskStatusClosed, at); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sqlTaskArchiveConvs, at, taskID)
		if err != nil {
			return err
		}
		archived, err = pgx.CollectRows(rows, pgx.RowTo[protocol.ConversationID])
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
	out, err := queryTasks(ctx, s.pool, sqlTasksWaiting, micro(before))
	if err != nil {
		return nil, fmt.Errorf("waiting tasks: %w", mapErr(err))
	}
	return out, nil
}

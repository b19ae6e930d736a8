package server

import (
	"context"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// sweepLoop fails tasks stranded in waiting (a crash between insert and verdict, Q26).
func (s *Server) sweepLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.sweepWaitingTasks(s.ctx)
		}
	}
}

// sweepWaitingTasks fails every task still waiting after twice its app's task_create hook
// timeout (the server default when the app has no TaskMaster or no timeout of its own).
func (s *Server) sweepWaitingTasks(ctx context.Context) {
	at := now()
	stale, err := s.store.WaitingTasksOlderThan(ctx, at.Add(-2*s.cfg.HookTimeout))
	if err != nil {
		s.log.Warn("sweep waiting tasks", "err", err)
		return
	}
	for _, t := range stale {
		if b, ok := s.apps.moderator(t.AppID); ok && at.Sub(t.CreatedAt) < 2*s.hookTimeout(b.manifest, hookTaskCreate) {
			continue // its TaskMaster still has time to answer
		}
		s.failTask(ctx, t.ID, "timeout")
	}
}

// failTask moves a waiting task to failed and tells its participants (task/failed).
func (s *Server) failTask(ctx context.Context, taskID protocol.TaskID, reason string) {
	if _, err := s.store.SetTaskStatus(ctx, taskID, []protocol.TaskStatus{protocol.TaskStatusWaiting}, protocol.TaskStatusFailed, now()); err != nil {
		s.log.Debug("fail task", "task", taskID, "err", err)
		return
	}
	parts, err := s.store.TaskParticipants(ctx, taskID)
	if err != nil {
		s.log.Warn("task participants", "task", taskID, "err", err)
		return
	}
	ids := make([]protocol.AgentID, len(parts))
	for i, p := range parts {
		ids[i] = p.AgentID
	}
	if s.watching() {
		s.cfg.Feed.TaskFailed(taskID)
	}
	n := protocol.TaskFailedNotification{TaskID: taskID}
	if reason != "" {
		n.Reason = &reason
	}
	s.notifyAgents(ids, n, nil)
}

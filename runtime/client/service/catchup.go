package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// freeze holds every conversation's catch-up cursor (the connection went down): messages
// seen from now on raise the highest seq but not the point the next catch-up starts from.
// It also holds every conversation's live messages until that conversation is caught up.
func (s *Service) freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gap = true
	s.gapGen++
	for _, cs := range s.convs {
		cs.frozen = true
		cs.holding = true
	}
}

// scheduleCatchUp runs CatchUp in the background; a request made while one runs makes it
// run once more afterwards.
func (s *Service) scheduleCatchUp() {
	s.freeze()
	s.catchMu.Lock()
	defer s.catchMu.Unlock()
	if s.closed {
		return
	}
	if s.catchRunning {
		s.catchAgain = true
		return
	}
	s.catchRunning = true
	s.wg.Add(1)
	go s.catchUpLoop()
}

func (s *Service) catchUpLoop() {
	defer s.wg.Done()
	for {
		var rep CatchUpReport
		err := s.catchUp(s.ctx, &rep)
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("moltzap service: catch-up incomplete", "err", err)
		}
		rep.Err = err
		s.catchMu.Lock()
		if !s.catchAgain || s.closed {
			s.catchRunning = false
			closed := s.closed
			s.catchMu.Unlock()
			if !closed {
				s.reportCatchUp(rep)
			}
			return
		}
		s.catchAgain = false
		s.catchMu.Unlock()
		rep.Again = true
		s.reportCatchUp(rep)
	}
}

// catchUpTarget is a snapshot of what one conversation's catch-up needs.
type catchUpTarget struct {
	convID, taskID string
	cursor         int64
	hasCursor      bool
	baseline       time.Time
	recovered      *int // messages delivered by this catch-up, when not nil
}

// CatchUp recovers the messages missed while the connection was down: it re-reads the
// conversation list (reporting archive changes), then pages every member, non-archived
// conversation forward with messages/list from its cursor (the highest seq seen before
// the disconnect) until hasMore is false. Recovered messages go through the
// de-duplication window and are delivered to the Messages subscribers. A conversation
// whose catch-up fails keeps its cursor for the next attempt. It runs by itself after
// every reconnect of the client.
func (s *Service) CatchUp(ctx context.Context) error {
	return s.catchUp(ctx, nil)
}

// reportCatchUp calls Options.OnCatchUp.
func (s *Service) reportCatchUp(rep CatchUpReport) {
	if s.opts.OnCatchUp != nil {
		call(s.opts.OnCatchUp, rep, s.panicked("OnCatchUp"))
	}
}

// catchUp is CatchUp; with rep set it records the recovered messages in it.
//
// Each conversation caught up releases its held live messages right away. Conversations
// learnt while the run goes on are caught up by the run too. When the run ends without
// having lost its connection, the remaining holds (conversations whose catch-up failed) are
// released as well, with their cursors kept for the next run; after a lost connection they
// stay for the run of the next reconnect.
func (s *Service) catchUp(ctx context.Context, rep *CatchUpReport) error {
	s.mu.Lock()
	gen := s.gapGen
	s.mu.Unlock()
	err := s.catchUpAll(ctx, gen, rep)
	if !errors.Is(err, client.ErrNotConnected) && ctx.Err() == nil {
		s.endGap(gen)
	}
	return err
}

// catchUpAll refreshes the conversation list and catches up every target, then the
// conversations learnt meanwhile, until none is left.
func (s *Service) catchUpAll(ctx context.Context, gen uint64, rep *CatchUpReport) error {
	if err := s.refresh(ctx); err != nil {
		return fmt.Errorf("moltzap service: catch-up: %w", err)
	}
	var errs []error
	done := map[string]bool{}
	for round := 0; ; round++ {
		targets := s.catchUpTargets(round == 0, gen, done)
		if len(targets) == 0 {
			break
		}
		for _, t := range targets {
			done[t.convID] = true
			t.recovered = new(int)
			err := s.catchUpConversation(ctx, t)
			if rep != nil && *t.recovered > 0 {
				rep.Recovered = append(rep.Recovered, RecoveredMessages{TaskID: t.taskID, ConversationID: t.convID, Count: *t.recovered})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("conversation %s: %w", t.convID, err))
				if errors.Is(err, client.ErrNotConnected) || ctx.Err() != nil {
					return fmt.Errorf("moltzap service: catch-up: %w", errors.Join(errs...)) // the next reconnect tries again
				}
				continue
			}
			s.release(t.convID, gen, true)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("moltzap service: catch-up: %w", errors.Join(errs...))
	}
	return nil
}

// release ends the hold of conversation id, unless a disconnect since the run started
// (gapGen past gen) renewed it, and delivers its held live messages in seq order (the
// duplicates of recovered ones dropped). With thaw set the catch-up cursor is released too.
func (s *Service) release(id string, gen uint64, thaw bool) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.mu.Lock()
	cs, ok := s.convs[id]
	if !ok || s.gapGen != gen {
		s.mu.Unlock()
		return
	}
	if thaw {
		cs.thaw()
	}
	out := s.takeHeld(cs)
	s.mu.Unlock()
	for _, in := range out {
		s.messages.emit(in, s.panicked("message subscriber"))
	}
}

// takeHeld ends the hold of cs and accepts its held messages in seq order, returning the
// ones to deliver. Callers hold s.deliverMu and s.mu.
func (s *Service) takeHeld(cs *convState) []inbound {
	held := cs.held
	cs.held, cs.holding = nil, false
	slices.SortStableFunc(held, func(a, b inbound) int {
		x, _ := parseSeq(a.msg.Seq)
		y, _ := parseSeq(b.msg.Seq)
		return cmp.Compare(x, y)
	})
	out := held[:0]
	for _, in := range held {
		if s.accept(cs, in.msg, true) {
			out = append(out, in)
		}
	}
	return out
}

// endGap closes the gap of generation gen: every conversation still held (its catch-up
// failed) gets its live messages delivered from now on, in seq order, its cursor kept.
// Nothing changes when a disconnect since (gapGen past gen) opened another gap.
func (s *Service) endGap(gen uint64) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.mu.Lock()
	if s.gapGen != gen {
		s.mu.Unlock()
		return
	}
	s.gap = false
	var out []inbound
	for _, cs := range s.convs {
		if cs.holding {
			out = append(out, s.takeHeld(cs)...)
		}
	}
	s.mu.Unlock()
	for _, in := range out {
		s.messages.emit(in, s.panicked("message subscriber"))
	}
}

// refresh re-reads the conversation list: new conversations are added (with no baseline:
// all their visible messages are new), changes of the archived state are emitted, and
// conversations the agent no longer belongs to lose this agent from their participants.
func (s *Service) refresh(ctx context.Context) error {
	s.mu.Lock()
	before := make(map[string]bool, len(s.convs))
	for id := range s.convs {
		before[id] = true
	}
	s.mu.Unlock()
	items, err := s.listConversations(ctx)
	if err != nil {
		return fmt.Errorf("reload conversations: %w", err)
	}
	type change struct {
		ev       ConversationEvent
		archived bool
	}
	var changes []change
	s.mu.Lock()
	listed := map[string]bool{}
	for _, it := range items {
		cs, c := s.applyListItem(it, false)
		listed[cs.info.ID] = true
		if c != 0 {
			changes = append(changes, change{ConversationEvent{TaskID: cs.info.TaskID, ConversationID: cs.info.ID}, c > 0})
		}
	}
	for id := range before {
		if cs, ok := s.convs[id]; ok && !listed[id] {
			cs.info.Participants = removeString(cs.info.Participants, s.self)
		}
	}
	s.mu.Unlock()
	for _, c := range changes {
		s.emitArchive(c.ev, c.archived)
	}
	return nil
}

// catchUpTargets snapshots the conversations to catch up that are not done: every member,
// non-archived conversation in the first round, the ones still held (learnt meanwhile)
// after it. The conversations skipped are thawed. When a later round finds nothing left,
// the gap of generation gen is over: conversations learnt from now on are not held.
func (s *Service) catchUpTargets(first bool, gen uint64, done map[string]bool) []catchUpTarget {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []catchUpTarget
	for id, cs := range s.convs {
		if done[id] || (!first && !cs.holding) {
			continue
		}
		if cs.info.Archived || !cs.isMember(s.self) || cs.info.TaskID == "" {
			cs.thaw() // its held messages, if any, are delivered when the gap ends
			continue
		}
		out = append(out, catchUpTarget{
			convID: id, taskID: cs.info.TaskID,
			cursor: cs.cursor, hasCursor: cs.hasCursor, baseline: cs.baseline,
		})
	}
	if !first && len(out) == 0 && s.gapGen == gen {
		s.gap = false
	}
	return out
}

// catchUpConversation recovers one conversation's missed messages.
func (s *Service) catchUpConversation(ctx context.Context, t catchUpTarget) error {
	switch {
	case t.hasCursor:
		return s.pageForward(ctx, t, t.cursor, time.Time{})
	case t.baseline.IsZero():
		return s.pageForward(ctx, t, 0, time.Time{})
	}
	// Loaded by Start with no seq known: the newest page usually covers everything after
	// the baseline; when it does not, scan forward from the start.
	res, err := s.listMessages(ctx, t, nil)
	if err != nil {
		return err
	}
	if res.HasMore && (len(res.Messages) == 0 || after(res.Messages[0], t.baseline)) {
		return s.pageForward(ctx, t, 0, t.baseline)
	}
	for _, m := range res.Messages {
		s.catchMessage(t, m, t.baseline)
	}
	return nil
}

// pageForward lists the conversation's messages after since, page by page, until hasMore
// is false.
func (s *Service) pageForward(ctx context.Context, t catchUpTarget, since int64, baseline time.Time) error {
	for {
		seq := formatSeq(since)
		res, err := s.listMessages(ctx, t, &seq)
		if err != nil {
			return err
		}
		for _, m := range res.Messages {
			s.catchMessage(t, m, baseline)
		}
		if !res.HasMore || len(res.Messages) == 0 {
			return nil
		}
		last, ok := parseSeq(res.Messages[len(res.Messages)-1].Seq)
		if !ok || last <= since {
			return fmt.Errorf("messages/list did not advance past seq %d", since)
		}
		since = last
	}
}

// catchMessage delivers a listed message, or only records it when it is not after baseline.
func (s *Service) catchMessage(t catchUpTarget, m protocol.Message, baseline time.Time) {
	notify := baseline.IsZero() || after(m, baseline)
	if s.deliverListed(t.taskID, m, notify) && notify && t.recovered != nil {
		*t.recovered++
	}
}

func (s *Service) listMessages(ctx context.Context, t catchUpTarget, since *protocol.Seq) (protocol.MessagesListResult, error) {
	limit := protocol.PageLimit(messagesPageSize)
	var res protocol.MessagesListResult
	err := retryRateLimited(ctx, func() error {
		var err error
		res, err = s.conn.MessagesList(ctx, protocol.MessagesListParams{
			TaskID: protocol.TaskID(t.taskID), ConversationID: protocol.ConversationID(t.convID),
			SinceSeq: since, Limit: &limit,
		})
		return err
	})
	return res, err
}

// after reports whether m was created after t (an unparsable time counts as after).
func after(m protocol.Message, t time.Time) bool {
	c, err := parseTime(m.CreatedAt)
	return err != nil || c.After(t)
}

func removeString(xs []string, x string) []string {
	out := xs[:0:0]
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// appendTx writes the appends of a batch in one write transaction. Its statements are
// bound to the transaction on first use and then reused for the whole batch (binding costs
// allocations and locking that binding again per append would repeat); its scratch is
// reused from batch to batch. It belongs to the committer goroutine.
type appendTx struct {
	ctx context.Context
	tx  *txn
	st  *stmts

	bump, insert [maxRowsLog2 + 1]*sql.Stmt // bound to tx: [log2 rows]
	reply        *sql.Stmt                  // bound to tx

	groups   []convGroup
	groupIdx map[string]int // conversation id -> index in groups
	groupOf  []int          // batch index -> index in groups
	pending  []pendingInsert
	args     []any
}

// convGroup is the live appends of a batch to one conversation.
type convGroup struct {
	conv   string
	n      int64 // appends
	at     int64 // the latest creation time among them
	first  int   // batch index of the first
	next   int64 // seq of the next one to insert; 0 until reserved
	taskID protocol.TaskID
}

// pendingInsert is a checked append waiting for its multi-row insert.
type pendingInsert struct {
	r *appendReq
	i int // batch index
}

// bind makes w write in tx.
func (w *appendTx) bind(ctx context.Context, tx *txn, st *stmts) {
	w.ctx, w.tx, w.st = ctx, tx, st
}

// unbind forgets the transaction (its bound statements end with it) and drops the
// references to the batch's messages.
func (w *appendTx) unbind() {
	w.ctx, w.tx = nil, nil
	clear(w.bump[:])
	clear(w.insert[:])
	w.reply = nil
	clear(w.groups)
	clear(w.groupIdx)
	clear(w.pending)
	clear(w.args)
	w.groups, w.pending, w.args = w.groups[:0], w.pending[:0], w.args[:0]
}

// stmt returns st bound to the transaction, binding it into *slot on first use.
func (w *appendTx) stmt(slot **sql.Stmt, st *sql.Stmt) *sql.Stmt {
	if *slot == nil {
		*slot = w.tx.StmtContext(w.ctx, st)
	}
	return *slot
}

// chunkLen returns the rows of the next multi-row statement for n rows to write: the
// largest power of two up to n and 1<<maxRowsLog2.
func chunkLen(n int) int {
	return 1 << min(bits.Len(uint(n))-1, maxRowsLog2)
}

// writeEach writes the live requests of batch, each in its own savepoint: a failed append
// is rolled back alone and errs gets its error. An error returned (a savepoint statement
// failing) leaves the transaction to be rolled back.
func (w *appendTx) writeEach(batch []*appendReq, errs []error) error {
	for i := range batch {
		if errs[i] != nil {
			continue
		}
		if _, err := w.tx.ExecContext(w.ctx, "SAVEPOINT append"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if _, errs[i] = w.writeAll(batch[i:i+1], errs[i:i+1]); errs[i] != nil {
			if _, err := w.tx.ExecContext(w.ctx, "ROLLBACK TO append"); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
		}
		if _, err := w.tx.ExecContext(w.ctx, "RELEASE append"); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	return nil
}

// writeAll writes the live requests of batch (those whose errs entry is nil) with few
// statements: the seqs of the appends to one conversation are reserved at once, a
// multi-row statement doing so for many conversations, then handed out in batch order as
// one reservation per append would; the rows are inserted by multi-row statements too.
// This is only correct because a failure leaves the caller to roll back every statement
// of the call (a reserved seq is never left unused). It returns the batch index and error
// of an append that failed (the only live one, when it is alone), if one did.
func (w *appendTx) writeAll(batch []*appendReq, errs []error) (int, error) {
	w.group(batch, errs)
	if i, err := w.reserve(); err != nil {
		return i, err
	}
	w.pending = w.pending[:0]
	for i, r := range batch {
		if errs[i] != nil {
			continue
		}
		g := &w.groups[w.groupOf[i]]
		r.m.Seq = g.next
		g.next++
		if r.m.ReplyToID != "" {
			// The reply check must see every append of the batch before this one.
			if j, err := w.insertPending(); err != nil {
				return j, err
			}
		}
		if err := w.check(r, g.taskID); err != nil {
			return i, err
		}
		w.pending = append(w.pending, pendingInsert{r, i})
	}
	return w.insertPending()
}

// group sorts the live requests of batch by conversation, in the order of the batch.
func (w *appendTx) group(batch []*appendReq, errs []error) {
	if w.groupIdx == nil {
		w.groupIdx = make(map[string]int)
	}
	clear(w.groups)
	w.groups = w.groups[:0]
	clear(w.groupIdx)
	w.groupOf = slices.Grow(w.groupOf[:0], len(batch))[:len(batch)]
	for i, r := range batch {
		if errs[i] != nil {
			continue
		}
		conv := string(r.m.ConversationID)
		j, ok := w.groupIdx[conv]
		if !ok {
			j = len(w.groups)
			w.groupIdx[conv] = j
			w.groups = append(w.groups, convGroup{conv: conv, at: r.at, first: i})
		}
		g := &w.groups[j]
		g.n++
		g.at = max(g.at, r.at)
		w.groupOf[i] = j
	}
}

// reserve reserves the seqs of every group and sets their next seq and task. It returns
// the batch index and error of an append whose reservation failed, if one did.
func (w *appendTx) reserve() (int, error) {
	for rest := w.groups; len(rest) > 0; {
		k := chunkLen(len(rest))
		if err := w.reserveRows(rest[:k]); err != nil {
			return rest[0].first, err
		}
		rest = rest[k:]
	}
	for _, g := range w.groups {
		if g.next == 0 {
			return g.first, fmt.Errorf("conversation %s: %w", g.conv, store.ErrNotFound)
		}
	}
	return -1, nil
}

// reserveRows reserves the seqs of gs, a power of two of groups, by one statement; a group
// whose conversation does not exist keeps next 0.
func (w *appendTx) reserveRows(gs []convGroup) error {
	args := w.args[:0]
	for _, g := range gs {
		args = append(args, g.conv, g.n, g.at)
	}
	w.args = args
	log2 := bits.Len(uint(len(gs))) - 1
	rows, err := w.stmt(&w.bump[log2], w.st.appendBump[log2]).QueryContext(w.ctx, args...)
	clear(args)
	if err != nil {
		return fmt.Errorf("reserve seqs: %w", err)
	}
	defer rows.Close()
	var (
		conv   string
		last   int64
		taskID protocol.TaskID
	)
	dest := []any{&conv, &last, text(&taskID)}
	if len(gs) == 1 {
		dest = dest[1:] // the statement for one conversation does not return its id
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("reserve seqs: %w", err)
		}
		g := &gs[0]
		if len(gs) > 1 {
			g = &w.groups[w.groupIdx[conv]]
		}
		g.next, g.taskID = last-g.n+1, taskID
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reserve seqs: %w", err)
	}
	return nil
}

// check checks r against the task of its conversation (convTask) and its reply target;
// r.m gets its task id.
func (w *appendTx) check(r *appendReq, convTask protocol.TaskID) error {
	m := &r.m
	if m.TaskID == "" {
		m.TaskID = convTask
	} else if m.TaskID != convTask {
		return fmt.Errorf("conversation %s is not in task %s: %w", m.ConversationID, m.TaskID, store.ErrInvalid)
	}
	if m.ReplyToID == "" {
		return nil
	}
	var n int
	if err := w.stmt(&w.reply, w.st.appendReplyCheck).QueryRowContext(w.ctx,
		string(m.ReplyToID), string(m.ConversationID)).Scan(&n); err != nil {
		return fmt.Errorf("check reply target %s: %w", m.ReplyToID, err)
	}
	if n == 0 {
		return fmt.Errorf("reply target %s: %w", m.ReplyToID, store.ErrNotFound)
	}
	return nil
}

// insertPending inserts the checked appends of w.pending by multi-row statements and
// empties it. On failure it returns the batch index of the first append of the failed
// statement (the one that failed, when it is the only live one) and the error.
func (w *appendTx) insertPending() (int, error) {
	ps := w.pending
	defer func() { clear(w.pending); w.pending = w.pending[:0] }()
	for len(ps) > 0 {
		k := chunkLen(len(ps))
		if err := w.insertRows(ps[:k]); err != nil {
			return ps[0].i, err
		}
		ps = ps[k:]
	}
	return -1, nil
}

// insertRows inserts ps, a power of two of checked appends, by one statement.
func (w *appendTx) insertRows(ps []pendingInsert) error {
	args := w.args[:0]
	for _, p := range ps {
		m := &p.r.m
		// Ids go as plain strings: database/sql converts a named string type by
		// reflection, with one more allocation per argument.
		args = append(args, string(m.ID), string(m.ConversationID), string(m.TaskID), string(m.SenderID),
			m.Seq, optString(m.ReplyToID), m.Parts, p.r.tagged, p.r.decisionJSON, p.r.at, string(m.Decision.Tag))
	}
	w.args = args
	log2 := bits.Len(uint(len(ps))) - 1
	_, err := w.stmt(&w.insert[log2], w.st.appendInsert[log2]).ExecContext(w.ctx, args...)
	clear(args)
	if err != nil {
		return fmt.Errorf("insert: %w", mapErr(err))
	}
	return nil
}

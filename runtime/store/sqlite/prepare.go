package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Hot-path statements, prepared once per store (database/sql prepares them
// again lazily on each pooled connection that runs them). Parsing SQL is a
// large share of a short statement's cost with SQLite.

const (
	sqlAppendReplyCheck = `SELECT COUNT(*) FROM messages WHERE id = ? AND conversation_id = ?`
	sqlDecisionSet      = `UPDATE messages SET decision_tag = ?, decision = ?
		WHERE id = ? AND decision_tag = 'pending'`
	sqlDecisionGet = `SELECT decision FROM messages WHERE id = ?`
	sqlGetMessage  = `SELECT ` + messageColumns + ` FROM messages WHERE id = ?`
)

// maxRowsLog2 bounds the multi-row append statements: they write 1, 2, 4, ...
// 1<<maxRowsLog2 rows (a batch is split in such chunks, so that few statements serve every
// batch size). 64 rows of 11 parameters stay below SQLite's smallest parameter limit (999).
const maxRowsLog2 = 6

// sqlAppendBump returns the statement reserving seqs in k conversations (no two the
// same). Each row of parameters is a conversation id, the number of seqs to reserve in it
// and the latest creation time of its messages (which the conversation's last message
// time moves up to). It returns a row per conversation found: its id (only when k > 1),
// the last seq reserved and its task.
func sqlAppendBump(k int) string {
	if k == 1 {
		return `UPDATE conversations SET last_seq = last_seq + ?2,
				last_message_at = max(COALESCE(last_message_at, ?3), ?3), updated_at = max(updated_at, ?3)
			WHERE id = ?1 RETURNING last_seq, task_id`
	}
	return `UPDATE conversations SET last_seq = last_seq + b.column2,
			last_message_at = max(COALESCE(last_message_at, b.column3), b.column3), updated_at = max(updated_at, b.column3)
		FROM (VALUES ` + rowsOf(3, k) + `) AS b WHERE conversations.id = b.column1
		RETURNING conversations.id, conversations.last_seq, conversations.task_id`
}

// sqlAppendInsert returns the statement inserting k messages.
func sqlAppendInsert(k int) string {
	return `INSERT INTO messages (` + messageColumns + `, decision_tag) VALUES ` + rowsOf(11, k)
}

// rowsOf returns k rows of n placeholders: "(?, ?), (?, ?)".
func rowsOf(n, k int) string {
	row := "(" + placeholders(n) + ")"
	return strings.Repeat(row+", ", k-1) + row
}

// sqlListMessages returns the ListMessages query. Parameters: ?1
// conversation id, ?2 viewer agent id, ?3 sinceSeq, ?4 row limit; every
// variant takes all four (SQLite ignores the values of unused numbered
// parameters below the highest one).
func sqlListMessages(seesAll, since bool) string {
	q := `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = ?1`
	if !seesAll {
		// instr is a cheap pre-filter that spares json_each on most rows
		// forwarded to others.
		q += ` AND (sender_id = ?2 OR (decision_tag = 'forward' AND instr(decision, ?2) > 0
			AND EXISTS (SELECT 1 FROM json_each(decision, '$.recipients') WHERE value = ?2)))`
	}
	if since {
		return q + ` AND seq > ?3 ORDER BY seq ASC LIMIT ?4`
	}
	return q + ` ORDER BY seq DESC LIMIT ?4`
}

// stmts holds the prepared hot-path statements.
type stmts struct {
	appendBump, appendInsert [maxRowsLog2 + 1]*sql.Stmt // write pool, [log2 rows]
	appendReplyCheck         *sql.Stmt                  // write pool
	decisionSet, decisionGet *sql.Stmt                  // write pool
	getMessage               *sql.Stmt                  // read pool
	listMessages             [2][2]*sql.Stmt            // read pool, [seesAll][since]
}

// prepareStmts prepares the hot-path statements on the write pool w and the
// read pool r.
func prepareStmts(ctx context.Context, w, r *sql.DB) (*stmts, error) {
	st := &stmts{}
	var errs []error
	prep := func(db *sql.DB, query string) *sql.Stmt {
		s, err := db.PrepareContext(ctx, query)
		if err != nil {
			errs = append(errs, fmt.Errorf("prepare %q: %w", query, err))
		}
		return s
	}
	for i := range st.appendBump {
		st.appendBump[i] = prep(w, sqlAppendBump(1<<i))
		st.appendInsert[i] = prep(w, sqlAppendInsert(1<<i))
	}
	st.appendReplyCheck = prep(w, sqlAppendReplyCheck)
	st.decisionSet = prep(w, sqlDecisionSet)
	st.decisionGet = prep(w, sqlDecisionGet)
	st.getMessage = prep(r, sqlGetMessage)
	for i, seesAll := range []bool{false, true} {
		for j, since := range []bool{false, true} {
			st.listMessages[i][j] = prep(r, sqlListMessages(seesAll, since))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(append(errs, st.close())...)
	}
	return st, nil
}

// close closes every prepared statement.
func (st *stmts) close() error {
	all := []*sql.Stmt{st.appendReplyCheck, st.decisionSet, st.decisionGet, st.getMessage}
	all = append(all, st.appendBump[:]...)
	all = append(all, st.appendInsert[:]...)
	for _, row := range st.listMessages {
		all = append(all, row[:]...)
	}
	var errs []error
	for _, s := range all {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// list returns the prepared ListMessages statement for a viewer kind and
// paging direction.
func (st *stmts) list(seesAll, since bool) *sql.Stmt {
	i, j := 0, 0
	if seesAll {
		i = 1
	}
	if since {
		j = 1
	}
	return st.listMessages[i][j]
}

package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/batch"
)

// maxAppendBatch bounds the appends sent in one round trip.
const maxAppendBatch = 128

// errStoreClosed answers appends submitted after Close.
var errStoreClosed = errors.New("postgres store: closed")

// appendReq is one append without a reply target waiting for its batch.
type appendReq struct {
	ctx  context.Context
	m    store.Message
	args []any       // of sqlAppendOne
	done chan result // buffered: the committer never blocks on it
}

// result is the outcome of one append.
type result struct {
	m   store.Message
	err error
}

// appender is the group commit of the appends without a reply target: concurrent ones are
// queued and sent by one goroutine, as many as are waiting, as one batch of sqlAppendOne
// statements in one round trip. The batch is one implicit transaction; every caller is
// answered only once it has committed (the server's ReadyForQuery read), so an
// acknowledged message is durable. When any statement of a batch fails the transaction is
// rolled back and each append is sent again on its own, so that only the failing ones
// fail. A batch is sent sorted by conversation (appends to one conversation keep their
// order), so that two nodes' batches lock the conversations they share in the same order
// and cannot deadlock.
type appender struct {
	s       *Store
	q       *batch.Queue[*appendReq]
	pending atomic.Int64 // appends submitted and not yet answered
}

func newAppender(s *Store) *appender {
	a := &appender{s: s}
	a.q = batch.New(maxAppendBatch, errStoreClosed, false, a.commit)
	return a
}

// submit queues r and waits for its batch. An append that finds no other under way is
// sent at once by its caller instead: a lone sender pays no hand-off to the committer.
func (a *appender) submit(r *appendReq) (store.Message, error) {
	if a.q.Closed() {
		return store.Message{}, errStoreClosed
	}
	defer a.pending.Add(-1)
	if a.pending.Add(1) == 1 {
		return a.s.appendOne(r.ctx, r.m, r.args)
	}
	if err := a.q.Enqueue(r.ctx, r); err != nil {
		return store.Message{}, err
	}
	// Once queued, the outcome is awaited even if ctx ends: returning early would leave the
	// caller not knowing whether its message was stored.
	res := <-r.done
	return res.m, res.err
}

// close stops accepting appends, lets the queued ones commit and waits for the committer.
func (a *appender) close() { a.q.Close() }

// commit sends batch and answers every request.
func (a *appender) commit(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- result{err: err} // given up before it was sent: nothing stored
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		slices.SortStableFunc(live, func(x, y *appendReq) int { return cmp.Compare(x.m.ConversationID, y.m.ConversationID) })
		if results, err := a.send(live); err == nil {
			for i, r := range live {
				r.done <- results[i]
			}
			return
		}
	}
	for _, r := range live { // alone: each gets its own outcome
		m, err := a.s.appendOne(context.Background(), r.m, r.args)
		r.done <- result{m: m, err: err}
	}
}

// send runs the appends of live as one batch (one round trip, one implicit transaction)
// and returns their results once it has committed; any error means nothing was stored.
// One caller's context must not abort the others' appends: the batch runs on its own.
func (a *appender) send(live []*appendReq) ([]result, error) {
	ctx := context.Background()
	b := &pgx.Batch{}
	for _, r := range live {
		b.Queue(sqlAppendOne, r.args...)
	}
	br := a.s.pool.SendBatch(ctx, b)
	results := make([]result, len(live))
	var err error
	for i, r := range live {
		m := r.m
		if err = br.QueryRow().Scan(&m.Seq, &m.TaskID); err != nil {
			break // the transaction is aborted: the appends go again one by one
		}
		results[i] = result{m: m}
	}
	// Close reads to the end of the batch: its transaction commits (or fails) there, and no
	// caller is answered before.
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return results, err
}

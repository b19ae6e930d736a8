package transport

import "sync/atomic"

// Stats is a snapshot of the traffic counters of a Conn. Byte counts are
// frame payload bytes, control frames included.
type Stats struct {
	// FramesIn and FramesOut count frames of any kind.
	FramesIn, FramesOut uint64
	// BytesIn and BytesOut count frame payload bytes.
	BytesIn, BytesOut uint64
	// MessagesIn counts messages delivered to onMessage; MessagesOut counts
	// messages handed to the socket (frames are counted as they are
	// encoded, just before the write).
	MessagesIn, MessagesOut uint64
	// Writes counts batched writes: each wrote everything queued at the
	// time (frames and control frames) with one writev.
	Writes uint64
	// QueuedMessages and QueuedBytes describe the outbound queue, messages
	// being written included.
	QueuedMessages, QueuedBytes int
}

// counters are the atomic traffic counters behind Stats.
type counters struct {
	framesIn, framesOut     atomic.Uint64
	bytesIn, bytesOut       atomic.Uint64
	messagesIn, messagesOut atomic.Uint64
	writes                  atomic.Uint64
}

// Stats returns a snapshot of the connection's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	qm, qb := c.pending+c.inflight, c.pendingSize+c.inflightLen
	c.mu.Unlock()
	return Stats{
		FramesIn:       c.stats.framesIn.Load(),
		FramesOut:      c.stats.framesOut.Load(),
		BytesIn:        c.stats.bytesIn.Load(),
		BytesOut:       c.stats.bytesOut.Load(),
		MessagesIn:     c.stats.messagesIn.Load(),
		MessagesOut:    c.stats.messagesOut.Load(),
		Writes:         c.stats.writes.Load(),
		QueuedMessages: qm,
		QueuedBytes:    qb,
	}
}

package transport

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestSlowConsumerClosedAndIsolated(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) { testSlowConsumerClosedAndIsolated(t, e.eng) })
	}
}

func testSlowConsumerClosedAndIsolated(t *testing.T, eng *engine) {
	cfg := Config{WriteQueueLen: 64, WriteQueueBytes: 1 << 20}
	ts := newTestServerOn(t, cfg, false, eng)
	_ = dialRaw(t, ts) // never reads
	slow := ts.accept(t)
	fast := dialClient(t, ts, Config{})
	normal := ts.accept(t)

	big := bytes.Repeat([]byte("x"), 64<<10)
	start := time.Now()
	blocked := false
	sent := 0
	for {
		if time.Since(start) > waitTimeout {
			t.Fatalf(
				"queue never filled after %d messages",
				sent,
			)
		}
		sendStart := time.Now()
		err := slow.conn.Send(big)
		if d := time.Since(sendStart); d > 100*time.Millisecond {
			t.Fatalf(
				"Send blocked for %v",
				d,
			)
		}
		if errors.Is(err, ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatalf(
				"Send: %v",
				err,
			)
		}
		sent++
		// Let the writer drain into the socket while it can, so that the
		// queue only fills once the peer's buffers are full.
		drained := waitQueueBelow(slow.conn, 1, 5*time.Millisecond)
		if !drained && !blocked {
			blocked = true
			// The slow writer is stuck: another connection of the same
			// server still gets its messages at once.
			t0 := time.Now()
			if err := normal.conn.Send([]byte("prompt")); err != nil {
				t.Fatalf(
					"Send to normal client: %v",
					err,
				)
			}
			if got := string(recv(t, fast.msgs)); got != "prompt" {
				t.Fatalf(
					"normal client got %q",
					got,
				)
			}
			if d := time.Since(t0); d > 500*time.Millisecond {
				t.Errorf(
					"normal client waited %v while the slow one was stuck",
					d,
				)
			}
		}
	}
	if !blocked {
		t.Logf("queue filled before the socket buffers (sent %d)", sent)
	}

	fullAt := time.Now()
	waitDone(t, slow.conn, time.Second)
	t.Logf("slow consumer closed %v after the queue filled (%d messages sent)", time.Since(fullAt), sent)
	checkInfo(t, "slow server conn", slow.conn.CloseInfo(), ClosePolicyViolation, "slow consumer: write queue full", true)
	if err := slow.conn.Send(big); !errors.Is(err, ErrClosed) {
		t.Errorf(
			"Send after slow-consumer close = %v, want ErrClosed",
			err,
		)
	}

	if err := normal.conn.Send([]byte("after")); err != nil {
		t.Fatalf(
			"Send to normal client: %v",
			err,
		)
	}
	if got := string(recv(t, fast.msgs)); got != "after" {
		t.Errorf(
			"normal client got %q",
			got,
		)
	}
	select {
	case <-normal.conn.Done():
		t.Errorf(
			"normal connection closed: %v",
			normal.conn.CloseInfo(),
		)
	default:
	}
}

// waitQueueBelow waits up to d for c's outbound queue to hold fewer than n
// messages and reports whether it did.
func waitQueueBelow(c *Conn, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for c.Stats().QueuedMessages >= n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

func TestSlowConsumerByteBound(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	cl := dialClient(t, ts, Config{WriteQueueBytes: 1000})

	if err := cl.conn.Send(make([]byte, 1001)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf(
			"Send above WriteQueueBytes = %v, want ErrQueueFull",
			err,
		)
	}
	waitDone(t, cl.conn, waitTimeout)
	checkInfo(t, "client", cl.conn.CloseInfo(), ClosePolicyViolation, "slow consumer: write queue full", true)
}

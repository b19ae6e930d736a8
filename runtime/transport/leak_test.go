package transport

import (
	"runtime"
	"testing"
	"time"
)

func TestNoGoroutineLeak(t *testing.T) {
	ts := newTestServer(t, Config{PingInterval: 20 * time.Millisecond}, true)
	// One warm-up cycle so that lazily started runtime and net/http
	// goroutines are part of the baseline.
	cycle(t, ts, 0)
	baseline := settledGoroutines(baselineSettle)

	const cycles = 50
	for i := range cycles {
		cycle(t, ts, i)
	}

	deadline := time.Now().Add(waitTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf(
				"%d goroutines after %d cycles, baseline %d:\n%s",
				n, cycles, baseline, buf,
			)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// baselineSettle is how long the goroutine count must stay put to be taken
// as the baseline.
const baselineSettle = 50 * time.Millisecond

// settledGoroutines returns the goroutine count once it has not changed for
// d (or after waitTimeout).
func settledGoroutines(d time.Duration) int {
	n := runtime.NumGoroutine()
	stable := time.Now()
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m != n {
			n, stable = m, time.Now()
			continue
		}
		if time.Since(stable) >= d {
			break
		}
	}
	return n
}

// cycle opens a connection, exchanges a message and closes it, from the
// client side on even i and from the server side on odd i, or abnormally
// every fifth cycle.
func cycle(t *testing.T, ts *testServer, i int) {
	t.Helper()
	cl := dialClient(t, ts, Config{PingInterval: 20 * time.Millisecond})
	srv := ts.accept(t)
	if err := cl.conn.Send([]byte("ping")); err != nil {
		t.Fatalf(
			"Send: %v",
			err,
		)
	}
	recv(t, cl.msgs)
	switch {
	case i%5 == 4:
		_ = cl.conn.nc.Close()
	case i%2 == 0:
		_ = cl.conn.Close(CloseNormal, "")
	default:
		_ = srv.conn.Close(CloseNormal, "")
	}
	waitInfo(t, cl.info)
	waitInfo(t, srv.info)
}

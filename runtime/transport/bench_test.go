package transport

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkSend measures enqueueing and writing a 200-byte message on one
// server-side connection whose peer discards everything it reads.
func BenchmarkSend(b *testing.B) {
	ts := newTestServer(b, Config{WriteQueueLen: 1024}, false)
	rc := dialRaw(b, ts)
	srv := ts.accept(b)
	defer func() { _ = srv.conn.Close(CloseNormal, "") }()

	const frameLen = 200 + 4 // payload plus a 4-byte header
	var received atomic.Int64
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := rc.r.Read(buf)
			received.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()

	msg := make([]byte, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := srv.conn.Send(msg); err != nil {
			b.Fatalf(
				"Send: %v",
				err,
			)
		}
		if i%256 == 255 {
			for srv.conn.Stats().QueuedMessages > 512 {
				runtime.Gosched()
			}
		}
	}
	for received.Load() < int64(b.N)*frameLen {
		runtime.Gosched()
	}
	b.StopTimer()
}

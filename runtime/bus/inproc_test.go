package bus_test

import (
	"testing"

	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/bus/bustest"
)

func TestInProcConformance(t *testing.T) {
	t.Parallel()
	bustest.Run(t, func(*testing.T) func() bus.Bus {
		hub := bus.NewHub()
		return func() bus.Bus { return hub.Connect() }
	})
}

func TestInProcFullQueueDrops(t *testing.T) {
	t.Parallel()
	hub := bus.NewHub()
	pub, sub := hub.Connect(), hub.Connect()
	block := make(chan struct{})
	if _, err := sub.Subscribe("s", func(bus.Msg) { <-block }); err != nil {
		t.Fatal(err)
	}
	for range bus.MaxPending + 10 {
		if err := pub.Publish("s", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	close(block)
	if d := sub.Dropped(); d < 9 || d > 10 {
		t.Fatalf("dropped %d, want the overflow beyond MaxPending (9 or 10: one may be in hand)", d)
	}
}

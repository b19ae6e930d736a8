package natsbus_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/bus/bustest"
	"github.com/moltzap/moltzap-go/runtime/bus/natsbus"
)

// natsURL is the NATS the tests use (MOLTZAP_TEST_NATS_URL overrides it).
func natsURL() string {
	if u := os.Getenv("MOLTZAP_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// connector returns a function connecting buses in a namespace private to the test. NATS
// must be running: the test fails otherwise.
func connector(t *testing.T) func() bus.Bus {
	ns := fmt.Sprintf("t%d", time.Now().UnixNano())
	return func() bus.Bus {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b, err := natsbus.Connect(ctx, natsURL(), natsbus.Options{Namespace: ns})
		if err != nil {
			t.Fatalf("NATS is required at %s (start nats-server, or set MOLTZAP_TEST_NATS_URL): %v", natsURL(), err)
		}
		return b
	}
}

func TestNATSConformance(t *testing.T) {
	bustest.Run(t, connector)
}

func TestNamespacesAreApart(t *testing.T) {
	a, b := connector(t)(), connector(t)()
	defer a.Close(context.Background())
	defer b.Close(context.Background())
	got := make(chan string, 1)
	if _, err := b.Subscribe("x", func(m bus.Msg) { got <- string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish("x", []byte("other cluster")); err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		t.Fatalf("a message crossed namespaces: %q", m)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestConnectFailsLoudly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := natsbus.Connect(ctx, "nats://127.0.0.1:1", natsbus.Options{ConnectTimeout: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("connect to a closed port succeeded")
	}
}

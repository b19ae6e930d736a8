package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/bus/natsbus"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// openBus connects the NATS bus of --nats-url; nil (a single node) when it is unset.
func openBus(ctx context.Context, o options, log *slog.Logger) (bus.Bus, error) {
	if o.natsURL == "" {
		return nil, nil
	}
	b, err := natsbus.Connect(ctx, o.natsURL, natsbus.Options{Namespace: o.natsPrefix, Name: "moltzap-server " + o.nodeID, Logger: log})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// closeBus drains the bus after the server has shut down.
func closeBus(b bus.Bus, timeout time.Duration, log *slog.Logger) {
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		log.Warn("close bus", "err", err)
	}
}

// validateCluster checks --nats-url, --nats-prefix and --node-id: a cluster needs the
// shared PostgreSQL store.
func validateCluster(o options) error {
	if !server.ValidNodeID(o.nodeID) {
		return fmt.Errorf("--node-id %q: want 1-64 letters, digits, '_' or '-'", o.nodeID)
	}
	if o.natsURL == "" {
		return nil
	}
	for _, raw := range strings.Split(o.natsURL, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return fmt.Errorf("--nats-url %q: want nats://host:port (several comma-separated)", raw)
		}
	}
	if o.natsPrefix == "" || strings.ContainsAny(o.natsPrefix, " \t*>") || strings.HasPrefix(o.natsPrefix, ".") || strings.HasSuffix(o.natsPrefix, ".") {
		return fmt.Errorf("--nats-prefix %q: want a subject prefix such as moltzap", o.natsPrefix)
	}
	if o.databaseURL == "" {
		return errors.New("--nats-url needs --database-url: the nodes of a cluster share one PostgreSQL store")
	}
	return nil
}

// defaultNodeID is a random node id (8 hex digits).
func defaultNodeID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "node"
	}
	return hex.EncodeToString(b[:])
}

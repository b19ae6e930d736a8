package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/postgres"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// openStore opens the PostgreSQL store of --database-url, or else the embedded SQLite store
// in --data; where describes it for the log (never with a password).
func openStore(ctx context.Context, o options) (st store.Store, where string, err error) {
	if o.databaseURL == "" {
		s, err := sqlite.Open(ctx, o.data)
		if err != nil {
			return nil, "", fmt.Errorf("open store in %s: %w", o.data, err)
		}
		return s, "sqlite:" + o.data, nil
	}
	where = redactURL(o.databaseURL)
	s, err := postgres.Open(ctx, o.databaseURL, postgres.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("open PostgreSQL store %s: %w", where, err)
	}
	return s, where, nil
}

// validateDatabaseURL checks the form of --database-url.
func validateDatabaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("--database-url %q: want postgres://user@host:port/database", redactURL(raw))
	}
	return nil
}

// redactURL hides the password of a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.Index(raw, "@"); i >= 0 {
			return "***" + raw[i:]
		}
		return raw
	}
	return u.Redacted()
}

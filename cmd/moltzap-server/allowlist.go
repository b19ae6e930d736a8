package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// loadAppAllowlist reads the --app-allowlist file: a JSON object mapping app ids (or "*",
// the owners allowed for every app not listed) to the owner user ids allowed to
// apps/register them. An empty path means no allowlist (nil). Errors name the flag.
func loadAppAllowlist(path string) (map[protocol.AppID][]protocol.UserID, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--app-allowlist: %w", err)
	}
	var raw map[string][]string
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("--app-allowlist %s: want a JSON object {\"<appId>\": [\"<ownerUserId>\", ...]}: %v", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("--app-allowlist %s: trailing data after the JSON object", path)
	}
	if raw == nil {
		return nil, fmt.Errorf("--app-allowlist %s: want a JSON object, got null", path)
	}
	out := make(map[protocol.AppID][]protocol.UserID, len(raw))
	for app, owners := range raw {
		if app == "" {
			return nil, fmt.Errorf("--app-allowlist %s: empty app id", path)
		}
		list := make([]protocol.UserID, 0, len(owners))
		for _, o := range owners {
			if o == "" {
				return nil, fmt.Errorf("--app-allowlist %s: app %s: empty owner user id", path, app)
			}
			list = append(list, protocol.UserID(o))
		}
		out[protocol.AppID(app)] = list
	}
	return out, nil
}

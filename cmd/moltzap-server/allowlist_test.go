package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestLoadAppAllowlist(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := loadAppAllowlist(write("ok.json", `{"app-1": ["u1", "u2"], "*": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["app-1"]) != 2 || got["app-1"][1] != protocol.UserID("u2") || got["*"] == nil || len(got["*"]) != 0 {
		t.Fatalf("got %v", got)
	}
	if m, err := loadAppAllowlist(""); m != nil || err != nil {
		t.Fatalf("empty path: %v %v", m, err)
	}
	for name, body := range map[string]string{
		"array.json": `["app-1"]`, "bad.json": `{"app-1": ["u1"`, "null.json": `null`, "owners.json": `{"app-1": "u1"}`,
		"emptyowner.json": `{"app-1": [""]}`, "emptyapp.json": `{"": ["u1"]}`, "trailing.json": `{} {}`,
	} {
		if _, err := loadAppAllowlist(write(name, body)); err == nil || !strings.Contains(err.Error(), "--app-allowlist") {
			t.Errorf("%s: err %v, want an error naming --app-allowlist", name, err)
		}
	}
	if _, err := loadAppAllowlist(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "--app-allowlist") {
		t.Errorf("missing file: %v", err)
	}
}

// TestAppAllowlistFlagUsageError: a bad file is a usage error (exit 2) naming the flag.
func TestAppAllowlistFlagUsageError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newRootCmd()
	cmd.SetArgs([]string{"--data", t.TempDir(), "--app-allowlist", bad})
	err := cmd.Execute()
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--app-allowlist") {
		t.Fatalf("err %v (%T), want a usage error naming --app-allowlist", err, err)
	}
}

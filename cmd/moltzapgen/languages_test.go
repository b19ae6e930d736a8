package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateUnknownTargetListsTargets(t *testing.T) {
	code, _, stderr := runCLI(t, "generate", "cobol")
	if code != 2 || !strings.Contains(stderr, "ts (typescript)") || !strings.Contains(stderr, "openrpc") {
		t.Fatalf("exit %d, stderr %q: want 2 and the list of targets", code, stderr)
	}
}

// TestGenerateOtherLanguages writes each package and checks a file every one must have.
func TestGenerateOtherLanguages(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ target, out, file string }{
		{"ts", "ts", "package.json"},
		{"typescript", "ts2", "package.json"},
		{"python", "py", "pyproject.toml"},
	} {
		out := filepath.Join(dir, c.out)
		if code, _, stderr := runCLI(t, "generate", c.target, "--schema", "../../schema", "--out", out); code != 0 {
			t.Fatalf("generate %s: exit %d: %s", c.target, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, c.file)); err != nil {
			t.Fatalf("generate %s: %v", c.target, err)
		}
	}
	doc := filepath.Join(dir, "openrpc.json")
	if code, _, stderr := runCLI(t, "generate", "openrpc", "--schema", "../../schema", "--out", doc); code != 0 {
		t.Fatalf("generate openrpc: exit %d: %s", code, stderr)
	}
	var d struct {
		OpenRPC string `json:"openrpc"`
	}
	raw, err := os.ReadFile(doc)
	if err != nil || json.Unmarshal(raw, &d) != nil || !strings.HasPrefix(d.OpenRPC, "1.3") {
		t.Fatalf("openrpc document: %v, version %q", err, d.OpenRPC)
	}
}

// TestDiffExitCodes: 0 without breaking changes, 1 with one (named), 2 on usage errors.
func TestDiffExitCodes(t *testing.T) {
	if code, out, _ := runCLI(t, "diff", "../../schema", "../../schema"); code != 0 || !strings.Contains(out, "no changes") {
		t.Fatalf("identical catalogs: exit %d, %q", code, out)
	}
	old := "../../testdata/diff/method-removed/old"
	nu := "../../testdata/diff/method-removed/new"
	code, out, _ := runCLI(t, "diff", old, nu)
	if code != 1 || !strings.Contains(out, "breaking") {
		t.Fatalf("method removed: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "diff", "--json", old, nu)
	var report struct {
		Breaking bool `json:"breaking"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &report) != nil || !report.Breaking {
		t.Fatalf("--json: exit %d, %q", code, out)
	}
	if code, _, _ := runCLI(t, "diff", old); code != 2 {
		t.Fatalf("one directory: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, "diff", "--against", "HEAD", old, nu); code != 2 {
		t.Fatalf("--against with directories: exit %d, want 2", code)
	}
}

// TestDiffAgainstGitRef compares the catalog at HEAD with itself.
func TestDiffAgainstGitRef(t *testing.T) {
	code, out, stderr := runCLI(t, "diff", "--against", "HEAD", "--schema", "../../schema")
	if code == 2 || strings.Contains(stderr, "git archive") {
		t.Fatalf("--against HEAD: exit %d, %q %q", code, out, stderr)
	}
}

func TestVersionFlag(t *testing.T) {
	code, out, _ := runCLI(t, "--version")
	if code != 0 || !strings.Contains(out, "moltzapgen version") || !strings.Contains(out, "commit") {
		t.Fatalf("--version: exit %d, %q", code, out)
	}
}

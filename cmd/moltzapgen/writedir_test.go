package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moltzap/moltzap-go/gen/golang"
)

// TestWriteDirSubdirectories: keys with a directory land in that subdirectory, and stale
// generated files are removed from the output directory and its subdirectories, never
// hand-written ones.
func TestWriteDirSubdirectories(t *testing.T) {
	dir := t.TempDir()
	gen := func(s string) []byte { return []byte("// " + golang.Header + "\n\npackage " + s + "\n") }
	write := func(rel string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("old.go", gen("p"))               // stale generated: removed
	write("hand.go", []byte("package p\n")) // hand-written: kept
	write("p_test.go", gen("p"))            // a test: kept
	write("protocoltest/old.go", gen("pt")) // stale generated in a subdirectory: removed
	write("protocoltest/hand.go", []byte("package pt\n"))
	write("gone/old.go", gen("gone")) // a subdirectory no longer produced: emptied and removed
	files := map[string][]byte{
		"types.go":                     gen("p"),
		"protocoltest/protocoltest.go": gen("pt"),
		"schema.json":                  []byte("{}"),
	}
	if err := writeDir(dir, files); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"types.go": true, "schema.json": true, "protocoltest/protocoltest.go": true,
		"hand.go": true, "p_test.go": true, "protocoltest/hand.go": true,
		"old.go": false, "protocoltest/old.go": false, "gone": false,
	} {
		if _, err := os.Stat(filepath.Join(dir, rel)); (err == nil) != want {
			t.Errorf("%s: exists=%v, want %v", rel, err == nil, want)
		}
	}
	// A rerun with the same files changes nothing.
	before, _ := os.Stat(filepath.Join(dir, "protocoltest/protocoltest.go"))
	if err := writeDir(dir, files); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(dir, "protocoltest/protocoltest.go")); !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged file was rewritten")
	}
}

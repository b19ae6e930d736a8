package sqlite_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// TestDataDirectoryIsLocked: while a store has its directory open, a second Open fails with
// ErrLocked naming the holder's process id; after Close the directory opens again.
func TestDataDirectoryIsLocked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(ctx, dir)
	if !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("the error does not name the holder: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

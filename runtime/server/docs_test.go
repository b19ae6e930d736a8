package server_test

import (
	"os"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/server"
)

// TestProtocolDocNamesTheDefaultApp: docs/protocol.md tells third-party clients the id of
// the built-in app (the text lives in gen/markdown); it must be this server's.
func TestProtocolDocNamesTheDefaultApp(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), server.DefaultAppID) {
		t.Fatalf("docs/protocol.md does not name the default app id %s (update gen/markdown/wire.go)", server.DefaultAppID)
	}
}

package golang

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/gen"
)

// wiringFiles renders the thin files (dispatch, stubs, errors, catalog) and the test-only
// package for the catalog in dir.
func wiringFiles(t *testing.T, dir, pkg string) map[string][]byte {
	t.Helper()
	m, err := gen.LoadAndLint(dir)
	if err != nil {
		t.Fatalf("lint %s: %v", dir, err)
	}
	out, err := Emit(m, pkg)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	if _, ok := out[TestPackage+"/"+TestPackage+".go"]; !ok { // until Emit renders it itself
		e := &emitter{m: m, pkg: pkg, unions: armUnions(m), roles: roles(m), params: paramsTypes(m), roots: rootTypes(m)}
		test, err := e.protocolTest(GeneratedRoot + pkg)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for name, b := range test {
			out[name] = b
		}
	}
	if scratch := os.Getenv("MOLTZAP_WIRING_OUT"); scratch != "" {
		for name, b := range out {
			p := filepath.Join(scratch, filepath.Base(dir), name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

var funcStart = regexp.MustCompile(`(?m)^func .*\{$`)

// TestWiringShape checks the thin files of the real catalog: rendered, no function over 80
// lines, one table line per method, deterministic.
func TestWiringShape(t *testing.T) {
	files := wiringFiles(t, "../../schema", "protocol")
	again := wiringFiles(t, "../../schema", "protocol")
	total := 0
	thin := map[string]bool{"server.go": true, "taskmaster.go": true, "client.go": true, "errors.go": true, "catalog.go": true}
	for name, b := range files {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s differs between two runs", name)
		}
		lines := strings.Split(string(b), "\n")
		if thin[name] {
			total += len(lines) - 1
		}
		start := -1
		for i, l := range lines {
			switch {
			case funcStart.MatchString(l):
				start = i
			case l == "}" && start >= 0:
				if n := i - start + 1; n > 80 {
					t.Errorf("%s: function at line %d is %d lines", name, start+1, n)
				}
				start = -1
			}
		}
		t.Logf("%-28s %4d lines", name, len(lines)-1)
	}
	t.Logf("%-28s %4d lines (the generator check bounds all of generated/protocol)", "thin files", total)
	server := string(files["server.go"])
	for _, want := range []string{
		"endpoint.Unary(MethodNetworkConnect, Anyone, h.NetworkConnect, DecodeNetworkConnectParams, ",
		"endpoint.Unary(MethodContactsList, OwnedAgent, h.ContactsList, DecodeContactsListParams, ",
		"endpoint.Unary(MethodTaskConversationCreate, ActiveTaskMaster, h.TaskConversationCreate,",
		"endpoint.Unary(MethodTaskClose, TaskMasterOnly, h.TaskClose,",
		"endpoint.Unary(MethodMessagesSend, ActiveAgent, h.MessagesSend,",
		"endpoint.Unary(MethodNetworkPing, AgentOnly, h.NetworkPing,",
		"Anyone = endpoint.CallerUnauthenticated | endpoint.CallerAgent",
		"ActiveTaskMaster = endpoint.CallerTaskMaster | endpoint.RequireActive",
		"type ServerDispatcher[C Caller] = endpoint.Router[C]",
	} {
		if !strings.Contains(server, want) {
			t.Errorf("server.go lacks %q", want)
		}
	}
	errs := string(files["errors.go"])
	for _, want := range []string{
		"type ForbiddenError = endpoint.DataError[forbiddenKind, ForbiddenData]",
		"type NotFoundError = endpoint.Error[notFoundKind]",
		"func (forbiddenKind) Spec() endpoint.Spec {\n\treturn endpoint.Spec{Code: CodeForbidden, Message: \"Forbidden\"}\n}",
		"endpoint.Typed[forbiddenKind](",
		"Forbidden: endpoint.NewData[forbiddenKind, ForbiddenData]",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors.go lacks %q", want)
		}
	}
	if c := string(files["client.go"]); !strings.Contains(c, "return endpoint.Call(ctx, c.inv, MethodMessagesSend, p, ") {
		t.Error("client.go lacks the MessagesSend stub")
	}
}

// TestWiringFixture renders the fixture catalog (a union params type, a typed error named
// otherwise, a TaskMaster method that requires an owner).
func TestWiringFixture(t *testing.T) {
	files := wiringFiles(t, "../../testdata/fixtures/full", "widgets")
	if s := string(files["server.go"]); !strings.Contains(s, "OwnedTaskMaster = endpoint.CallerTaskMaster | endpoint.RequireOwner") {
		t.Errorf("server.go:\n%s", s)
	}
}

func TestAccessName(t *testing.T) {
	for _, c := range []struct {
		callers, requires []string
		want              string
	}{
		{[]string{"unauthenticated", "agent"}, nil, "Anyone"},
		{[]string{"agent"}, nil, "AgentOnly"},
		{[]string{"agent"}, []string{"active"}, "ActiveAgent"},
		{[]string{"agent"}, []string{"owner"}, "OwnedAgent"},
		{[]string{"taskmaster"}, nil, "TaskMasterOnly"},
		{[]string{"taskmaster"}, []string{"active"}, "ActiveTaskMaster"},
		{[]string{"agent", "taskmaster"}, []string{"active", "owner"}, "ActiveOwnedAgentOrTaskMaster"},
	} {
		if got := accessName(c.callers, c.requires); got != c.want {
			t.Errorf("%v %v: %s, want %s", c.callers, c.requires, got, c.want)
		}
	}
}

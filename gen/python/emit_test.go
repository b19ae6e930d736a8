package python

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/gen"
)

func load(t *testing.T, dir string) *gen.Model {
	t.Helper()
	m, err := gen.LoadAndLint(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

// TestEmitCatalog renders the real catalog and checks the package's shape; with
// MOLTZAP_PY_OUT set it also writes the package there (for the Python tests and pyright).
func TestEmitCatalog(t *testing.T) {
	m := load(t, "../../schema")
	files, err := Emit(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pyproject.toml", "README.md", "moltzap/__init__.py", "moltzap/types.py",
		"moltzap/errors.py", "moltzap/client.py", "moltzap/taskmaster.py", "moltzap/py.typed",
		"moltzap/validate.py", "moltzap/transport.py", "moltzap/catchup.py"} {
		if _, ok := files[want]; !ok {
			t.Errorf("missing %s", want)
		}
	}
	for name, b := range files {
		if strings.HasSuffix(name, ".py") && !bytes.HasPrefix(b, []byte(Header+"\n")) {
			t.Errorf("%s does not start with the header", name)
		}
	}
	errs := string(files["moltzap/errors.py"])
	for _, d := range m.Errors {
		if !strings.Contains(errs, "class "+d.GoName+"(MoltZapError):") {
			t.Errorf("errors.py has no class %s", d.GoName)
		}
	}
	for _, d := range m.Errors {
		for _, r := range d.Refinements {
			if !strings.Contains(errs, "class "+r.GoName+"("+d.GoName+"):") {
				t.Errorf("errors.py has no refinement class %s of %s", r.GoName, d.GoName)
			}
		}
	}
	if !strings.Contains(errs, `(-32002, "Conversation not found"): ConversationNotFoundError,`) ||
		!strings.Contains(errs, "-32028: ConversationNotFoundError,") {
		t.Error("errors.py does not map NotFound 'Conversation not found' and -32028 to ConversationNotFoundError")
	}
	cl := string(files["moltzap/client.py"])
	for _, me := range m.Methods {
		if me.Name != "network/connect" && !strings.Contains(cl, "async def "+snake(me.Name)+"(") {
			t.Errorf("client.py has no method for %s", me.Name)
		}
	}
	tm := string(files["moltzap/taskmaster.py"])
	for _, cb := range m.Callbacks {
		if !strings.Contains(tm, "@abstractmethod\n    async def "+snake(cb.Name)+"(") {
			t.Errorf("taskmaster.py has no abstract %s", cb.Name)
		}
	}
	ty := string(files["moltzap/types.py"])
	for _, want := range []string{`AgentId = NewType("AgentId", str)`, "class MessagesSendParams:",
		`Part = TextPart | ImagePart | FilePart`, `"MessagesSendParams": decode_MessagesSendParams,`} {
		if !strings.Contains(ty, want) {
			t.Errorf("types.py lacks %q", want)
		}
	}
	if out := os.Getenv("MOLTZAP_PY_OUT"); out != "" {
		for name, b := range files {
			p := filepath.Join(out, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestEmitDeterministic renders the catalog and the full fixture twice.
func TestEmitDeterministic(t *testing.T) {
	for _, dir := range []string{"../../schema", "../../testdata/fixtures/full"} {
		a, err := Emit(load(t, dir))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		b, err := Emit(load(t, dir))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d files, then %d", dir, len(a), len(b))
		}
		for k := range a {
			if !bytes.Equal(a[k], b[k]) {
				t.Errorf("%s: %s differs between two runs", dir, k)
			}
		}
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"agentId": "agent_id", "contacts/byId": "contacts_by_id", "timeout_ms": "timeout_ms",
		"task/conversation/participants/add": "task_conversation_participants_add",
		"agents/lookupByName":                "agents_lookup_by_name", "from": "from_", "type": "type",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPyPattern(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"^[a-z]$": `^[a-z]\Z`, `^a\$b$`: `^a\$b\Z`, "^[$]x$": `^[$]x\Z`, `[\]$]$`: `[\]$]\Z`,
	} {
		if got := pyPattern(in); got != want {
			t.Errorf("pyPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

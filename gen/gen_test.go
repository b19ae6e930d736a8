package gen_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/gen"
	"github.com/moltzap/moltzap-go/gen/golang"
	"github.com/moltzap/moltzap-go/gen/markdown"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	fixtureDir = "../testdata/fixtures/full"
	goldenDir  = "../testdata/golden/full"
)

func loadFixture(t *testing.T, dir string) *gen.Model {
	t.Helper()
	m, err := gen.LoadAndLint(dir)
	if err != nil {
		t.Fatalf("lint %s:\n%v", dir, err)
	}
	return m
}

func emitFixture(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := golang.Emit(loadFixture(t, fixtureDir), "widgets")
	if err != nil {
		t.Fatal(err)
	}
	files["protocol.md"] = markdown.Render(loadFixture(t, fixtureDir))
	return files
}

// TestGolden compares the Go, schema and Markdown output for the fixture catalog with the
// golden files; `go test ./gen/... -update` rewrites them.
func TestGolden(t *testing.T) {
	files := emitFixture(t)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		path := filepath.Join(goldenDir, name+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./gen/... -update)", err)
		}
		if !bytes.Equal(files[name], want) {
			t.Errorf("%s differs from %s (run go test ./gen/... -update and review the diff)", name, path)
		}
	}
	golden, _ := filepath.Glob(filepath.Join(goldenDir, "*.golden"))
	nested, _ := filepath.Glob(filepath.Join(goldenDir, "*", "*.golden"))
	golden = append(golden, nested...)
	if !*update && len(golden) != len(names) {
		t.Errorf("%d golden files for %d outputs: stale golden files?", len(golden), len(names))
	}
}

// TestDeterministic: the same catalogs give byte-identical output.
func TestDeterministic(t *testing.T) {
	for _, dir := range []string{fixtureDir, "../schema"} {
		a, err := golang.Emit(loadFixture(t, dir), "p")
		if err != nil {
			t.Fatal(err)
		}
		b, err := golang.Emit(loadFixture(t, dir), "p")
		if err != nil {
			t.Fatal(err)
		}
		for name := range a {
			if !bytes.Equal(a[name], b[name]) {
				t.Errorf("%s: %s differs between two runs", dir, name)
			}
		}
	}
}

// TestFixtureOutputCompiles builds and vets the fixture's generated package.
func TestFixtureOutputCompiles(t *testing.T) {
	files := emitFixture(t)
	delete(files, "protocol.md")
	// protocoltest imports its package by the generated/ import path, which the fixture does
	// not have; the real catalog's protocoltest is built and run by the module's own tests.
	delete(files, golang.TestPackage+"/"+golang.TestPackage+".go")
	tmp := t.TempDir()
	repl := map[string]string{}
	pkgDir, _ := filepath.Abs("testdata/fixturepkg")
	for name, data := range files {
		src := filepath.Join(tmp, name)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		repl[filepath.Join(pkgDir, name)] = src
	}
	ov, _ := json.Marshal(map[string]any{"Replace": repl})
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "vet", "-overlay", ovPath, "./testdata/fixturepkg")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the fixture's generated package does not vet:\n%s", out)
	}
}

// TestModelOfFixture checks the intermediate model for each construct.
func TestModelOfFixture(t *testing.T) {
	m := loadFixture(t, fixtureDir)
	types := map[string]*gen.Type{}
	for _, ty := range m.Types {
		types[ty.Name] = ty
	}
	expect := map[string]gen.Kind{
		"WidgetID": gen.KindString, "Color": gen.KindEnum, "Labels": gen.KindMap, "Shape": gen.KindUnion,
		"Shapes": gen.KindArray, "Widget": gen.KindStruct, "WidgetSize": gen.KindStruct, "WidgetPart": gen.KindStruct,
		"WidgetMood": gen.KindEnum, "WidgetsOpenParams": gen.KindUnion, "ByKey": gen.KindStruct, "DeniedData": gen.KindStruct,
	}
	for name, kind := range expect {
		if ty := types[name]; ty == nil || ty.Kind != kind {
			t.Errorf("type %s: got %+v, want kind %d", name, ty, kind)
		}
	}
	if d := types["Shape"].Discriminator; d != "kind" {
		t.Errorf("Shape discriminator %q", d)
	}
	if d := types["WidgetsOpenParams"].Discriminator; d != "" {
		t.Errorf("WidgetsOpenParams must be chosen by required keys, got discriminator %q", d)
	}
	w := types["Widget"]
	fields := map[string]*gen.Field{}
	for _, f := range w.Fields {
		fields[f.JSONName] = f
	}
	if f := fields["lastSeen"]; !f.Required || !f.Nullable {
		t.Errorf("lastSeen: %+v", f)
	}
	if f := fields["history"]; f.UnionShape() != "array" {
		t.Errorf("history union shape %q", f.UnionShape())
	}
	if len(m.Methods) != 3 || m.Methods[1].Name != "widgets/make" || !m.Methods[1].ResultAlias || m.Methods[0].ResultAlias {
		t.Errorf("methods %+v", m.Methods)
	}
	byName := map[string]*gen.ErrorDef{}
	for _, e := range m.Errors {
		byName[e.Name] = e
	}
	if d := byName["Denied"]; d == nil || d.Data == nil || d.GoName != "DeniedError" || byName["InternalError"].Data != nil || byName["InternalError"].GoName != "InternalError" {
		t.Errorf("errors %+v", m.Errors)
	}
}

// TestGoNames covers identifier conversion.
func TestGoNames(t *testing.T) {
	for in, want := range map[string]string{
		"agentId": "AgentID", "agentIds": "AgentIDs", "ownerUserId": "OwnerUserID", "timeout_ms": "TimeoutMs",
		"task/conversation/create": "TaskConversationCreate", "agents/lookupByName": "AgentsLookupByName",
		"contacts/byId": "ContactsByID", "url": "URL", "server-above-client-max": "ServerAboveClientMax", "HelloOk": "HelloOk",
	} {
		if got := gen.GoName(in); got != want {
			t.Errorf("GoName(%q) = %q, want %q", in, got, want)
		}
	}
}

// copyFixture copies the fixture into a temp directory for a broken variant.
func copyFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(fixtureDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// edit applies f to a JSON file of dir.
func edit(t *testing.T, dir, file string, f func(doc map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, file)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func obj(v any, path ...string) map[string]any {
	m := v.(map[string]any)
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// TestBrokenCatalogs: every kind of defect fails lint with its file and JSON pointer.
func TestBrokenCatalogs(t *testing.T) {
	cases := []struct {
		name, file, pointer, message string
		mutate                       func(t *testing.T, dir string)
	}{
		{"unknown key on a method", "widgets.json", "/methods/widgets~1make", "noSuchKeyword", func(t *testing.T, dir string) {
			edit(t, dir, "widgets.json", func(d map[string]any) { obj(d, "methods", "widgets/make")["noSuchKeyword"] = true })
		}},
		{"unsupported schema keyword", "defs.json", "/$defs/Widget", "allOf", func(t *testing.T, dir string) {
			edit(t, dir, "defs.json", func(d map[string]any) { obj(d, "$defs", "Widget")["allOf"] = []any{} })
		}},
		{"unknown format", "defs.json", "/$defs/Link/format", "uuid", func(t *testing.T, dir string) {
			edit(t, dir, "defs.json", func(d map[string]any) { obj(d, "$defs", "Link")["format"] = "email" })
		}},
		{"dangling $ref", "widgets.json", "/notifications/widgets~1made/params/properties/id/$ref", "Nope", func(t *testing.T, dir string) {
			edit(t, dir, "widgets.json", func(d map[string]any) {
				obj(d, "notifications", "widgets/made", "params", "properties", "id")["$ref"] = "defs.json#/$defs/Nope"
			})
		}},
		{"open object", "defs.json", "/$defs/Circle", "closed", func(t *testing.T, dir string) {
			edit(t, dir, "defs.json", func(d map[string]any) { delete(obj(d, "$defs", "Circle"), "additionalProperties") })
		}},
		{"indistinct union arms", "widgets.json", "/methods/widgets~1open/params/oneOf", "tell them apart", func(t *testing.T, dir string) {
			edit(t, dir, "widgets.json", func(d map[string]any) {
				arm := obj(d, "methods", "widgets/open", "params")["oneOf"].([]any)[1].(map[string]any)
				arm["required"] = []any{"token", "key"}
				obj(arm, "properties")["key"] = map[string]any{"type": "string", "description": "k"}
				arm0 := obj(d, "methods", "widgets/open", "params")["oneOf"].([]any)[0].(map[string]any)
				_ = arm0
			})
		}},
		{"unregistered error", "widgets.json", "/methods/widgets~1make/errors/0", "Mystery", func(t *testing.T, dir string) {
			edit(t, dir, "widgets.json", func(d map[string]any) { obj(d, "methods", "widgets/make")["errors"] = []any{"Mystery"} })
		}},
		{"duplicate error code", "errors.json", "/errors/Oops/code", "already used", func(t *testing.T, dir string) {
			edit(t, dir, "errors.json", func(d map[string]any) { obj(d, "errors", "Oops")["code"] = -32001 })
		}},
		{"registry without a runtime error", "errors.json", "/errors", "MethodNotFound", func(t *testing.T, dir string) {
			edit(t, dir, "errors.json", func(d map[string]any) { delete(obj(d, "errors"), "MethodNotFound") })
		}},
		{"pattern without examples", "defs.json", "/$defs/Code/pattern", "examples", func(t *testing.T, dir string) {
			edit(t, dir, "defs.json", func(d map[string]any) { delete(obj(d, "$defs", "Code"), "examples") })
		}},
		{"type list instead of oneOf null", "defs.json", "/$defs/Count/type", "", func(t *testing.T, dir string) {
			edit(t, dir, "defs.json", func(d map[string]any) { obj(d, "$defs", "Count")["type"] = []any{"integer", "null"} })
		}},
		{"const outside a union", "widgets.json", "/notifications/widgets~1made/params/properties/id", "const", func(t *testing.T, dir string) {
			edit(t, dir, "widgets.json", func(d map[string]any) {
				obj(d, "notifications", "widgets/made", "params", "properties")["id"] = map[string]any{"type": "string", "const": "x", "description": "c"}
				obj(d, "notifications", "widgets/made", "params")["required"] = []any{}
			})
		}},
		{"invalid JSON", "errors.json", "/", "not valid JSON", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "errors.json"), []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixture(t)
			c.mutate(t, dir)
			_, err := gen.LoadAndLint(dir)
			if err == nil {
				t.Fatal("lint accepted a broken catalog")
			}
			var probs gen.Problems
			text := err.Error()
			if p, ok := err.(gen.Problems); ok {
				probs = p
			}
			found := false
			for _, p := range probs {
				if p.File == c.file && strings.HasPrefix(p.Pointer, c.pointer) && strings.Contains(p.String(), c.message) {
					found = true
				}
			}
			if !found {
				t.Fatalf("want a problem in %s at %s mentioning %q, got:\n%s", c.file, c.pointer, c.message, text)
			}
		})
	}
}

package openrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/moltzap/moltzap-go/gen"
	"github.com/moltzap/moltzap-go/gen/examples"
)

var catalogs = []string{"../../schema", "../../testdata/fixtures/full"}

func load(t *testing.T, dir string) *gen.Model {
	t.Helper()
	m, err := gen.LoadAndLint(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

func render(t *testing.T, m *gen.Model) (out []byte, doc map[string]any) {
	t.Helper()
	out, err := Render(m)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("document does not parse: %v", err)
	}
	return out, doc
}

// TestDeterministic: identical models render identical, indented documents with a trailing newline.
func TestDeterministic(t *testing.T) {
	for _, dir := range catalogs {
		a, _ := render(t, load(t, dir))
		b, _ := render(t, load(t, dir))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ", dir)
		}
		if !bytes.HasSuffix(a, []byte("}\n")) || !bytes.HasPrefix(a, []byte("{\n  \"openrpc\": \"1.3.")) {
			t.Errorf("%s: not an indented document with a trailing newline: %.40q", dir, a)
		}
	}
}

func names(t *testing.T, doc map[string]any, key string) map[string]map[string]any {
	t.Helper()
	list, ok := doc[key].([]any)
	if !ok {
		t.Fatalf("%s is not a list", key)
	}
	out := map[string]map[string]any{}
	for _, it := range list {
		m := it.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

// TestCatalogComplete: every method, notification, callback, error and named type is in the
// document, with its params, result and errors.
func TestCatalogComplete(t *testing.T) {
	for _, dir := range catalogs {
		m := load(t, dir)
		_, doc := render(t, m)
		info := doc["info"].(map[string]any)
		if info["title"] != "MoltZap" || info["version"] != m.Version {
			t.Errorf("%s: info = %v", dir, info)
		}
		codes := map[string]int64{}
		for _, e := range m.Errors {
			codes[e.Name] = e.Code
		}
		check := func(key string, list []*gen.Method) {
			got := names(t, doc, key)
			if len(got) != len(list) {
				t.Errorf("%s: %s has %d entries, want %d", dir, key, len(got), len(list))
			}
			for _, meth := range list {
				o := got[meth.Name]
				if o == nil {
					t.Errorf("%s: %s lacks %s", dir, key, meth.Name)
					continue
				}
				if o["paramStructure"] != "by-name" {
					t.Errorf("%s %s: paramStructure %v", dir, meth.Name, o["paramStructure"])
				}
				checkParams(t, dir+" "+meth.Name, meth.Params, o["params"].([]any))
				res := o["result"].(map[string]any)
				if want := SchemaRef + meth.Result.Name; res["schema"].(map[string]any)["$ref"] != want {
					t.Errorf("%s %s: result schema %v, want %s", dir, meth.Name, res["schema"], want)
				}
				errs, _ := o["errors"].([]any)
				if len(errs) != len(meth.Errors) {
					t.Errorf("%s %s: %d errors, want %d", dir, meth.Name, len(errs), len(meth.Errors))
					continue
				}
				for i, name := range meth.Errors {
					e := errs[i].(map[string]any)
					if int64(e["code"].(float64)) != codes[name] || e["message"] == "" {
						t.Errorf("%s %s: error %d = %v, want %s %d", dir, meth.Name, i, e, name, codes[name])
					}
				}
			}
		}
		check("methods", m.Methods)
		check("x-callbacks", m.Callbacks)
		notes := names(t, doc, "x-notifications")
		if len(notes) != len(m.Notifications) {
			t.Errorf("%s: %d notifications, want %d", dir, len(notes), len(m.Notifications))
		}
		for _, n := range m.Notifications {
			o := notes[n.Name]
			if o == nil {
				t.Errorf("%s: x-notifications lacks %s", dir, n.Name)
				continue
			}
			if _, has := o["result"]; has {
				t.Errorf("%s %s: a notification has a result", dir, n.Name)
			}
			checkParams(t, dir+" "+n.Name, n.Params, o["params"].([]any))
		}
		comps := doc["components"].(map[string]any)
		errs := comps["errors"].(map[string]any)
		if len(errs) != len(m.Errors) {
			t.Errorf("%s: %d components.errors, want %d", dir, len(errs), len(m.Errors))
		}
		for _, e := range m.Errors {
			o, ok := errs[e.Name].(map[string]any)
			if !ok || int64(o["code"].(float64)) != e.Code || o["message"] != e.Message {
				t.Errorf("%s: components.errors[%s] = %v", dir, e.Name, errs[e.Name])
			}
		}
		schemas := comps["schemas"].(map[string]any)
		if len(schemas) != len(m.Types) {
			t.Errorf("%s: %d schemas, want %d", dir, len(schemas), len(m.Types))
		}
		for _, ty := range m.Types {
			if _, ok := schemas[ty.Name]; !ok {
				t.Errorf("%s: components.schemas lacks %s", dir, ty.Name)
			}
		}
	}
}

// checkParams: the by-name params are the properties of the params object (of any arm of a
// union), with the required flags of the model.
func checkParams(t *testing.T, where string, p *gen.Type, got []any) {
	t.Helper()
	want := map[string]bool{}
	arms := []*gen.Type{p}
	if p.Kind == gen.KindUnion {
		arms = nil
		for _, a := range p.Arms {
			arms = append(arms, a.Type)
		}
	}
	reqCount := map[string]int{}
	for _, a := range arms {
		for _, k := range a.RequiredKeys() {
			reqCount[k]++
		}
		for _, c := range a.Consts {
			want[c.JSONName] = false
		}
		for _, f := range a.Fields {
			want[f.JSONName] = false
		}
	}
	for k := range want {
		want[k] = reqCount[k] == len(arms)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d params, want %d", where, len(got), len(want))
	}
	for _, g := range got {
		cd := g.(map[string]any)
		name := cd["name"].(string)
		req, _ := cd["required"].(bool)
		if w, ok := want[name]; !ok || w != req {
			t.Errorf("%s: param %s required=%v, want present=%v required=%v", where, name, req, ok, w)
		}
	}
}

// TestRefsResolve: every "$ref" in the document is a local pointer that resolves.
func TestRefsResolve(t *testing.T) {
	for _, dir := range catalogs {
		_, doc := render(t, load(t, dir))
		n := 0
		var walk func(v any, at string)
		walk = func(v any, at string) {
			switch x := v.(type) {
			case map[string]any:
				for k, val := range x {
					if k == "$ref" {
						n++
						ref, _ := val.(string)
						if !strings.HasPrefix(ref, SchemaRef) && !strings.HasPrefix(ref, ErrorRef) {
							t.Errorf("%s %s: $ref %v is not a component reference", dir, at, val)
							continue
						}
						if _, err := pointer(doc, strings.TrimPrefix(ref, "#")); err != nil {
							t.Errorf("%s %s: $ref %s: %v", dir, at, ref, err)
						}
						continue
					}
					walk(val, at+"/"+k)
				}
			case []any:
				for i, val := range x {
					walk(val, fmt.Sprintf("%s/%d", at, i))
				}
			}
		}
		walk(doc, "")
		if n == 0 {
			t.Errorf("%s: no references at all", dir)
		}
	}
}

func pointer(doc any, ptr string) (any, error) {
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("no %q", tok)
		}
	}
	return cur, nil
}

// metaSchema compiles the OpenRPC meta-schema (testdata, see README.md) as draft-07.
func metaSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	read := func(name string) map[string]any {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		delete(v, "$schema") // self-referential dialect URI; compiled as draft-07 instead
		return v
	}
	openrpc := read("openrpc-meta-schema.json")
	// Upstream leaves the version enum as a placeholder filled in at release time.
	openrpc["properties"].(map[string]any)["openrpc"].(map[string]any)["enum"] = []any{"1.3.0", "1.3.1", "1.3.2"}
	tools := read("json-schema-tools-meta-schema.json")
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	c.LoadURL = func(u string) (io.ReadCloser, error) { return nil, fmt.Errorf("no network: %s", u) }
	for url, v := range map[string]any{"https://meta.open-rpc.org/": openrpc, "https://meta.json-schema.tools": tools, "https://meta.json-schema.tools/": tools} {
		data, _ := json.Marshal(v)
		if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
			t.Fatalf("add %s: %v", url, err)
		}
	}
	s, err := c.Compile("https://meta.open-rpc.org/")
	if err != nil {
		t.Fatalf("meta-schema: %v", err)
	}
	return s
}

// TestMetaSchema: the document validates against the OpenRPC meta-schema, and the meta-schema
// does reject a broken document (so the check is not vacuous).
func TestMetaSchema(t *testing.T) {
	meta := metaSchema(t)
	for _, dir := range catalogs {
		_, doc := render(t, load(t, dir))
		if err := meta.Validate(doc); err != nil {
			t.Errorf("%s: document fails the OpenRPC meta-schema: %#v", dir, err)
		}
		broken := map[string]any{}
		for k, v := range doc {
			broken[k] = v
		}
		broken["methods"] = []any{map[string]any{"name": "x", "params": []any{map[string]any{"name": "p"}}}}
		if meta.Validate(broken) == nil {
			t.Errorf("%s: the meta-schema accepts a content descriptor without a schema", dir)
		}
		broken["methods"] = doc["methods"]
		broken["bogus"] = true
		if meta.Validate(broken) == nil {
			t.Errorf("%s: the meta-schema accepts an unknown top-level key", dir)
		}
	}
}

// TestSchemasAgreeWithBundle: for every schema-backed type, the components schema built from
// the model gives the bundled catalog schema's verdict on synthesised valid instances and on
// their mutations (missing required, extra property, wrong type, bounds, enums, formats).
func TestSchemasAgreeWithBundle(t *testing.T) {
	for _, dir := range catalogs {
		m := load(t, dir)
		out, _ := render(t, m)
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.AssertFormat = true
		if err := c.AddResource("openrpc.json", bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
		bundle := gen.NewBundleCompiler(m.Bundle)
		ex, err := examples.Parse(m.Bundle)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, ty := range m.Types {
			if ty.Schema == "" {
				continue
			}
			mine, err := c.Compile("openrpc.json" + SchemaRef + ty.Name)
			if err != nil {
				t.Fatalf("%s: compile %s: %v", dir, ty.Name, err)
			}
			theirs, err := bundle.Compile(gen.BundleURL + ty.Schema)
			if err != nil {
				t.Fatalf("%s: compile bundle %s: %v", dir, ty.Schema, err)
			}
			var insts []any
			for _, mode := range []examples.Mode{examples.Full, examples.Minimal} {
				for v := 0; v < ex.Variants(ty.Schema); v++ {
					inst, err := ex.Instance(ty.Schema, mode, v)
					if err != nil {
						t.Fatalf("%s: instance of %s: %v", dir, ty.Name, err)
					}
					insts = append(insts, inst)
					muts, err := ex.Mutations(ty.Schema, inst)
					if err != nil {
						t.Fatalf("%s: mutations of %s: %v", dir, ty.Name, err)
					}
					for _, mu := range muts {
						insts = append(insts, mu.Instance)
					}
				}
			}
			for _, inst := range insts {
				a, b := mine.Validate(inst) == nil, theirs.Validate(inst) == nil
				if a != b {
					raw, _ := json.Marshal(inst)
					t.Errorf("%s %s: OpenRPC schema valid=%v, catalog schema valid=%v on %s", dir, ty.Name, a, b, raw)
				}
				checked++
			}
		}
		if checked < 20 {
			t.Errorf("%s: only %d instances checked", dir, checked)
		}
	}
}

func TestRenderNil(t *testing.T) {
	if _, err := Render(nil); err == nil {
		t.Error("Render(nil) succeeded")
	}
}

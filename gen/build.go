package gen

import (
	"sort"
	"strings"
)

// supportedKeywords are the JSON Schema keywords the generator understands. Anything else
// in a schema is a problem: the generator never silently widens a type.
var supportedKeywords = map[string]bool{
	"$ref": true, "type": true, "properties": true, "required": true, "additionalProperties": true,
	"items": true, "enum": true, "const": true, "oneOf": true, "description": true, "title": true,
	"format": true, "pattern": true, "minLength": true, "maxLength": true, "minimum": true,
	"maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "minItems": true,
	"maxItems": true, "uniqueItems": true, "examples": true, "default": true, "$comment": true,
	"deprecated": true,
}

var supportedFormats = map[string]bool{"uuid": true, "date-time": true, "uri": true}

// builder turns Sources into a Model.
type builder struct {
	src      *Sources
	probs    Problems
	defs     map[string]*Node // schema def name -> schema node
	types    map[string]*Type // schema def name -> built type
	building map[string]bool
	named    map[string]*Node // Go type name -> where it was declared
	model    *Model
	bundle   map[string]any // bundle $defs
}

// Build checks the sources and builds the model. Problems are returned as a Problems error.
func Build(src *Sources) (*Model, error) {
	b := &builder{
		src: src, defs: map[string]*Node{}, types: map[string]*Type{}, building: map[string]bool{},
		named: map[string]*Node{}, model: &Model{}, bundle: map[string]any{},
	}
	b.collectDefs()
	b.version()
	b.buildDefs()
	b.buildAreas()
	b.buildCallbacks()
	b.buildErrors()
	b.checkErrorRefs()
	if err := b.probs.errOrNil(); err != nil {
		return nil, err
	}
	b.finish()
	return b.model, b.probs.errOrNil()
}

func (b *builder) collectDefs() {
	files := append([]string{DefsFile}, b.src.Areas()...)
	files = append(files, CallbacksFile)
	for _, f := range files {
		defs := b.src.Files[f].Get("$defs")
		if defs == nil {
			continue
		}
		for _, k := range defs.Keys {
			if prev, dup := b.defs[k]; dup {
				b.probs.add(defs.Vals[k], "definition %q is already declared at %s", k, prev.Where())
				continue
			}
			b.defs[k] = defs.Vals[k]
		}
	}
}

func (b *builder) version() {
	n := b.src.Files[VersionFile]
	v := n.Get("protocolVersion")
	if v == nil || v.Kind != NodeString {
		b.probs.add(n, "protocolVersion must be a string")
		return
	}
	for _, seg := range strings.Split(v.Str, ".") {
		if seg == "" || strings.Trim(seg, "0123456789") != "" {
			b.probs.add(v, "protocol version %q: segment %q is not a run of digits", v.Str, seg)
			return
		}
	}
	b.model.Version = v.Str
	if app := n.Get("defaultAppId"); app != nil { // optional: older catalogs have none
		if app.Kind != NodeString {
			b.probs.add(app, "defaultAppId must be a string")
			return
		}
		b.model.DefaultAppID = app.Str
	}
}

func (b *builder) buildDefs() {
	names := make([]string, 0, len(b.defs))
	for k := range b.defs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.def(k)
	}
}

// def builds (once) the named type of a $defs entry.
func (b *builder) def(name string) *Type {
	if t, ok := b.types[name]; ok {
		return t
	}
	n := b.defs[name]
	if n == nil {
		return nil
	}
	if b.building[name] {
		// A recursive reference: hand out the placeholder registered below.
		return b.types[name]
	}
	b.building[name] = true
	defer delete(b.building, name)
	t := b.typeOf(n, GoName(name))
	if t == nil {
		return nil
	}
	if t.Name == "" { // a primitive, array or map definition becomes a named type
		c := *t
		c.Name = GoName(name)
		t = &c
		b.declare(t, n)
	}
	t.Schema = "#/$defs/" + name
	if t.Doc == "" {
		t.Doc = n.StringOf("description")
	}
	b.types[name] = t
	b.bundle[name] = b.bundleValue(n)
	return t
}

func (b *builder) declare(t *Type, n *Node) {
	if prev, dup := b.named[t.Name]; dup && prev != n {
		b.probs.add(n, "Go type name %s is already used by %s", t.Name, prev.Where())
		return
	}
	b.named[t.Name] = n
	b.model.Types = append(b.model.Types, t)
}

// checkKeywords reports keywords the generator cannot map.
func (b *builder) checkKeywords(n *Node) bool {
	ok := true
	for _, k := range n.Keys {
		if !supportedKeywords[k] {
			b.probs.add(n.Vals[k], "schema keyword %q is not supported by the generator", k)
			ok = false
		}
	}
	if n.Get("pattern") != nil && n.Get("examples") == nil {
		b.probs.add(n.Get("pattern"), "a string with a pattern needs \"examples\" (valid samples the tests synthesise instances from)")
		ok = false
	}
	if f := n.Get("format"); f != nil && (f.Kind != NodeString || !supportedFormats[f.Str]) {
		b.probs.add(f, "format %q is not supported (uuid, date-time, uri)", f.Str)
		ok = false
	}
	b.checkPatterns(n)
	return ok
}

// typeOf maps one schema node; hint names an inline struct, enum or union.
func (b *builder) typeOf(n *Node, hint string) *Type {
	if n.Kind != NodeObject {
		b.probs.add(n, "a schema must be an object")
		return nil
	}
	if !b.checkKeywords(n) {
		return nil
	}
	doc := n.StringOf("description")
	if ref := n.Get("$ref"); ref != nil {
		b.refSiblings(n)
		return b.ref(ref)
	}
	if one := n.Get("oneOf"); one != nil {
		if inner, nullable := b.nullableArm(one); nullable {
			b.probs.add(one, "a nullable oneOf is only allowed as an object property")
			_ = inner
			return nil
		}
		return b.union(n, one, b.inlineName(n, hint), doc)
	}
	if e := n.Get("enum"); e != nil {
		return b.enum(n, e, b.inlineName(n, hint), doc)
	}
	typ := n.Get("type")
	if typ == nil || typ.Kind != NodeString {
		b.probs.add(n, "schema needs a single \"type\" (use oneOf with {\"type\":\"null\"} for nullable values)")
		return nil
	}
	switch typ.Str {
	case "object":
		if n.Get("properties") != nil || isFalse(n.Get("additionalProperties")) {
			return b.object(n, b.inlineName(n, hint), doc)
		}
		ap := n.Get("additionalProperties")
		if ap == nil || ap.Kind != NodeObject {
			b.probs.add(n, "an object needs either closed properties (additionalProperties: false) or an additionalProperties schema; open objects cannot be mapped")
			return nil
		}
		elem := b.typeOf(ap, hint+"Value")
		if elem == nil {
			return nil
		}
		return &Type{Kind: KindMap, Elem: elem, Doc: doc, Source: n}
	case "array":
		items := n.Get("items")
		if items == nil {
			b.probs.add(n, "an array needs an items schema")
			return nil
		}
		elem := b.typeOf(items, hint+"Item")
		if elem == nil {
			return nil
		}
		return &Type{Kind: KindArray, Elem: elem, Doc: doc, Source: n, Constraints: b.constraints(n, KindArray)}
	case "string":
		if n.Get("const") != nil {
			b.probs.add(n.Get("const"), "a const is only supported as a property of an object (a union discriminator)")
			return nil
		}
		return &Type{Kind: KindString, Doc: doc, Source: n, Constraints: b.constraints(n, KindString)}
	case "integer":
		return &Type{Kind: KindInteger, Doc: doc, Source: n, Constraints: b.constraints(n, KindInteger)}
	case "number":
		return &Type{Kind: KindNumber, Doc: doc, Source: n, Constraints: b.constraints(n, KindNumber)}
	case "boolean":
		return &Type{Kind: KindBool, Doc: doc, Source: n, Constraints: b.constraints(n, KindBool)}
	}
	b.probs.add(typ, "type %q cannot be mapped", typ.Str)
	return nil
}

// inlineName prefers an explicit title for inline declarations.
func (b *builder) inlineName(n *Node, hint string) string {
	if t := n.StringOf("title"); t != "" {
		return GoName(t)
	}
	return hint
}

func isFalse(n *Node) bool { return n != nil && n.Kind == NodeBool && !n.Bool }

func (b *builder) ref(ref *Node) *Type {
	if ref.Kind != NodeString {
		b.probs.add(ref, "$ref must be a string")
		return nil
	}
	name, ok := refName(ref.Str)
	if !ok {
		b.probs.add(ref, "$ref %q: only \"defs.json#/$defs/Name\" and \"#/$defs/Name\" are supported", ref.Str)
		return nil
	}
	if _, exists := b.defs[name]; !exists {
		b.probs.add(ref, "$ref %q: no definition named %q", ref.Str, name)
		return nil
	}
	if b.building[name] {
		if t, ok := b.types[name]; ok {
			return t
		}
		b.probs.add(ref, "$ref %q: recursive definitions are not supported", ref.Str)
		return nil
	}
	return b.def(name)
}

// refName extracts Name from "defs.json#/$defs/Name" or "#/$defs/Name".
func refName(ref string) (string, bool) {
	for _, prefix := range []string{DefsFile + "#/$defs/", "#/$defs/"} {
		if strings.HasPrefix(ref, prefix) && !strings.Contains(ref[len(prefix):], "/") {
			return ref[len(prefix):], true
		}
	}
	return "", false
}

// nullableArm recognises oneOf [X, {"type":"null"}] and returns X.
func (b *builder) nullableArm(one *Node) (*Node, bool) {
	if one.Kind != NodeArray || len(one.Items) != 2 {
		return nil, false
	}
	for i, it := range one.Items {
		if it.Kind == NodeObject && len(it.Keys) == 1 && it.StringOf("type") == "null" {
			return one.Items[1-i], true
		}
	}
	return nil, false
}

func (b *builder) enum(n, e *Node, name, doc string) *Type {
	if n.StringOf("type") != "string" {
		b.probs.add(n, "only string enums are supported (add \"type\": \"string\")")
		return nil
	}
	t := &Type{Name: name, Kind: KindEnum, Doc: doc, Source: n, Constraints: b.constraints(n, KindEnum)}
	seen := map[string]bool{}
	for _, it := range e.Items {
		if it.Kind != NodeString || it.Str == "" {
			b.probs.add(it, "enum values must be non-empty strings")
			return nil
		}
		if seen[it.Str] {
			b.probs.add(it, "duplicate enum value %q", it.Str)
		}
		seen[it.Str] = true
		t.Enum = append(t.Enum, it.Str)
	}
	if len(t.Enum) == 0 {
		b.probs.add(e, "an enum needs at least one value")
		return nil
	}
	b.declare(t, n)
	return t
}

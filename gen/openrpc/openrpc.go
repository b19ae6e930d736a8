// Package openrpc renders the protocol model as an OpenRPC 1.3 document: every method with its
// params, result and errors, every named type as a JSON Schema under components.schemas, the
// error registry under components.errors, and the server's notifications and the TaskMaster
// callbacks as the extensions "x-notifications" and "x-callbacks" (shaped like methods).
//
// The schemas are built from the model (gen.Model), not copied from the catalog JSON, so they
// state exactly the constraints every other emitter checks.
package openrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// Version is the OpenRPC specification version the document declares.
const Version = "1.3.2"

// SchemaRef is the prefix of every schema reference in the document.
const SchemaRef = "#/components/schemas/"

// ErrorRef is the prefix of every error reference in the document.
const ErrorRef = "#/components/errors/"

// document is the top level of an OpenRPC document. Field order is output order.
type document struct {
	OpenRPC         string                     `json:"openrpc"`
	Info            info                       `json:"info"`
	Methods         []method                   `json:"methods"`
	Components      components                 `json:"components"`
	Notifications   []method                   `json:"x-notifications"`
	Callbacks       []method                   `json:"x-callbacks"`
	ErrorData       map[string]json.RawMessage `json:"x-error-data,omitempty"`
	ProtocolVersion string                     `json:"x-protocol-version"`
}

type info struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Version     string `json:"version"`
}

type components struct {
	Schemas map[string]json.RawMessage `json:"schemas"`
	Errors  map[string]errorObject     `json:"errors"`
	Tags    map[string]tag             `json:"tags,omitempty"`
}

type tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type errorObject struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

type method struct {
	Name           string              `json:"name"`
	Summary        string              `json:"summary,omitempty"`
	Description    string              `json:"description,omitempty"`
	Tags           []tag               `json:"tags,omitempty"`
	ParamStructure string              `json:"paramStructure"`
	Params         []contentDescriptor `json:"params"`
	Result         *contentDescriptor  `json:"result,omitempty"`
	Errors         []errorObject       `json:"errors,omitempty"`
	ParamsSchema   json.RawMessage     `json:"x-params-schema"`
	ErrorNames     []string            `json:"x-errors,omitempty"`
	Callers        []string            `json:"x-callers,omitempty"`
	Requires       []string            `json:"x-requires,omitempty"`
	Recipients     string              `json:"x-recipients,omitempty"`
}

type contentDescriptor struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Required    bool            `json:"required,omitempty"`
	Schema      json.RawMessage `json:"schema"`
}

// Render returns the OpenRPC document of the whole catalog: indented JSON with a trailing
// newline, identical for identical models.
func Render(m *gen.Model) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("openrpc: nil model")
	}
	r := &renderer{m: m, named: map[string]bool{}}
	for _, t := range m.Types {
		if t.Name == "" {
			return nil, fmt.Errorf("openrpc: model type without a name (%v)", t.Kind)
		}
		r.named[t.Name] = true
	}
	doc := document{
		OpenRPC: Version,
		Info: info{
			Title:       "MoltZap",
			Description: "The MoltZap JSON-RPC 2.0 protocol over WebSocket, protocol version " + m.Version + ". Server notifications are listed under x-notifications, the callbacks the server sends to a TaskMaster under x-callbacks.",
			Version:     m.Version,
		},
		Methods:         []method{},
		Notifications:   []method{},
		Callbacks:       []method{},
		ProtocolVersion: m.Version,
		Components: components{
			Schemas: map[string]json.RawMessage{},
			Errors:  map[string]errorObject{},
		},
	}
	if len(m.Areas) > 0 {
		doc.Components.Tags = map[string]tag{}
		for _, a := range m.Areas {
			doc.Components.Tags[a.Name] = tag{Name: a.Name, Description: a.Description}
		}
	}
	for _, t := range m.Types {
		s, err := r.definition(t)
		if err != nil {
			return nil, err
		}
		doc.Components.Schemas[t.Name] = s
	}
	for _, e := range m.Errors {
		doc.Components.Errors[e.Name] = errorObject{Code: e.Code, Message: e.Message}
		if e.Data != nil {
			if doc.ErrorData == nil {
				doc.ErrorData = map[string]json.RawMessage{}
			}
			s, err := r.use(e.Data)
			if err != nil {
				return nil, fmt.Errorf("openrpc: error %s data: %w", e.Name, err)
			}
			doc.ErrorData[e.Name] = s
		}
	}
	for _, meth := range m.Methods {
		out, err := r.method(meth)
		if err != nil {
			return nil, err
		}
		doc.Methods = append(doc.Methods, out)
	}
	for _, cb := range m.Callbacks {
		out, err := r.method(cb)
		if err != nil {
			return nil, err
		}
		doc.Callbacks = append(doc.Callbacks, out)
	}
	for _, n := range m.Notifications {
		params, err := r.params(n.Params)
		if err != nil {
			return nil, fmt.Errorf("openrpc: notification %s: %w", n.Name, err)
		}
		ps, err := r.use(n.Params)
		if err != nil {
			return nil, fmt.Errorf("openrpc: notification %s: %w", n.Name, err)
		}
		doc.Notifications = append(doc.Notifications, method{
			Name: n.Name, Summary: summary(n.Description), Description: n.Description, Tags: areaTags(n.Area),
			ParamStructure: "by-name", Params: params, ParamsSchema: ps, Recipients: n.Recipients,
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openrpc: encode: %w", err)
	}
	return buf.Bytes(), nil // Encode ends the document with a newline
}

type renderer struct {
	m     *gen.Model
	named map[string]bool
}

func areaTags(area string) []tag {
	if area == "" {
		return nil
	}
	return []tag{{Name: area}}
}

// summary is the first sentence of a description.
func summary(desc string) string {
	desc = strings.TrimSpace(desc)
	if i := strings.Index(desc, ". "); i >= 0 {
		return desc[:i+1]
	}
	if i := strings.IndexByte(desc, '\n'); i >= 0 {
		return strings.TrimSpace(desc[:i])
	}
	return desc
}

func (r *renderer) method(meth *gen.Method) (method, error) {
	params, err := r.params(meth.Params)
	if err != nil {
		return method{}, fmt.Errorf("openrpc: method %s params: %w", meth.Name, err)
	}
	ps, err := r.use(meth.Params)
	if err != nil {
		return method{}, fmt.Errorf("openrpc: method %s params: %w", meth.Name, err)
	}
	rs, err := r.use(meth.Result)
	if err != nil {
		return method{}, fmt.Errorf("openrpc: method %s result: %w", meth.Name, err)
	}
	out := method{
		Name: meth.Name, Summary: summary(meth.Description), Description: meth.Description, Tags: areaTags(meth.Area),
		ParamStructure: "by-name", Params: params, ParamsSchema: ps,
		Result:  &contentDescriptor{Name: meth.GoName + "Result", Description: meth.Result.Doc, Required: true, Schema: rs},
		Callers: meth.Callers, Requires: meth.Requires,
	}
	errs := map[string]*gen.ErrorDef{}
	for _, e := range r.m.Errors {
		errs[e.Name] = e
	}
	for _, name := range meth.Errors {
		e, ok := errs[name]
		if !ok {
			return method{}, fmt.Errorf("openrpc: method %s: error %q is not in the registry", meth.Name, name)
		}
		out.Errors = append(out.Errors, errorObject{Code: e.Code, Message: e.Message})
		out.ErrorNames = append(out.ErrorNames, name)
	}
	return out, nil
}

// params lists the by-name parameters: the properties of the params object. For a union of
// objects, every property of any arm is listed, required only when every arm requires it;
// the exact shape is the method's x-params-schema.
func (r *renderer) params(t *gen.Type) ([]contentDescriptor, error) {
	out := []contentDescriptor{}
	switch t.Kind {
	case gen.KindStruct:
		return r.structParams(t)
	case gen.KindUnion:
		index := map[string]int{}
		count := map[string]int{}
		for _, a := range t.Arms {
			cds, err := r.structParams(a.Type)
			if err != nil {
				return nil, err
			}
			for _, cd := range cds {
				if cd.Required {
					count[cd.Name]++
				}
				if _, seen := index[cd.Name]; seen {
					continue
				}
				index[cd.Name] = len(out)
				out = append(out, cd)
			}
		}
		for i := range out {
			out[i].Required = count[out[i].Name] == len(t.Arms)
		}
		return out, nil
	}
	return nil, fmt.Errorf("params type %s is neither an object nor a union", t.Name)
}

func (r *renderer) structParams(t *gen.Type) ([]contentDescriptor, error) {
	out := []contentDescriptor{}
	for _, c := range t.Consts {
		s, err := marshal(map[string]any{"type": "string", "const": c.Value})
		if err != nil {
			return nil, err
		}
		out = append(out, contentDescriptor{Name: c.JSONName, Required: true, Schema: s})
	}
	for _, f := range t.Fields {
		s, err := r.field(f)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name, f.JSONName, err)
		}
		out = append(out, contentDescriptor{Name: f.JSONName, Description: f.Doc, Required: f.Required, Schema: s})
	}
	return out, nil
}

// use is the schema of a value of type t: a reference for named types, inline otherwise.
func (r *renderer) use(t *gen.Type) (json.RawMessage, error) {
	if t == nil {
		return nil, fmt.Errorf("missing type")
	}
	if t.Name != "" {
		if !r.named[t.Name] {
			return nil, fmt.Errorf("type %s is not in the model's named types", t.Name)
		}
		return marshal(map[string]any{"$ref": SchemaRef + t.Name})
	}
	s, err := r.body(t)
	if err != nil {
		return nil, err
	}
	if t.Doc != "" {
		s["description"] = t.Doc
	}
	return marshal(s)
}

// field is the schema of a struct property: its type, null allowed when nullable.
func (r *renderer) field(f *gen.Field) (json.RawMessage, error) {
	s, err := r.use(f.Type)
	if err != nil {
		return nil, err
	}
	if f.Nullable {
		return marshal(map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}})
	}
	return s, nil
}

// definition is the components.schemas entry of a named type.
func (r *renderer) definition(t *gen.Type) (json.RawMessage, error) {
	s, err := r.body(t)
	if err != nil {
		return nil, fmt.Errorf("openrpc: type %s: %w", t.Name, err)
	}
	s["title"] = t.Name
	if t.Doc != "" {
		s["description"] = t.Doc
	}
	return marshal(s)
}

// body maps a type's shape and constraints (without title and description).
func (r *renderer) body(t *gen.Type) (map[string]any, error) {
	s := map[string]any{}
	switch t.Kind {
	case gen.KindString:
		s["type"] = "string"
	case gen.KindInteger:
		s["type"] = "integer"
	case gen.KindNumber:
		s["type"] = "number"
	case gen.KindBool:
		s["type"] = "boolean"
	case gen.KindEnum:
		s["type"] = "string"
		s["enum"] = append([]string{}, t.Enum...)
	case gen.KindArray, gen.KindMap:
		if t.Elem == nil {
			return nil, fmt.Errorf("%v without an element type", t.Kind)
		}
		elem, err := r.use(t.Elem)
		if err != nil {
			return nil, err
		}
		if t.Kind == gen.KindArray {
			s["type"], s["items"] = "array", elem
		} else {
			s["type"], s["additionalProperties"] = "object", elem
		}
	case gen.KindStruct:
		return r.object(t)
	case gen.KindUnion:
		arms := make([]json.RawMessage, 0, len(t.Arms))
		for _, a := range t.Arms {
			ref, err := r.use(a.Type)
			if err != nil {
				return nil, err
			}
			arms = append(arms, ref)
		}
		s["oneOf"] = arms
	default:
		return nil, fmt.Errorf("unknown kind %d", t.Kind)
	}
	constrain(s, t.Constraints)
	return s, nil
}

func (r *renderer) object(t *gen.Type) (map[string]any, error) {
	props := map[string]any{}
	for _, c := range t.Consts {
		props[c.JSONName] = map[string]any{"type": "string", "const": c.Value}
	}
	for _, f := range t.Fields {
		s, err := r.field(f)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", f.JSONName, err)
		}
		if f.Doc != "" {
			var m map[string]any
			if err := json.Unmarshal(s, &m); err != nil {
				return nil, fmt.Errorf("property %s: %w", f.JSONName, err)
			}
			m["description"] = f.Doc
			props[f.JSONName] = m
			continue
		}
		props[f.JSONName] = s
	}
	s := map[string]any{"type": "object", "properties": props}
	if req := t.RequiredKeys(); len(req) > 0 {
		sort.Strings(req)
		s["required"] = req
	}
	if t.Closed {
		s["additionalProperties"] = false
	}
	return s, nil
}

// constrain writes the validation keywords of c.
func constrain(s map[string]any, c gen.Constraints) {
	ints := map[string]*int64{"minLength": c.MinLength, "maxLength": c.MaxLength, "minItems": c.MinItems, "maxItems": c.MaxItems}
	for k, v := range ints {
		if v != nil {
			s[k] = *v
		}
	}
	nums := map[string]*gen.Number{"minimum": c.Minimum, "maximum": c.Maximum,
		"exclusiveMinimum": c.ExclusiveMinimum, "exclusiveMaximum": c.ExclusiveMaximum}
	for k, v := range nums {
		if v != nil {
			s[k] = json.Number(v.Literal)
		}
	}
	if c.Pattern != "" {
		s["pattern"] = c.Pattern
	}
	if c.Format != "" {
		s["format"] = c.Format
	}
	if c.UniqueItems {
		s["uniqueItems"] = true
	}
	if len(c.Examples) > 0 {
		s["examples"] = append([]string{}, c.Examples...)
	}
}

func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

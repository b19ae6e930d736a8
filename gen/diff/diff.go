// Package diff compares two protocol models and classifies every change as breaking or
// compatible for the wire, in the spirit of `buf breaking`: could an existing client (an agent
// or a TaskMaster built from the old catalog) and the new server, or the reverse, stop
// understanding each other?
//
// Messages have a direction. A "request" is read by the server: method params and callback
// results. A "response" is read by clients: method results, callback params, notifications
// and error data. Objects are closed (unknown properties are rejected), so a change that
// narrows what a reader accepts breaks requests (old senders still send the old shape), and a
// change that widens what a writer may send breaks responses (old readers reject the new
// shape). Rules whose verdict depends on the direction carry it in their name
// ("enum-value-added-response" is breaking, "enum-value-added-request" is compatible).
package diff

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// Kinds of change.
const (
	Breaking   = "breaking"
	Compatible = "compatible"
)

// Change is one difference between the old and the new catalog.
type Change struct {
	Kind    string `json:"kind"`    // Breaking or Compatible
	Rule    string `json:"rule"`    // the rule that classified it, e.g. "field-removed"
	Where   string `json:"where"`   // e.g. "method widgets/make params.widget.name"
	Message string `json:"message"` // what changed, for people
}

// Report is the outcome of Compare: breaking changes first, then by place.
type Report struct {
	Changes []Change `json:"changes"`
}

// Breaking reports whether any change is breaking.
func (r Report) Breaking() bool {
	for _, c := range r.Changes {
		if c.Kind == Breaking {
			return true
		}
	}
	return false
}

// Text renders one line per change ("breaking: <where>: <message>"), or "no changes".
func (r Report) Text() string {
	if len(r.Changes) == 0 {
		return "no changes\n"
	}
	var b strings.Builder
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "%s: %s: %s\n", c.Kind, c.Where, c.Message)
	}
	return b.String()
}

// JSON renders the report as an indented JSON document with a trailing newline:
// {"breaking": bool, "changes": [...]}.
func (r Report) JSON() ([]byte, error) {
	changes := r.Changes
	if changes == nil {
		changes = []Change{}
	}
	out, err := json.MarshalIndent(struct {
		Breaking bool     `json:"breaking"`
		Changes  []Change `json:"changes"`
	}{r.Breaking(), changes}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("diff report: %w", err)
	}
	return append(out, '\n'), nil
}

// direction says who reads a message.
type direction int

const (
	request  direction = iota // read by the server
	response                  // read by clients
)

func (d direction) String() string {
	if d == request {
		return "request"
	}
	return "response"
}

// Compare lists every change from old to new. A nil model is treated as an empty catalog.
func Compare(old, new *gen.Model) Report {
	if old == nil {
		old = &gen.Model{}
	}
	if new == nil {
		new = &gen.Model{}
	}
	c := &comparer{}
	if old.Version != new.Version {
		c.add(Compatible, "version-changed", "protocol", "version %s -> %s", old.Version, new.Version)
	}
	c.methods("method", old.Methods, new.Methods, request, response)
	c.methods("callback", old.Callbacks, new.Callbacks, response, request)
	c.notifications(old.Notifications, new.Notifications)
	c.errors(old.Errors, new.Errors)
	return Report{Changes: c.result()}
}

type comparer struct {
	changes []Change
	seen    map[Change]bool
	visited map[string]bool // named type pairs already compared, by direction
}

func (c *comparer) add(kind, rule, where, format string, args ...any) {
	ch := Change{Kind: kind, Rule: rule, Where: where, Message: fmt.Sprintf(format, args...)}
	if c.seen == nil {
		c.seen = map[Change]bool{}
	}
	if c.seen[ch] {
		return
	}
	c.seen[ch] = true
	c.changes = append(c.changes, ch)
}

// narrowed records a change that makes readers accept less: breaking for requests.
func (c *comparer) narrowed(rule string, d direction, where, format string, args ...any) {
	kind := Compatible
	if d == request {
		kind = Breaking
	}
	c.add(kind, rule+"-"+d.String(), where, format, args...)
}

// widened records a change that lets writers send more: breaking for responses.
func (c *comparer) widened(rule string, d direction, where, format string, args ...any) {
	kind := Compatible
	if d == response {
		kind = Breaking
	}
	c.add(kind, rule+"-"+d.String(), where, format, args...)
}

func (c *comparer) result() []Change {
	out := c.changes
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind == Breaking
		}
		if a.Where != b.Where {
			return a.Where < b.Where
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
	return out
}

func (c *comparer) methods(what string, olds, news []*gen.Method, params, result direction) {
	byName := map[string]*gen.Method{}
	for _, m := range news {
		byName[m.Name] = m
	}
	oldNames := map[string]bool{}
	for _, o := range olds {
		oldNames[o.Name] = true
		where := what + " " + o.Name
		n := byName[o.Name]
		if n == nil {
			c.add(Breaking, what+"-removed", where, "%s removed (or renamed)", what)
			continue
		}
		if o.Description != n.Description {
			c.add(Compatible, "description-changed", where, "description changed")
		}
		c.list(where, "caller", o.Callers, n.Callers, "callers-narrowed", "callers-widened")
		c.list(where, "requirement", o.Requires, n.Requires, "requires-removed", "requires-added")
		c.list(where, "error", o.Errors, n.Errors, "method-error-removed", "method-error-added")
		c.typ(o.Params, n.Params, where+" params", params, nil)
		c.typ(o.Result, n.Result, where+" result", result, nil)
	}
	for _, n := range news {
		if !oldNames[n.Name] {
			c.add(Compatible, what+"-added", what+" "+n.Name, "%s added", what)
		}
	}
}

// list compares callers, requirements or declared errors. Removing a caller breaks it;
// adding a requirement breaks callers that lack it; declared errors are informational.
func (c *comparer) list(where, noun string, old, new []string, removedRule, addedRule string) {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	kindOf := func(rule string) string {
		if rule == "callers-narrowed" || rule == "requires-added" {
			return Breaking
		}
		return Compatible
	}
	for _, o := range old {
		if !in(new, o) {
			c.add(kindOf(removedRule), removedRule, where, "%s %q removed", noun, o)
		}
	}
	for _, n := range new {
		if !in(old, n) {
			c.add(kindOf(addedRule), addedRule, where, "%s %q added", noun, n)
		}
	}
}

func (c *comparer) notifications(olds, news []*gen.Notification) {
	byName := map[string]*gen.Notification{}
	for _, n := range news {
		byName[n.Name] = n
	}
	oldNames := map[string]bool{}
	for _, o := range olds {
		oldNames[o.Name] = true
		where := "notification " + o.Name
		n := byName[o.Name]
		if n == nil {
			c.add(Breaking, "notification-removed", where, "notification removed (or renamed)")
			continue
		}
		if o.Description != n.Description {
			c.add(Compatible, "description-changed", where, "description changed")
		}
		if o.Recipients != n.Recipients {
			c.add(Compatible, "recipients-changed", where, "recipients %q -> %q", o.Recipients, n.Recipients)
		}
		c.typ(o.Params, n.Params, where+" params", response, nil)
	}
	for _, n := range news {
		if !oldNames[n.Name] {
			c.add(Compatible, "notification-added", "notification "+n.Name, "notification added")
		}
	}
}

func (c *comparer) errors(olds, news []*gen.ErrorDef) {
	byName := map[string]*gen.ErrorDef{}
	for _, e := range news {
		byName[e.Name] = e
	}
	oldNames := map[string]bool{}
	for _, o := range olds {
		oldNames[o.Name] = true
		where := "error " + o.Name
		n := byName[o.Name]
		if n == nil {
			c.add(Breaking, "error-removed", where, "error %d removed (or renamed)", o.Code)
			continue
		}
		if o.Code != n.Code {
			c.add(Breaking, "error-code-changed", where, "code %d -> %d", o.Code, n.Code)
		}
		if o.Message != n.Message {
			c.add(Compatible, "error-message-changed", where, "message %q -> %q", o.Message, n.Message)
		}
		if o.Description != n.Description {
			c.add(Compatible, "description-changed", where, "description changed")
		}
		switch {
		case o.Data == nil && n.Data != nil:
			c.add(Breaking, "error-data-added", where, "typed data added (old clients decode it as untyped)")
		case o.Data != nil && n.Data == nil:
			c.add(Breaking, "error-data-removed", where, "typed data removed")
		case o.Data != nil:
			c.typ(o.Data, n.Data, where+" data", response, nil)
		}
	}
	for _, n := range news {
		if !oldNames[n.Name] {
			c.add(Compatible, "error-added", "error "+n.Name, "error %d added", n.Code)
		}
	}
}

// typ compares two types at one place. stack guards recursive types.
func (c *comparer) typ(o, n *gen.Type, where string, d direction, stack map[string]bool) {
	if o == nil || n == nil {
		if o != n {
			c.add(Breaking, "type-changed", where, "type missing on one side")
		}
		return
	}
	if o.Name != "" && n.Name != "" {
		key := o.Name + "\x00" + n.Name
		if stack[key] {
			return
		}
		// A shared named type is compared once per direction, at the first place it is met,
		// so a change to it is one line (two when it travels both ways), not one per use.
		if o.Schema != "" && n.Schema != "" {
			seen := key + "\x00" + d.String()
			if c.visited[seen] {
				return
			}
			if c.visited == nil {
				c.visited = map[string]bool{}
			}
			c.visited[seen] = true
		}
		next := map[string]bool{key: true}
		for k := range stack {
			next[k] = true
		}
		stack = next
	}
	if o.Kind != n.Kind {
		c.add(Breaking, "type-changed", where, "type %s -> %s", describe(o), describe(n))
		return
	}
	if o.Name != n.Name && o.Schema != "" && n.Schema != "" && strings.HasPrefix(o.Schema, "#/$defs/") {
		c.add(Compatible, "type-renamed", where, "named type %s -> %s (same wire shape unless listed)", o.Name, n.Name)
	}
	c.constraints(o.Constraints, n.Constraints, where, d)
	switch o.Kind {
	case gen.KindEnum:
		c.enum(o, n, where, d)
	case gen.KindArray, gen.KindMap:
		suffix := "[]"
		if o.Kind == gen.KindMap {
			suffix = "{}"
		}
		c.typ(o.Elem, n.Elem, where+suffix, d, stack)
	case gen.KindStruct:
		c.object(o, n, where, d, stack)
	case gen.KindUnion:
		c.union(o, n, where, d, stack)
	}
}

func describe(t *gen.Type) string {
	names := map[gen.Kind]string{gen.KindString: "string", gen.KindInteger: "integer", gen.KindNumber: "number",
		gen.KindBool: "boolean", gen.KindStruct: "object", gen.KindEnum: "enum", gen.KindArray: "array",
		gen.KindMap: "map", gen.KindUnion: "union"}
	s := names[t.Kind]
	if t.Name != "" {
		s += " " + t.Name
	}
	return s
}

func (c *comparer) enum(o, n *gen.Type, where string, d direction) {
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, v := range o.Enum {
		if !has(n.Enum, v) {
			c.narrowed("enum-value-removed", d, where, "enum value %q removed", v)
		}
	}
	for _, v := range n.Enum {
		if !has(o.Enum, v) {
			c.widened("enum-value-added", d, where, "enum value %q added", v)
		}
	}
}

func (c *comparer) object(o, n *gen.Type, where string, d direction, stack map[string]bool) {
	oc := map[string]string{}
	for _, k := range o.Consts {
		oc[k.JSONName] = k.Value
	}
	nc := map[string]string{}
	for _, k := range n.Consts {
		nc[k.JSONName] = k.Value
		if ov, ok := oc[k.JSONName]; !ok || ov != k.Value {
			c.add(Breaking, "const-changed", where+"."+k.JSONName, "fixed value %q -> %q", ov, k.Value)
		}
	}
	for _, k := range o.Consts {
		if _, ok := nc[k.JSONName]; !ok {
			c.add(Breaking, "const-changed", where+"."+k.JSONName, "fixed value %q removed", k.Value)
		}
	}
	nf := map[string]*gen.Field{}
	for _, f := range n.Fields {
		nf[f.JSONName] = f
	}
	of := map[string]bool{}
	for _, f := range o.Fields {
		of[f.JSONName] = true
		at := where + "." + f.JSONName
		g := nf[f.JSONName]
		if g == nil {
			c.add(Breaking, "field-removed", at, "field removed (or renamed)")
			continue
		}
		switch {
		case !f.Required && g.Required:
			c.narrowed("field-made-required", d, at, "optional field made required")
		case f.Required && !g.Required:
			c.widened("field-made-optional", d, at, "required field made optional")
		}
		switch {
		case !f.Nullable && g.Nullable:
			c.widened("field-made-nullable", d, at, "field may now be null")
		case f.Nullable && !g.Nullable:
			c.narrowed("field-made-non-nullable", d, at, "field may no longer be null")
		}
		if f.Doc != g.Doc {
			c.add(Compatible, "description-changed", at, "description changed")
		}
		c.typ(f.Type, g.Type, at, d, stack)
	}
	for _, g := range n.Fields {
		if of[g.JSONName] {
			continue
		}
		at := where + "." + g.JSONName
		if g.Required {
			c.add(Breaking, "required-field-added", at, "required field added")
			continue
		}
		c.widened("optional-field-added", d, at, "optional field added (old readers reject unknown properties)")
	}
}

// arms indexes union arms by discriminator tag, or by type name for undiscriminated unions.
func arms(t *gen.Type) ([]string, map[string]*gen.Type) {
	var keys []string
	m := map[string]*gen.Type{}
	for _, a := range t.Arms {
		k := a.Tag
		if t.Discriminator == "" {
			k = a.Type.Name
		}
		keys = append(keys, k)
		m[k] = a.Type
	}
	return keys, m
}

func (c *comparer) union(o, n *gen.Type, where string, d direction, stack map[string]bool) {
	if o.Discriminator != n.Discriminator {
		c.add(Breaking, "type-changed", where, "union discriminator %q -> %q", o.Discriminator, n.Discriminator)
		return
	}
	ok, om := arms(o)
	nk, nm := arms(n)
	for _, k := range ok {
		if nm[k] == nil {
			c.narrowed("union-arm-removed", d, where, "union arm %s removed", k)
			continue
		}
		c.typ(om[k], nm[k], where+"("+k+")", d, stack)
	}
	for _, k := range nk {
		if om[k] == nil {
			c.widened("union-arm-added", d, where, "union arm %s added", k)
		}
	}
}

// constraints compares the validation keywords. A lower bound that appears or rises, an
// upper bound that appears or falls, a new pattern, format or uniqueItems narrow the type.
func (c *comparer) constraints(o, n gen.Constraints, where string, d direction) {
	counts := []struct {
		kw     string
		o, n   *int64
		isLow  bool
		isSize bool
	}{
		{"minLength", o.MinLength, n.MinLength, true, true}, {"maxLength", o.MaxLength, n.MaxLength, false, true},
		{"minItems", o.MinItems, n.MinItems, true, true}, {"maxItems", o.MaxItems, n.MaxItems, false, true},
	}
	for _, b := range counts {
		var ov, nv *gen.Number
		if b.o != nil {
			ov = &gen.Number{Literal: strconv.FormatInt(*b.o, 10)}
		}
		if b.n != nil {
			nv = &gen.Number{Literal: strconv.FormatInt(*b.n, 10)}
		}
		c.bound(b.kw, ov, nv, b.isLow, where, d)
	}
	nums := []struct {
		kw    string
		o, n  *gen.Number
		isLow bool
	}{
		{"minimum", o.Minimum, n.Minimum, true}, {"maximum", o.Maximum, n.Maximum, false},
		{"exclusiveMinimum", o.ExclusiveMinimum, n.ExclusiveMinimum, true},
		{"exclusiveMaximum", o.ExclusiveMaximum, n.ExclusiveMaximum, false},
	}
	for _, b := range nums {
		c.bound(b.kw, b.o, b.n, b.isLow, where, d)
	}
	switch {
	case o.Pattern == "" && n.Pattern != "":
		c.narrowed("bound-tightened", d, where, "pattern %q added", n.Pattern)
	case o.Pattern != "" && n.Pattern == "":
		c.widened("bound-loosened", d, where, "pattern %q removed", o.Pattern)
	case o.Pattern != n.Pattern:
		c.add(Breaking, "pattern-changed", where, "pattern %q -> %q", o.Pattern, n.Pattern)
	}
	switch {
	case o.Format == "" && n.Format != "":
		c.narrowed("format-added", d, where, "format %q added", n.Format)
	case o.Format != "" && n.Format == "":
		c.widened("format-removed", d, where, "format %q removed", o.Format)
	case o.Format != n.Format:
		c.add(Breaking, "format-changed", where, "format %q -> %q", o.Format, n.Format)
	}
	switch {
	case !o.UniqueItems && n.UniqueItems:
		c.narrowed("bound-tightened", d, where, "uniqueItems added")
	case o.UniqueItems && !n.UniqueItems:
		c.widened("bound-loosened", d, where, "uniqueItems removed")
	}
}

func rat(n *gen.Number) *big.Rat {
	if n == nil {
		return nil
	}
	r, ok := new(big.Rat).SetString(n.Literal)
	if !ok {
		return nil
	}
	return r
}

// bound compares one lower (isLow) or upper bound; nil means absent.
func (c *comparer) bound(kw string, ol, nl *gen.Number, isLow bool, where string, d direction) {
	show := func(n *gen.Number) string {
		if n == nil {
			return "none"
		}
		return n.Literal
	}
	o, n := rat(ol), rat(nl)
	var tighter bool
	switch {
	case o == nil && n == nil:
		return
	case o == nil:
		tighter = true
	case n == nil:
		tighter = false
	default:
		cmp := n.Cmp(o)
		if cmp == 0 {
			return
		}
		tighter = cmp > 0 == isLow
	}
	if tighter {
		c.narrowed("bound-tightened", d, where, "%s %s -> %s", kw, show(ol), show(nl))
	} else {
		c.widened("bound-loosened", d, where, "%s %s -> %s", kw, show(ol), show(nl))
	}
}

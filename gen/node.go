package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// NodeKind is the JSON type of a Node.
type NodeKind int

// The JSON types.
const (
	NodeNull NodeKind = iota
	NodeBool
	NodeNumber
	NodeString
	NodeArray
	NodeObject
)

// Node is a parsed JSON value that remembers its file, its JSON pointer and the order of
// its object members.
type Node struct {
	Kind  NodeKind
	File  string
	Ptr   string
	Bool  bool
	Num   json.Number
	Str   string
	Items []*Node
	Keys  []string
	Vals  map[string]*Node
}

// ParseNode parses one JSON document.
func ParseNode(file string, data []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec, file, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: trailing data after the JSON value", file)
	}
	return n, nil
}

func parseValue(dec *json.Decoder, file, ptr string) (*Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	n := &Node{File: file, Ptr: ptr}
	switch t := tok.(type) {
	case nil:
		n.Kind = NodeNull
	case bool:
		n.Kind, n.Bool = NodeBool, t
	case json.Number:
		n.Kind, n.Num = NodeNumber, t
	case string:
		n.Kind, n.Str = NodeString, t
	case json.Delim:
		if t == '[' {
			n.Kind = NodeArray
			for dec.More() {
				item, err := parseValue(dec, file, fmt.Sprintf("%s/%d", ptr, len(n.Items)))
				if err != nil {
					return nil, err
				}
				n.Items = append(n.Items, item)
			}
		} else {
			n.Kind = NodeObject
			n.Vals = map[string]*Node{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key := kt.(string)
				val, err := parseValue(dec, file, ptr+"/"+EscapePointer(key))
				if err != nil {
					return nil, err
				}
				if _, dup := n.Vals[key]; dup {
					return nil, fmt.Errorf("%s: duplicate key %q", ptr, key)
				}
				n.Keys = append(n.Keys, key)
				n.Vals[key] = val
			}
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return nil, err
		}
	}
	return n, nil
}

// EscapePointer escapes one JSON pointer reference token (RFC 6901).
func EscapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Get returns the member key of an object node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != NodeObject {
		return nil
	}
	return n.Vals[key]
}

// StringOf returns the string member key, or "".
func (n *Node) StringOf(key string) string {
	if v := n.Get(key); v != nil && v.Kind == NodeString {
		return v.Str
	}
	return ""
}

// Strings returns the members of an array of strings (non-strings are skipped).
func (n *Node) Strings() []string {
	if n == nil {
		return nil
	}
	var out []string
	for _, it := range n.Items {
		if it.Kind == NodeString {
			out = append(out, it.Str)
		}
	}
	return out
}

// Value converts the node back to plain Go values (map[string]any, []any, json.Number, ...).
func (n *Node) Value() any {
	switch n.Kind {
	case NodeBool:
		return n.Bool
	case NodeNumber:
		return n.Num
	case NodeString:
		return n.Str
	case NodeArray:
		out := make([]any, len(n.Items))
		for i, it := range n.Items {
			out[i] = it.Value()
		}
		return out
	case NodeObject:
		out := make(map[string]any, len(n.Keys))
		for _, k := range n.Keys {
			out[k] = n.Vals[k].Value()
		}
		return out
	}
	return nil
}

// Where formats the node's location as "file: /pointer".
func (n *Node) Where() string {
	p := n.Ptr
	if p == "" {
		p = "/"
	}
	return n.File + ": " + p
}

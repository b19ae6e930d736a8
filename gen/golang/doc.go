package golang

import (
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// docWidth is the column doc comments are wrapped at (counting the "// " prefix).
const docWidth = 100

// sentence turns a schema description into a Go doc sentence about name: "A stored message."
// becomes "Message is a stored message."; a description that does not start with an article
// gets "the" ("Lifecycle status of an agent." -> "AgentStatus is the lifecycle status of an
// agent."). An empty description gives fallback, which is a whole sentence already.
func sentence(name, description, fallback string) string {
	d := strings.TrimSpace(description)
	if d == "" {
		return fallback
	}
	first, rest, _ := strings.Cut(d, " ")
	switch first {
	case "A", "An", "The":
		return name + " is " + strings.ToLower(first) + " " + rest
	}
	if isLowerable(first) {
		d = strings.ToLower(d[:1]) + d[1:]
	}
	return name + " is the " + d
}

// isLowerable reports whether the first word of a description may be lower-cased: an
// ordinary capitalised word, not an acronym or an identifier ("URL", "ISO-8601", "TaskMaster").
func isLowerable(word string) bool {
	if len(word) < 2 {
		return false
	}
	for _, r := range word[1:] {
		if r < 'a' || r > 'z' {
			return r == ',' || r == ':' || r == ';' || r == '.'
		}
	}
	return word[0] >= 'A' && word[0] <= 'Z'
}

// comment renders text as a doc comment wrapped at docWidth columns (indent is the number of
// tabs the comment is indented by, counted as 4 columns each).
func comment(text string, indent int) *jen.Statement {
	lines := gen.Wrap(text, docWidth-3-4*indent)
	s := jen.Comment(lines[0])
	for _, l := range lines[1:] {
		s = s.Line().Comment(l)
	}
	return s
}

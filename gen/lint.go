package gen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Lint checks every catalog file against the meta-schema, then builds the model (which checks
// references, names and that every schema maps to Go) and compiles the bundled schema.
// It returns the model when there are no problems.
func Lint(src *Sources) (*Model, error) {
	probs := metaCheck(src)
	if len(probs) > 0 {
		return nil, probs.sorted()
	}
	m, err := Build(src)
	if err != nil {
		return nil, err
	}
	if err := compileBundle(m.Bundle); err != nil {
		return nil, Problems{{File: "bundle", Pointer: "/", Message: err.Error()}}
	}
	return m, nil
}

// LoadAndLint loads a schema directory and lints it.
func LoadAndLint(dir string) (*Model, error) {
	src, err := LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return Lint(src)
}

func metaCheck(src *Sources) Problems {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource("meta.json", bytes.NewReader(src.Meta)); err != nil {
		return Problems{{File: MetaSchemaFile, Pointer: "/", Message: err.Error()}}
	}
	meta, err := c.Compile("meta.json")
	if err != nil {
		return Problems{{File: MetaSchemaFile, Pointer: "/", Message: "meta-schema does not compile: " + err.Error()}}
	}
	names := make([]string, 0, len(src.Raw))
	for name := range src.Raw {
		names = append(names, name)
	}
	sort.Strings(names)
	var probs Problems
	for _, name := range names {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(src.Raw[name]))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			probs = append(probs, Problem{File: name, Pointer: "/", Message: err.Error()})
			continue
		}
		if err := meta.Validate(doc); err != nil {
			probs = append(probs, validationProblems(name, err)...)
		}
	}
	return probs
}

// validationProblems flattens a jsonschema error to its most specific causes.
func validationProblems(file string, err error) Problems {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Problems{{File: file, Pointer: "/", Message: err.Error()}}
	}
	seen := map[string]bool{}
	var out Problems
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			key := e.InstanceLocation + "\x00" + e.Message
			if !seen[key] {
				seen[key] = true
				out = append(out, Problem{File: file, Pointer: e.InstanceLocation, Message: e.Message})
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// compileBundle proves that every schema in the bundle compiles with jsonschema/v5.
func compileBundle(bundle []byte) error {
	var doc struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(bundle, &doc); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	c := NewBundleCompiler(bundle)
	for name := range doc.Defs {
		if _, err := c.Compile(BundleURL + "#/$defs/" + name); err != nil {
			return fmt.Errorf("schema %s does not compile: %s", name, strings.TrimSpace(err.Error()))
		}
	}
	return nil
}

// BundleURL is the resource name the bundled schema is compiled under.
const BundleURL = "moltzap.json"

// NewBundleCompiler returns a draft 2020-12 compiler that asserts formats and knows the bundle.
func NewBundleCompiler(bundle []byte) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	_ = c.AddResource(BundleURL, bytes.NewReader(bundle)) // the bundle was produced by json.Marshal
	return c
}

// A "pattern" is matched by Go's regexp (RE2 syntax) in the generated decoders and by
// ECMA-262 regular expressions (with the u flag, as JSON Schema validators such as Ajv compile
// them) in the TypeScript client. patternProblem accepts the subset both read the same way:
// literals, escaped metacharacters, \t \n \r \f \v \xHH, character classes spelled out with
// ranges, (...) and (?:...), alternation, the anchors ^ and $ and the quantifiers * + ? {n}
// {n,} {n,m} (greedy or lazy). Everything else is refused with what to write instead:
// shorthand classes (\d \w \s and their negations, \b \B), '.', lookaround, named groups,
// atomic groups, possessive quantifiers, inline flags, backreferences and octal escapes,
// \p{...}, \Q...\E, \x{...}, \A \z \Z, POSIX classes, and the spellings one dialect reads as
// literals and the other rejects or reads otherwise (a lone { } or ], a leading ] in a class,
// identity escapes such as \- outside a class). Finally the pattern must compile with Go's
// regexp.

// checkPatterns reports a non-portable "pattern" of schema n and of its const properties
// (object maps those to their value without building them, so they are checked here, with
// their parent). A problem is not fatal for the node: its type is still built, so the problem
// is reported once even when the definition is referenced many times.
func (b *builder) checkPatterns(n *Node) {
	nodes := []*Node{n}
	if props := n.Get("properties"); props != nil && props.Kind == NodeObject {
		for _, k := range props.Keys {
			if p := props.Vals[k]; p.Get("const") != nil {
				nodes = append(nodes, p)
			}
		}
	}
	for _, s := range nodes {
		p := s.Get("pattern")
		switch {
		case p == nil:
		case p.Kind != NodeString:
			b.probs.add(p, "pattern must be a string")
		default:
			if msg := patternProblem(p.Str); msg != "" {
				b.probs.add(p, "%s", msg)
			}
		}
	}
}

// patternProblem returns why the pattern is not portable between RE2 and ECMA-262, or "".
func patternProblem(p string) string {
	if msg := patternConstruct(p); msg != "" {
		return fmt.Sprintf("pattern %q: %s", p, msg)
	}
	if _, err := regexp.Compile(p); err != nil {
		return fmt.Sprintf("pattern %q does not compile with Go's regexp (RE2): %v", p, err)
	}
	return ""
}

// patternShorthands are the escapes that stand for classes or word boundaries.
var patternShorthands = map[byte]string{
	'd': `use [0-9] instead of \d: shorthand classes are not portable (\d matches every Unicode digit in some dialects)`,
	'D': `use [^0-9] instead of \D: shorthand classes are not portable (\D excludes every Unicode digit in some dialects)`,
	'w': `use [A-Za-z0-9_] instead of \w: \w differs between RE2 and ECMA-262 on non-ASCII input (ECMA-262 with the i flag adds U+017F and U+212A, other dialects all letters)`,
	'W': `use [^A-Za-z0-9_] instead of \W: \W differs between RE2 and ECMA-262 on non-ASCII input`,
	's': `use an explicit class such as [ \t\n\r] instead of \s: \s is [\t\n\f\r ] in RE2 but adds \v and the Unicode spaces (U+00A0, U+2028, U+FEFF, ...) in ECMA-262`,
	'S': `use an explicit class such as [^ \t\n\r] instead of \S: \S differs between RE2 and ECMA-262 on \v and the Unicode spaces`,
	'b': `use explicit alternatives such as (^|[^A-Za-z0-9_]) instead of \b: word boundaries follow \w, which differs between RE2 and ECMA-262 on non-ASCII input`,
	'B': `use explicit alternatives instead of \B: word boundaries follow \w, which differs between RE2 and ECMA-262 on non-ASCII input`,
}

// patternConstruct scans p and describes the first construct that is not portable.
func patternConstruct(p string) string {
	const (
		prevNone   = iota // start, after ( or |: nothing to quantify
		prevAnchor        // ^ or $
		prevAtom
		prevQuant
	)
	prev := prevNone
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			msg, n := patternEscape(p[i:], false)
			if msg != "" {
				return msg
			}
			i += n - 1
			prev = prevAtom
		case '[':
			end, msg := patternClass(p, i)
			if msg != "" {
				return msg
			}
			i = end
			prev = prevAtom
		case '(':
			if strings.HasPrefix(p[i:], "(?") {
				if msg := patternGroup(p[i:]); msg != "" {
					return msg
				}
				i += 2 // "(?:"
			}
			prev = prevNone
		case ')':
			prev = prevAtom
		case '|':
			prev = prevNone
		case '^', '$':
			prev = prevAnchor
		case '.':
			return `use an explicit class such as [^\n] instead of .: ECMA-262's . also excludes \r, U+2028 and U+2029, RE2's only \n`
		case '*', '+', '?', '{':
			n := 1
			if c == '{' {
				n = patternRepeat(p[i:])
				if n == 0 {
					return `write \{ for a literal {: ECMA-262 (u flag) rejects a { that does not start a quantifier {n}, {n,} or {n,m}`
				}
			}
			if prev == prevAnchor {
				return fmt.Sprintf("remove the quantifier %s after an anchor: ECMA-262 (u flag) rejects a quantified ^ or $", p[i:i+n])
			}
			q := i
			i += n - 1
			if prev != prevAtom {
				continue // nothing to repeat, or a doubled quantifier: Go's regexp reports it
			}
			if i+1 < len(p) && p[i+1] == '?' { // lazy
				i++
			}
			if i+1 < len(p) && p[i+1] == '+' {
				return fmt.Sprintf("use %s instead of the possessive %s+: neither RE2 nor ECMA-262 has possessive quantifiers", p[q:i+1], p[q:i+1])
			}
			prev = prevQuant
		case '}':
			return `write \} for a literal }: ECMA-262 (u flag) rejects a lone }`
		case ']':
			return `write \] for a literal ]: ECMA-262 (u flag) rejects a lone ]`
		default:
			prev = prevAtom
		}
	}
	return ""
}

// patternRepeat returns the length of the quantifier {n}, {n,} or {n,m} at the start of s,
// or 0.
func patternRepeat(s string) int {
	i := 1
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if digits() == 0 {
		return 0
	}
	if i < len(s) && s[i] == ',' {
		i++
		digits()
	}
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	return 0
}

// patternGroup checks a group opened with "(?".
func patternGroup(s string) string {
	rest := s[2:]
	switch {
	case strings.HasPrefix(rest, ":"):
		return ""
	case strings.HasPrefix(rest, "="):
		return "rewrite the pattern without the lookahead (?=...): RE2 has no lookaround"
	case strings.HasPrefix(rest, "!"):
		return "rewrite the pattern without the negative lookahead (?!...): RE2 has no lookaround"
	case strings.HasPrefix(rest, "<="):
		return "rewrite the pattern without the lookbehind (?<=...): RE2 has no lookaround"
	case strings.HasPrefix(rest, "<!"):
		return "rewrite the pattern without the negative lookbehind (?<!...): RE2 has no lookaround"
	case strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, "P="), strings.HasPrefix(rest, "P>"):
		return "use a plain group (...) or (?:...) instead of the named group (?P<name>...): (?P< is RE2 only, and a pattern only tests whether a string matches"
	case strings.HasPrefix(rest, "<"):
		return "use a plain group (...) or (?:...) instead of the named group (?<name>...): older RE2 versions lack it, and a pattern only tests whether a string matches"
	case strings.HasPrefix(rest, ">"):
		return "use a plain group (?:...) instead of the atomic group (?>...): neither RE2 nor ECMA-262 has atomic groups"
	case len(rest) > 0 && (rest[0] == '-' || rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= 'A' && rest[0] <= 'Z'):
		end := strings.IndexAny(rest, ":)")
		if end < 0 {
			end = len(rest) - 1
		}
		return fmt.Sprintf("remove the inline flags (?%s: they are RE2 only; spell case variants out ([Aa]) and line ends explicitly", rest[:end+1])
	}
	return "use (...) or (?:...) instead of (?" + patternFirstRune(rest) + ": it is not a group both RE2 and ECMA-262 know"
}

// patternClass checks the character class starting at p[start] == '[' and returns the index
// of its closing ']'.
func patternClass(p string, start int) (int, string) {
	i := start + 1
	if i < len(p) && p[i] == '^' {
		i++
	}
	if i < len(p) && p[i] == ']' {
		return 0, `write \] for a ] at the start of a class: RE2 reads [] and [^] as the start of a class holding ], ECMA-262 as an empty class`
	}
	for ; i < len(p); i++ {
		switch p[i] {
		case ']':
			return i, ""
		case '\\':
			msg, n := patternEscape(p[i:], true)
			if msg != "" {
				return 0, msg
			}
			i += n - 1
		case '[':
			if i+1 < len(p) && p[i+1] == ':' {
				return 0, `spell the class out with ranges (e.g. [A-Za-z] for [:alpha:]) instead of a POSIX class [:name:]: it is RE2 only (write \[ for a literal [)`
			}
		}
	}
	return len(p), "" // unterminated: Go's regexp reports it
}

// patternEscape checks the escape at the start of s (s[0] == '\\') and returns its length.
func patternEscape(s string, inClass bool) (string, int) {
	if len(s) < 2 {
		return `write \\ for a literal backslash: the pattern ends with a lone \`, 1
	}
	c := s[1]
	if msg, ok := patternShorthands[c]; ok {
		if inClass && c == 'b' {
			return `use \x08 instead of \b inside a class: it is a backspace in ECMA-262 and an error in RE2`, 2
		}
		return msg, 2
	}
	switch {
	case c == 't' || c == 'n' || c == 'r' || c == 'f' || c == 'v':
		return "", 2
	case c == 'x':
		if len(s) > 2 && s[2] == '{' {
			return `use \xHH (for U+0000..U+00FF) or the character itself instead of \x{...}: \x{...} is RE2 only`, 3
		}
		if len(s) < 4 || !patternIsHex(s[2]) || !patternIsHex(s[3]) {
			return `write \x with exactly two hex digits (\xHH)`, 2
		}
		return "", 4
	case c >= '1' && c <= '9':
		return fmt.Sprintf(`rewrite the pattern without \%c: it is a backreference in ECMA-262 and an octal escape in RE2 (which has no backreferences)`, c), 2
	case c == '0':
		return `use \x00 instead of \0: octal escapes differ between RE2 and ECMA-262`, 2
	case c == 'p' || c == 'P':
		return fmt.Sprintf(`spell the class out with ranges instead of the Unicode class \%c{...}: RE2 and ECMA-262 name Unicode classes differently (and ECMA-262 needs the u flag)`, c), 2
	case c == 'A':
		return `use ^ instead of \A: \A is RE2 only (without flags ^ anchors at the start of the string in both)`, 2
	case c == 'z':
		return `use $ instead of \z: \z is RE2 only (without flags $ anchors at the end of the string in both)`, 2
	case c == 'Z':
		return `use $ instead of \Z: neither RE2 nor ECMA-262 has \Z`, 2
	case c == 'Q' || c == 'E':
		return `escape each metacharacter with \ instead of quoting with \Q...\E: \Q...\E is RE2 only`, 2
	case c == 'a':
		return `use \x07 instead of \a: \a is RE2 only`, 2
	case c == 'u':
		return `write the character itself (or \xHH for U+0000..U+00FF) instead of \u: \u is ECMA-262 only`, 2
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return fmt.Sprintf(`remove the escape \%c: it is not an escape RE2 and ECMA-262 share`, c), 2
	case strings.IndexByte(`^$\.*+?()[]{}|/`, c) >= 0:
		return "", 2
	case c == '-' && inClass:
		return "", 2
	case c < utf8.RuneSelf:
		return fmt.Sprintf(`write %c without the backslash: ECMA-262 (u flag) rejects the escape \%c`, c, c), 2
	}
	r := patternFirstRune(s[1:])
	return fmt.Sprintf(`write %s without the backslash: neither RE2 nor ECMA-262 (u flag) allows escaping it`, r), 1 + len(r)
}

func patternIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func patternFirstRune(s string) string {
	if s == "" {
		return ""
	}
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

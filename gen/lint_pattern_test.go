package gen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Patterns that read the same in RE2 and ECMA-262 (u flag).
var portablePatterns = []string{
	``,
	`abc`,
	`^(0|[1-9][0-9]{0,18})$`,
	`^[a-z0-9][a-z0-9_-]{1,30}[a-z0-9]$`,
	`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$`,
	`^[a-z][a-zA-Z]*(/[a-z][a-zA-Z]*)*$`,
	`^[0-9]+(\.[0-9]+)*$`,
	`^(?:ab|cd)+?$`,
	`a*?b+?c??d{2}e{2,}?f{2,5}`,
	`\^\$\\\.\*\+\?\(\)\[\]\{\}\|\/`,
	`[\^\-\]\\a-z]`,
	`[-a]`, `[a-]`, `[^a-z]`, `[[]`, `[a[b]`, `[.*+?(){}|$^]`,
	`\t\n\r\f\v\x41\xfF`,
	`^é+ü*[à-ÿ]$`,
	`^😀+$`,
	`()`, `(|a)`, `a|`,
	`x{1000}`,
}

func TestPatternPortable(t *testing.T) {
	for _, p := range portablePatterns {
		if msg := patternProblem(p); msg != "" {
			t.Errorf("patternProblem(%q) = %q, want portable", p, msg)
		}
	}
}

func TestPatternNotPortable(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{`^\d+$`, `use [0-9] instead of \d`},
		{`\D`, `use [^0-9] instead of \D`},
		{`[\d]`, `use [0-9] instead of \d`},
		{`\w`, `use [A-Za-z0-9_] instead of \w`},
		{`[^\W]`, `use [^A-Za-z0-9_] instead of \W`},
		{`\s`, `instead of \s: \s is [\t\n\f\r ] in RE2`},
		{`\S`, `instead of \S`},
		{`\bword\b`, `instead of \b`},
		{`\B`, `instead of \B`},
		{`[\b]`, `use \x08 instead of \b inside a class`},
		{`a.b`, `instead of .`},
		{`(?=a)`, `lookahead (?=`},
		{`(?!a)`, `negative lookahead (?!`},
		{`(?<=a)b`, `lookbehind (?<=`},
		{`(?<!a)b`, `negative lookbehind (?<!`},
		{`(?P<name>a)`, `named group (?P<name>`},
		{`(?P=name)`, `named group (?P<name>`},
		{`(?<name>a)`, `named group (?<name>`},
		{`(?>a)`, `atomic group (?>`},
		{`(?i)abc`, `inline flags (?i)`},
		{`(?i:abc)`, `inline flags (?i:`},
		{`(?s)a`, `inline flags (?s)`},
		{`(?-m)a`, `inline flags (?-m)`},
		{`(?U)a+`, `inline flags (?U)`},
		{`(?#comment)`, `instead of (?#`},
		{`a*+`, `use * instead of the possessive *+`},
		{`a++`, `use + instead of the possessive ++`},
		{`a?+`, `use ? instead of the possessive ?+`},
		{`a{2}+`, `use {2} instead of the possessive {2}+`},
		{`a*?+`, `use *? instead of the possessive *?+`},
		{`(a)\1`, `without \1: it is a backreference in ECMA-262 and an octal escape in RE2`},
		{`\9`, `without \9`},
		{`\0`, `use \x00 instead of \0`},
		{`\012`, `use \x00 instead of \0`},
		{`\p{L}`, `Unicode class \p{...}`},
		{`\pL`, `Unicode class \p{...}`},
		{`[\P{Greek}]`, `Unicode class \P{...}`},
		{`\Aabc`, `use ^ instead of \A`},
		{`abc\z`, `use $ instead of \z`},
		{`abc\Z`, `use $ instead of \Z`},
		{`\Q*+\E`, `instead of quoting with \Q...\E`},
		{`\x{263a}`, `instead of \x{...}`},
		{`\x4`, `\x with exactly two hex digits`},
		{`\xg0`, `\x with exactly two hex digits`},
		{`\u0041`, `instead of \u`},
		{`\a`, `use \x07 instead of \a`},
		{`\cA`, `remove the escape \c`},
		{`\k<x>`, `remove the escape \k`},
		{`\e`, `remove the escape \e`},
		{`\-`, `write - without the backslash`},
		{`\_`, `write _ without the backslash`},
		{`\:`, `write : without the backslash`},
		{`\ `, `write   without the backslash`},
		{`[\_]`, `write _ without the backslash`},
		{`\é`, `write é without the backslash`},
		{`abc\`, `lone \`},
		{`[[:alpha:]]`, `instead of a POSIX class [:name:]`},
		{`[a[:digit:]]`, `instead of a POSIX class [:name:]`},
		{`[]a]`, `write \] for a ] at the start of a class`},
		{`[^]a]`, `write \] for a ] at the start of a class`},
		{`a{`, `write \{ for a literal {`},
		{`a{,3}`, `write \{ for a literal {`},
		{`a{x}`, `write \{ for a literal {`},
		{`{`, `write \{ for a literal {`},
		{`a}`, `write \} for a literal }`},
		{`a]`, `write \] for a literal ]`},
		{`^*a`, `remove the quantifier * after an anchor`},
		{`a$+`, `remove the quantifier + after an anchor`},
		{`^{2}`, `remove the quantifier {2} after an anchor`},
		// Go's regexp does not compile these.
		{`(ab`, `does not compile with Go's regexp`},
		{`ab)`, `does not compile with Go's regexp`},
		{`[ab`, `does not compile with Go's regexp`},
		{`*a`, `does not compile with Go's regexp`},
		{`a**`, `does not compile with Go's regexp`},
		{`a*{2}`, `does not compile with Go's regexp`},
		{`[z-a]`, `does not compile with Go's regexp`},
		{`a{1001}`, `does not compile with Go's regexp`},
		{`a{3,2}`, `does not compile with Go's regexp`},
		{`|*`, `does not compile with Go's regexp`},
	} {
		msg := patternProblem(c.pattern)
		if !strings.Contains(msg, c.want) {
			t.Errorf("patternProblem(%q) = %q, want it to mention %q", c.pattern, msg, c.want)
		}
	}
}

// TestPatternRandomNeverCrashes: arbitrary patterns get a verdict, and a portable verdict
// implies that Go's regexp compiles the pattern.
func TestPatternRandomNeverCrashes(t *testing.T) {
	alphabet := []string{`\`, `[`, `]`, `(`, `)`, `?`, `*`, `+`, `{`, `}`, `,`, `|`, `^`, `$`, `.`, `-`, `:`, `=`, `!`, `<`, `>`, `P`, `a`, `1`, `2`, `d`, `x`, `f`, `é`}
	state := uint64(7)
	next := func(n int) int {
		state = state*6364136223846793005 + 1442695040888963407
		return int(state>>33) % n
	}
	for n := 0; n < 200000; n++ {
		var b strings.Builder
		for k := next(10); k > 0; k-- {
			b.WriteString(alphabet[next(len(alphabet))])
		}
		p := b.String()
		if patternProblem(p) == "" {
			if _, err := regexp.Compile(p); err != nil {
				t.Fatalf("patternProblem(%q) accepts a pattern Go's regexp rejects: %v", p, err)
			}
		}
	}
}

// TestPatternBrokenCatalog: every non-portable pattern of testdata/fixtures/badpattern, in
// each position a schema can take (definitions, properties, array items, map values, nullable
// and union arms, params, results, notifications, callbacks, error data), is reported once,
// at the file and JSON pointer of its pattern keyword, and nothing else is.
func TestPatternBrokenCatalog(t *testing.T) {
	_, err := LoadAndLint("../testdata/fixtures/badpattern")
	probs, ok := err.(Problems)
	if !ok {
		t.Fatalf("lint: %v", err)
	}
	want := map[string]string{
		"defs.json: /$defs/Digits/pattern":                                          `use [0-9] instead of \d`,
		"defs.json: /$defs/Dotted/pattern":                                          `instead of .`,
		"defs.json: /$defs/Broken/pattern":                                          `does not compile with Go's regexp`,
		"defs.json: /$defs/Tags/items/pattern":                                      `POSIX class`,
		"defs.json: /$defs/Labels/additionalProperties/pattern":                     `lookahead (?=`,
		"defs.json: /$defs/Thing/properties/c/pattern":                              `named group (?P<name>`,
		"defs.json: /$defs/Thing/properties/d/oneOf/0/pattern":                      `use $ instead of \z`,
		"errors.json: /errors/Forbidden/data/properties/why/pattern":                `use [A-Za-z0-9_] instead of \w`,
		"taskmaster.json: /callbacks/things~1approve/params/properties/why/pattern": `instead of \S`,
		"things.json: /methods/things~1make/params/properties/code/pattern":         `inline flags (?i)`,
		"things.json: /methods/things~1make/result/properties/ref/pattern":          `without \1`,
		"things.json: /methods/things~1open/params/oneOf/0/properties/key/pattern":  `Unicode class \p{...}`,
		"things.json: /notifications/things~1made/params/properties/n/pattern":      `write \{ for a literal {`,
	}
	seen := map[string]int{}
	for _, p := range probs {
		where := p.File + ": " + p.Pointer
		seen[where]++
		w, ok := want[where]
		switch {
		case !ok:
			t.Errorf("unexpected problem %s", p)
		case !strings.Contains(p.Message, w):
			t.Errorf("%s: message %q does not mention %q", where, p.Message, w)
		}
	}
	for where := range want {
		if seen[where] != 1 {
			t.Errorf("%s: reported %d times, want once", where, seen[where])
		}
	}
}

// TestPatternEveryStringSchemaChecked puts a non-portable pattern on every string schema of
// the fixture catalog and of the real catalog, and expects each one reported.
func TestPatternEveryStringSchemaChecked(t *testing.T) {
	for _, src := range []string{"../testdata/fixtures/full", "../schema"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			dir := t.TempDir()
			files, err := filepath.Glob(filepath.Join(src, "*.json"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no catalog files in %s: %v", src, err)
			}
			var injected []string
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var doc any
				if err := json.Unmarshal(raw, &doc); err != nil {
					t.Fatal(err)
				}
				name := filepath.Base(f)
				injectPattern(doc, "", func(ptr string) { injected = append(injected, name+": "+ptr+"/pattern") })
				out, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if len(injected) < 5 {
				t.Fatalf("only %d string schemas in %s", len(injected), src)
			}
			_, err = LoadAndLint(dir)
			probs, _ := err.(Problems)
			reported := map[string]bool{}
			for _, p := range probs {
				if strings.Contains(p.Message, `instead of \d`) {
					reported[p.File+": "+p.Pointer] = true
				}
			}
			for _, where := range injected {
				if !reported[where] {
					t.Errorf("the pattern at %s was not checked", where)
				}
			}
		})
	}
}

// injectPattern sets a non-portable pattern (and an example) on every object with
// "type": "string", skipping values that are data rather than schemas.
func injectPattern(v any, ptr string, found func(string)) {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "string" {
			x["pattern"] = `^\d+$`
			x["examples"] = []any{"1"}
			found(ptr)
		}
		for k, val := range x {
			switch k {
			case "examples", "default", "const", "enum":
				continue
			}
			injectPattern(val, ptr+"/"+EscapePointer(k), found)
		}
	case []any:
		for i, val := range x {
			injectPattern(val, ptr+"/"+strconv.Itoa(i), found)
		}
	}
}

// TestPatternsOfRealCatalogArePortable: the real catalog and the fixture lint clean, so every
// pattern they hold passes the rule.
func TestPatternsOfRealCatalogArePortable(t *testing.T) {
	for _, dir := range []string{"../schema", "../testdata/fixtures/full"} {
		if _, err := LoadAndLint(dir); err != nil {
			t.Errorf("lint %s:\n%v", dir, err)
		}
	}
}

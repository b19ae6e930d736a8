package diff

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/gen"
)

const fixtures = "../../testdata/diff"

// kinds is the verdict of every rule. Each rule has a fixture pair testdata/diff/<rule>/ (and
// optionally more, testdata/diff/<rule>--<variant>/, for further keywords of the same rule).
var kinds = map[string]string{
	"method-removed":        Breaking,
	"method-added":          Compatible,
	"callback-removed":      Breaking,
	"callback-added":        Compatible,
	"notification-removed":  Breaking,
	"notification-added":    Compatible,
	"error-removed":         Breaking,
	"error-added":           Compatible,
	"error-code-changed":    Breaking,
	"error-message-changed": Compatible,
	"error-data-added":      Breaking,
	"error-data-removed":    Breaking,
	"description-changed":   Compatible,
	"recipients-changed":    Compatible,
	"version-changed":       Compatible,
	"callers-narrowed":      Breaking,
	"callers-widened":       Compatible,
	"requires-added":        Breaking,
	"requires-removed":      Compatible,
	"method-error-added":    Compatible,
	"method-error-removed":  Compatible,

	"field-removed":                    Breaking,
	"required-field-added":             Breaking,
	"optional-field-added-request":     Compatible,
	"optional-field-added-response":    Breaking,
	"field-made-required-request":      Breaking,
	"field-made-required-response":     Compatible,
	"field-made-optional-request":      Compatible,
	"field-made-optional-response":     Breaking,
	"field-made-nullable-request":      Compatible,
	"field-made-nullable-response":     Breaking,
	"field-made-non-nullable-request":  Breaking,
	"field-made-non-nullable-response": Compatible,
	"type-changed":                     Breaking,
	"type-renamed":                     Compatible,
	"const-changed":                    Breaking,
	"enum-value-removed-request":       Breaking,
	"enum-value-removed-response":      Compatible,
	"enum-value-added-request":         Compatible,
	"enum-value-added-response":        Breaking,
	"bound-tightened-request":          Breaking,
	"bound-tightened-response":         Compatible,
	"bound-loosened-request":           Compatible,
	"bound-loosened-response":          Breaking,
	"pattern-changed":                  Breaking,
	"format-added-request":             Breaking,
	"format-added-response":            Compatible,
	"format-removed-request":           Compatible,
	"format-removed-response":          Breaking,
	"format-changed":                   Breaking,
	"union-arm-removed-request":        Breaking,
	"union-arm-removed-response":       Compatible,
	"union-arm-added-request":          Compatible,
	"union-arm-added-response":         Breaking,
}

func load(t *testing.T, dir string) *gen.Model {
	t.Helper()
	m, err := gen.LoadAndLint(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

// TestRules: each fixture pair yields its rule with the rule's kind, and no other breaking
// change (so a compatible change is not also reported as breaking under another rule).
func TestRules(t *testing.T) {
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		rule, _, _ := strings.Cut(name, "--")
		t.Run(name, func(t *testing.T) {
			want, ok := kinds[rule]
			if !ok {
				t.Fatalf("fixture %s names no known rule", name)
			}
			covered[rule] = true
			r := Compare(load(t, filepath.Join(fixtures, name, "old")), load(t, filepath.Join(fixtures, name, "new")))
			found := false
			for _, c := range r.Changes {
				if kinds[c.Rule] == "" {
					t.Errorf("change under an undocumented rule: %+v", c)
				}
				if kinds[c.Rule] != c.Kind {
					t.Errorf("rule %s reported as %s, want %s", c.Rule, c.Kind, kinds[c.Rule])
				}
				if c.Rule == rule && c.Kind == want {
					found = true
				} else if c.Kind == Breaking && want == Compatible {
					t.Errorf("unexpected breaking change: %+v", c)
				}
			}
			if !found {
				t.Errorf("no %s change of rule %s; report:\n%s", want, rule, r.Text())
			}
			if r.Breaking() != (want == Breaking) && want == Breaking {
				t.Errorf("Breaking() = %v", r.Breaking())
			}
			if want == Compatible && r.Breaking() {
				t.Errorf("compatible fixture reports breaking:\n%s", r.Text())
			}
			// The reverse direction of a change is a change too.
			if back := Compare(load(t, filepath.Join(fixtures, name, "new")), load(t, filepath.Join(fixtures, name, "old"))); len(back.Changes) == 0 {
				t.Errorf("reverse comparison finds no change")
			}
		})
	}
	for rule := range kinds {
		if !covered[rule] {
			t.Errorf("rule %s has no fixture pair under %s", rule, fixtures)
		}
	}
}

// TestIdentical: a catalog compared with itself has no changes (the real catalog and the fixture).
func TestIdentical(t *testing.T) {
	for _, dir := range []string{"../../schema", "../../testdata/fixtures/full"} {
		r := Compare(load(t, dir), load(t, dir))
		if len(r.Changes) != 0 || r.Breaking() {
			t.Errorf("%s: %s", dir, r.Text())
		}
		if r.Text() != "no changes\n" {
			t.Errorf("%s: Text() = %q", dir, r.Text())
		}
		out, err := r.JSON()
		if err != nil || string(out) != "{\n  \"breaking\": false,\n  \"changes\": []\n}\n" {
			t.Errorf("%s: JSON() = %s, %v", dir, out, err)
		}
	}
}

// TestOutput: breaking changes come first; Text and JSON carry every change.
func TestOutput(t *testing.T) {
	old := load(t, filepath.Join(fixtures, "error-removed", "old"))
	r := Compare(old, load(t, filepath.Join(fixtures, "error-removed", "new")))
	lines := strings.Split(strings.TrimSuffix(r.Text(), "\n"), "\n")
	if len(lines) != len(r.Changes) || len(lines) < 2 {
		t.Fatalf("Text:\n%s", r.Text())
	}
	if lines[0] != "breaking: error Oops: error -32050 removed (or renamed)" {
		t.Errorf("first line %q", lines[0])
	}
	seenCompatible := false
	for _, l := range lines {
		if strings.HasPrefix(l, "compatible: ") {
			seenCompatible = true
		} else if !strings.HasPrefix(l, "breaking: ") || seenCompatible {
			t.Errorf("line out of order or malformed: %q", l)
		}
	}
	out, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Breaking bool     `json:"breaking"`
		Changes  []Change `json:"changes"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || !doc.Breaking || len(doc.Changes) != len(r.Changes) {
		t.Errorf("JSON = %s (%v)", out, err)
	}
	if doc.Changes[0].Rule != "error-removed" || doc.Changes[0].Where != "error Oops" {
		t.Errorf("first JSON change %+v", doc.Changes[0])
	}
	if Compare(nil, old).Breaking() || !Compare(old, nil).Breaking() {
		t.Error("nil models: adding everything must be compatible, removing everything breaking")
	}
}

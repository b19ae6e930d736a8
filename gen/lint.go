package gen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

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

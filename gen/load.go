package gen

import (
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/moltzap/moltzap-go/schema"
)

// Fixed file names inside a schema directory.
const (
	VersionFile    = "version.json"
	DefsFile       = "defs.json"
	ErrorsFile     = "errors.json"
	CallbacksFile  = "taskmaster.json"
	MetaSchemaFile = "meta/catalog.schema.json"
)

// Sources are the parsed catalog files of one schema directory.
type Sources struct {
	Dir   string
	Files map[string]*Node // by slash path relative to the directory
	Raw   map[string][]byte
	Meta  []byte // the meta-schema
}

// Areas returns the area catalog file names in sorted order.
func (s *Sources) Areas() []string {
	var out []string
	for name := range s.Files {
		switch name {
		case VersionFile, DefsFile, ErrorsFile, CallbacksFile:
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// LoadDir reads a schema directory from disk.
func LoadDir(dir string) (*Sources, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("schema directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("schema directory: %s is not a directory", dir)
	}
	return Load(os.DirFS(dir), dir)
}

// Load reads the catalog files (every top-level *.json) and the meta-schema from fsys.
// A file that is not valid JSON is reported as a Problem.
func Load(fsys fs.FS, dir string) (*Sources, error) {
	src := &Sources{Dir: dir, Files: map[string]*Node{}, Raw: map[string][]byte{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read schema directory %s: %w", dir, err)
	}
	var probs Problems
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		n, err := ParseNode(e.Name(), data)
		if err != nil {
			probs = append(probs, Problem{File: e.Name(), Pointer: "/", Message: "not valid JSON: " + strings.TrimPrefix(err.Error(), e.Name()+": ")})
			continue
		}
		src.Files[e.Name()], src.Raw[e.Name()] = n, data
	}
	meta, err := fs.ReadFile(fsys, MetaSchemaFile)
	if err != nil { // a catalog directory without its own meta-schema is checked by the built-in one
		meta, err = fs.ReadFile(schema.Files, MetaSchemaFile)
		if err != nil {
			return nil, fmt.Errorf("built-in meta-schema: %w", err)
		}
	}
	src.Meta = meta
	for _, required := range []string{VersionFile, DefsFile, ErrorsFile, CallbacksFile} {
		if _, ok := src.Files[required]; !ok && !hasProblemFor(probs, required) {
			probs = append(probs, Problem{File: required, Pointer: "/", Message: "required catalog file is missing"})
		}
	}
	if err := probs.errOrNil(); err != nil {
		return src, err
	}
	return src, nil
}

func hasProblemFor(ps Problems, file string) bool {
	for _, p := range ps {
		if p.File == file {
			return true
		}
	}
	return false
}

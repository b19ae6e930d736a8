package gen

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one defect in the catalogs, located by file and JSON pointer.
type Problem struct {
	File    string
	Pointer string
	Message string
}

// String formats the problem as "file: /json/pointer: message".
func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "/"
	}
	return fmt.Sprintf("%s: %s: %s", p.File, ptr, p.Message)
}

// Problems is a list of catalog defects; as an error it prints one per line.
type Problems []Problem

// Error joins the problems, one per line, in a stable order.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps *Problems) add(n *Node, format string, args ...any) {
	*ps = append(*ps, Problem{File: n.File, Pointer: n.Ptr, Message: fmt.Sprintf(format, args...)})
}

func (ps Problems) sorted() Problems {
	out := append(Problems(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Pointer < out[j].Pointer
	})
	return out
}

// errOrNil returns the problems as an error, or nil when there are none.
func (ps Problems) errOrNil() error {
	if len(ps) == 0 {
		return nil
	}
	return ps.sorted()
}

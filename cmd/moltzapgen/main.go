// Command moltzapgen checks the MoltZap protocol catalogs and generates code and docs from
// them. Exit codes: 0 ok, 1 problems found (or an I/O failure), 2 usage errors.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and maps its outcome to an exit code.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var fe *failure
	if errors.As(err, &fe) {
		fmt.Fprintln(root.ErrOrStderr(), fe.Error())
		return 1
	}
	fmt.Fprintf(root.ErrOrStderr(), "moltzapgen: %v\nRun 'moltzapgen --help' for usage.\n", err)
	return 2
}

// failure is an error found while doing the work (catalog problems, I/O), exit code 1.
// Anything else returned by the command tree is a usage error, exit code 2.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(err error) error {
	if err == nil {
		return nil
	}
	return &failure{err: err}
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
	"github.com/moltzap/moltzap-go/gen/diff"
	"github.com/spf13/cobra"
)

// errBreaking makes `moltzapgen diff` exit 1 after printing its report.
var errBreaking = errors.New("breaking changes")

func newDiffCmd() *cobra.Command {
	var against, schemaDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff OLD NEW | diff --against GIT_REF",
		Short: "Classify the changes between two catalogs as breaking or compatible (exit 1 on a breaking change)",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case against != "" && len(args) != 0:
				return errors.New("give either two schema directories or --against, not both")
			case against == "" && len(args) != 2:
				return fmt.Errorf("want two schema directories (OLD NEW) or --against GIT_REF, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			oldDir, newDir := "", schemaDir
			if against != "" {
				dir, cleanup, err := schemaAtRef(against, schemaDir)
				if err != nil {
					return fail(err)
				}
				defer cleanup()
				oldDir = dir
			} else {
				oldDir, newDir = args[0], args[1]
			}
			report, err := compareDirs(oldDir, newDir)
			if err != nil {
				return fail(err)
			}
			out := []byte(report.Text())
			if asJSON {
				if out, err = report.JSON(); err != nil {
					return fail(err)
				}
			}
			if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return fail(err)
			}
			if report.Breaking() {
				return fail(errBreaking)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&against, "against", "", "compare the catalog at this git ref with --schema")
	cmd.Flags().StringVar(&schemaDir, "schema", "schema", "catalog directory (with --against)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the changes as JSON")
	return cmd
}

func compareDirs(oldDir, newDir string) (diff.Report, error) {
	oldModel, err := gen.LoadAndLint(oldDir)
	if err != nil {
		return diff.Report{}, fmt.Errorf("old catalog %s: %w", oldDir, err)
	}
	newModel, err := gen.LoadAndLint(newDir)
	if err != nil {
		return diff.Report{}, fmt.Errorf("new catalog %s: %w", newDir, err)
	}
	return diff.Compare(oldModel, newModel), nil
}

// schemaAtRef writes the catalog directory dir as it is at git ref into a temporary
// directory, with `git archive`.
func schemaAtRef(ref, dir string) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "moltzapgen-diff-")
	if err != nil {
		return "", nil, fmt.Errorf("temporary directory: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	top, rel, err := repoPath(dir)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	var stderr bytes.Buffer
	archive := exec.Command("git", "-C", top, "archive", "--format=tar", ref, rel)
	archive.Stderr = &stderr
	tarball, err := archive.Output()
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("git archive %s %s: %v: %s", ref, rel, err, strings.TrimSpace(stderr.String()))
	}
	untar := exec.Command("tar", "-x", "-C", tmp)
	untar.Stdin = bytes.NewReader(tarball)
	if out, err := untar.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("unpack %s at %s: %v: %s", rel, ref, err, out)
	}
	return filepath.Join(tmp, rel), cleanup, nil
}

// repoPath returns the top of the git work tree holding dir and dir relative to it.
func repoPath(dir string) (top, rel string, err error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs) // git reports the resolved top
	}
	if err != nil {
		return "", "", fmt.Errorf("schema directory %s: %w", dir, err)
	}
	out, err := exec.Command("git", "-C", abs, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", "", fmt.Errorf("%s is not inside a git work tree: %w", dir, err)
	}
	top = strings.TrimSpace(string(out))
	if rel, err = filepath.Rel(top, abs); err != nil {
		return "", "", fmt.Errorf("schema directory %s: %w", dir, err)
	}
	return top, filepath.ToSlash(rel), nil
}

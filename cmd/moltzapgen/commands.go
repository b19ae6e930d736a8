package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/moltzap/moltzap-go/internal/buildinfo"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
	"github.com/moltzap/moltzap-go/gen/golang"
	"github.com/moltzap/moltzap-go/gen/markdown"
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Version:       buildinfo.Read().String(),
		Use:           "moltzapgen",
		Short:         "Check the MoltZap protocol catalogs and generate code and docs from them",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs, // an unknown subcommand is a usage error (exit 2)
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.AddCommand(newGenerateCmd(), newLintCmd(), newCatalogCmd(), newDocsCmd(), newDiffCmd())
	return root
}

func newGenerateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "generate", Short: "Generate code from the catalogs", Args: cobra.ArbitraryArgs, RunE: unknownTarget}
	var schemaDir, outDir, pkg string
	goCmd := &cobra.Command{
		Use:   "go",
		Short: "Generate the Go package (typed messages, validators, handler tables, errors, stubs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := gen.LoadAndLint(schemaDir)
			if err != nil {
				return fail(err)
			}
			files, err := golang.Emit(m, pkg)
			if err != nil {
				return fail(err)
			}
			return fail(writeDir(outDir, files))
		},
	}
	goCmd.Flags().StringVar(&schemaDir, "schema", "schema", "catalog directory")
	goCmd.Flags().StringVar(&outDir, "out", "generated/protocol", "output directory")
	goCmd.Flags().StringVar(&pkg, "package", "protocol", "Go package name")
	cmd.AddCommand(goCmd, newTypeScriptCmd(), newPythonCmd(), newOpenRPCCmd())
	return cmd
}

func newLintCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lint [schema-dir]",
		Short: "Check the catalogs; problems print as 'file: /json/pointer: message' (exit 1)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "schema"
			if len(args) == 1 {
				dir = args[0]
			}
			m, err := gen.LoadAndLint(dir)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d methods, %d notifications, %d callbacks, %d errors, %d types)\n",
				dir, len(m.Methods), len(m.Notifications), len(m.Callbacks), len(m.Errors), len(m.Types))
			return nil
		},
	}
}

func newCatalogCmd() *cobra.Command {
	var schemaDir, format string
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List every method with its callers, notification, callback and error with its code",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "json" && format != "text" {
				return fmt.Errorf("--format must be json or text, not %q", format)
			}
			m, err := gen.LoadAndLint(schemaDir)
			if err != nil {
				return fail(err)
			}
			if format == "json" {
				return fail(writeCatalogJSON(cmd.OutOrStdout(), m))
			}
			return fail(writeCatalogText(cmd.OutOrStdout(), m))
		},
	}
	cmd.Flags().StringVar(&schemaDir, "schema", "schema", "catalog directory")
	cmd.Flags().StringVar(&format, "format", "text", "output format: json or text")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"json", "text"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newDocsCmd() *cobra.Command {
	var schemaDir, out string
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Write the Markdown protocol reference generated from the catalogs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := gen.LoadAndLint(schemaDir)
			if err != nil {
				return fail(err)
			}
			doc := markdown.Render(m)
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(doc)
				return fail(err)
			}
			return fail(writeIfChanged(out, doc))
		},
	}
	cmd.Flags().StringVar(&schemaDir, "schema", "schema", "catalog directory")
	cmd.Flags().StringVar(&out, "out", "docs/protocol.md", "output file, - for standard output")
	return cmd
}

type catalogMethod struct {
	Name     string   `json:"name"`
	Area     string   `json:"area"`
	Callers  []string `json:"callers,omitempty"`
	Requires []string `json:"requires,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

type catalogEntry struct {
	Name       string `json:"name"`
	Area       string `json:"area,omitempty"`
	Recipients string `json:"recipients,omitempty"`
}

type catalogError struct {
	Name    string `json:"name"`
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

func writeCatalogJSON(w io.Writer, m *gen.Model) error {
	out := struct {
		Version       string          `json:"version"`
		Methods       []catalogMethod `json:"methods"`
		Notifications []catalogEntry  `json:"notifications"`
		Callbacks     []catalogMethod `json:"callbacks"`
		Errors        []catalogError  `json:"errors"`
	}{Version: m.Version}
	for _, x := range m.Methods {
		out.Methods = append(out.Methods, catalogMethod{x.Name, x.Area, x.Callers, x.Requires, x.Errors})
	}
	for _, x := range m.Callbacks {
		out.Callbacks = append(out.Callbacks, catalogMethod{x.Name, x.Area, x.Callers, x.Requires, x.Errors})
	}
	for _, n := range m.Notifications {
		out.Notifications = append(out.Notifications, catalogEntry{n.Name, n.Area, n.Recipients})
	}
	for _, e := range m.Errors {
		out.Errors = append(out.Errors, catalogError{e.Name, e.Code, e.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeCatalogText(w io.Writer, m *gen.Model) error {
	var b strings.Builder
	fmt.Fprintf(&b, "protocol %s\n\nmethods (%d)\n", m.Version, len(m.Methods))
	for _, x := range m.Methods {
		callers := strings.Join(x.Callers, ",")
		if len(x.Requires) > 0 {
			callers += " (" + strings.Join(x.Requires, ",") + ")"
		}
		fmt.Fprintf(&b, "  %-40s %s\n", x.Name, callers)
	}
	fmt.Fprintf(&b, "\nnotifications (%d)\n", len(m.Notifications))
	for _, n := range m.Notifications {
		fmt.Fprintf(&b, "  %s\n", n.Name)
	}
	fmt.Fprintf(&b, "\ncallbacks (%d)\n", len(m.Callbacks))
	for _, x := range m.Callbacks {
		fmt.Fprintf(&b, "  %s\n", x.Name)
	}
	fmt.Fprintf(&b, "\nerrors (%d)\n", len(m.Errors))
	for _, e := range m.Errors {
		fmt.Fprintf(&b, "  %-7d %-24s %s\n", e.Code, e.Name, e.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDir writes the generated files into dir (a key "sub/x.go" goes to the subdirectory
// sub) and removes generated Go files that the model no longer produces, from dir and from
// each of its immediate subdirectories; a subdirectory left empty is removed. Unchanged
// files are not rewritten. Only files carrying the generated header are ever removed.
func writeDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeIfChanged(filepath.Join(dir, filepath.FromSlash(name)), files[name]); err != nil {
			return err
		}
	}
	if err := removeStale(dir, "", files); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "node_modules" {
			if err := removeStale(dir, e.Name(), files); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeStale removes the files of dir/sub that carry the generator's header (any language)
// and whose key ("sub/name") is not in files, and dir/sub itself when that leaves it empty.
func removeStale(dir, sub string, files map[string][]byte) error {
	at := filepath.Join(dir, sub)
	entries, err := os.ReadDir(at)
	if err != nil {
		return fmt.Errorf("read %s: %w", at, err)
	}
	removed := 0
	for _, e := range entries {
		name := e.Name()
		if _, keep := files[path.Join(sub, name)]; keep || e.IsDir() || strings.HasSuffix(name, "_test.go") {
			continue
		}
		p := filepath.Join(at, name)
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if bytes.Contains(data, []byte(golang.Header)) {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("remove stale %s: %w", p, err)
			}
			removed++
		}
	}
	if sub != "" && removed > 0 && removed == len(entries) {
		if err := os.Remove(at); err != nil {
			return fmt.Errorf("remove empty %s: %w", at, err)
		}
	}
	return nil
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

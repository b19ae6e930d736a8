package main

import (
	"fmt"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
	"github.com/moltzap/moltzap-go/gen/openrpc"
	"github.com/moltzap/moltzap-go/gen/python"
	"github.com/moltzap/moltzap-go/gen/typescript"
	"github.com/spf13/cobra"
)

// generateTargets are the subcommands of generate, for the message of an unknown target.
var generateTargets = []string{"go", "ts (typescript)", "python", "openrpc"}

// unknownTarget is the usage error (exit 2) of `moltzapgen generate <unknown>`.
func unknownTarget(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return fmt.Errorf("unknown generate target %q; targets: %s", args[0], strings.Join(generateTargets, ", "))
}

// packageCmd is a `generate <lang>` subcommand writing the package emit returns to --out.
func packageCmd(use string, aliases []string, short, defaultOut string, emit func(*gen.Model) (map[string][]byte, error)) *cobra.Command {
	var schemaDir, outDir string
	cmd := &cobra.Command{
		Use: use, Aliases: aliases, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := gen.LoadAndLint(schemaDir)
			if err != nil {
				return fail(err)
			}
			files, err := emit(m)
			if err != nil {
				return fail(err)
			}
			return fail(writeDir(outDir, files))
		},
	}
	cmd.Flags().StringVar(&schemaDir, "schema", "schema", "catalog directory")
	cmd.Flags().StringVar(&outDir, "out", defaultOut, "output directory")
	return cmd
}

func newTypeScriptCmd() *cobra.Command {
	return packageCmd("ts", []string{"typescript"}, "Generate the TypeScript package (types, validators, client, TaskMaster runner)",
		"generated/ts", typescript.Emit)
}

func newPythonCmd() *cobra.Command {
	return packageCmd("python", nil, "Generate the Python package (dataclasses, validators, asyncio client, TaskMaster runner)",
		"generated/python", python.Emit)
}

func newOpenRPCCmd() *cobra.Command {
	var schemaDir, out string
	cmd := &cobra.Command{
		Use:   "openrpc",
		Short: "Write the OpenRPC 1.3 document of the catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := gen.LoadAndLint(schemaDir)
			if err != nil {
				return fail(err)
			}
			doc, err := openrpc.Render(m)
			if err != nil {
				return fail(err)
			}
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(doc)
				return fail(err)
			}
			return fail(writeIfChanged(out, doc))
		},
	}
	cmd.Flags().StringVar(&schemaDir, "schema", "schema", "catalog directory")
	cmd.Flags().StringVar(&out, "out", "docs/openrpc.json", "output file, - for standard output")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nodesim/nodesim/internal/version"
)

func newVersionCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print nodesim's version, commit, Go version and the Kubernetes version it serves",
		Long: `version prints what this binary is: nodesim's version and git commit (set
by the build with -ldflags, else read from the module information Go
records), the Go toolchain that built it, and the Kubernetes release whose
API the embedded API server serves. -o json prints the same as one JSON
object.`,
		Args: noArgs("version"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "", "text":
				writeVersion(cmd.OutOrStdout(), version.Get())
				return nil
			case "json":
				b, err := json.MarshalIndent(version.Get(), "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return err
			}
			return badInput(fmt.Errorf("--output %q: must be text or json", output))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "text (default) or json")
	return cmd
}

// writeVersion prints a build's identity, one fact a line, as
// `kubectl version` users expect.
func writeVersion(w io.Writer, v version.Info) {
	commit := v.Commit
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(w, "nodesim version: %s\ncommit: %s\ngo version: %s\nplatform: %s\nKubernetes version served: %s\n",
		v.Version, commit, v.GoVersion, v.Platform, v.Kubernetes)
}

// noArgs is cobra.NoArgs with nodesim's error format.
func noArgs(command string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return badInput(fmt.Errorf("%s: unexpected argument %q (%s takes none)", command, args[0], command))
		}
		return nil
	}
}

// oneScenario requires exactly one scenario file argument.
func oneScenario(command string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return badInput(fmt.Errorf("%s: SCENARIO.yaml: missing argument (usage: nodesim %s)", command, cmd.UseLine()[len("nodesim "):]))
		case len(args) > 1:
			return badInput(fmt.Errorf("%s: %s: one scenario file at a time, not %d", command, args[1], len(args)))
		}
		return nil
	}
}

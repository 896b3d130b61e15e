package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nodesim/nodesim/internal/version"
)

func init() {
	cobra.AddTemplateFunc("nodesimVersion", func() string {
		var b strings.Builder
		writeVersion(&b, version.Get())
		return b.String()
	})
}

func newRootCommand() *cobra.Command {
	// cobra offers every command the flags of pflag's global set, where
	// the Kubernetes packages nodesim embeds register theirs (verflag's
	// --version among them): nodesim's command line is its own.
	pflag.CommandLine = pflag.NewFlagSet("nodesim", pflag.ContinueOnError)
	root := &cobra.Command{
		Use:   "nodesim",
		Short: "A hermetic Kubernetes node simulator",
		Long: `nodesim runs a real Kubernetes API server and virtual kubelets on a
virtual clock in one process, replays scenario files deterministically and
reports what happened.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	var logFile string
	root.PersistentFlags().StringVar(&logFile, "log-file", "", "append what the embedded API server, etcd and controllers log to this file (default: not kept)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if logFile == "" {
			return nil
		}
		return logLibrariesTo(logFile)
	}
	// --version prints what `nodesim version` prints.
	root.Version = version.Get().Version
	root.SetVersionTemplate(`{{nodesimVersion}}`)
	root.AddCommand(newRunCommand(), newValidateCommand(), newServeCommand(), newBenchCommand(), newCheckpointCommand(), newVersionCommand())
	return root
}

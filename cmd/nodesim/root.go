package main

import (
	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
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
	root.AddCommand(newRunCommand(), newValidateCommand(), newServeCommand(), newBenchCommand(), newCheckpointCommand())
	return root
}

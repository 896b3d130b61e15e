package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	criruntime "github.com/nodesim/nodesim/runtime"
)

func newCheckpointCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Work with container checkpoint archives",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return badInput(errors.New("checkpoint: name a subcommand (inspect)"))
		},
	}
	cmd.AddCommand(newCheckpointInspectCommand())
	return cmd
}

func newCheckpointInspectCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect ARCHIVE.tar",
		Short: "Show what a checkpoint archive holds",
		Long: `inspect reads a checkpoint archive as a virtual node's runtime wrote it
(STATE/<node>/checkpoints/checkpoint-<pod>_<namespace>-<container>-<time>.tar)
and prints the pod, namespace, container, node, checkpoint time, memory size
and process state. A file that is not such an archive is an error: exit
status 2.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badInput(fmt.Errorf("checkpoint inspect: name exactly one archive, not %d", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := criruntime.ReadArchive(args[0])
			if err != nil {
				return badInput(fmt.Errorf("checkpoint inspect: %w", err))
			}
			return printArchive(cmd.OutOrStdout(), a, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

// printArchive prints what an archive holds, as a table or as JSON.
func printArchive(w io.Writer, a *criruntime.Archive, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	ran := time.Duration(a.Process.RunningNanoseconds)
	_, err := fmt.Fprintf(w, `Archive:     %s
Pod:         %s
Namespace:   %s
Container:   %s (%s)
Node:        %s
Image:       %s
Checkpoint:  %s
Memory:      %d bytes (%.1f MiB)
Process:     counter=%d (running %s)
`, a.Path, a.Pod, a.Namespace, a.Container, a.ContainerID, a.Node, a.Image,
		a.CheckpointedAt.UTC().Format(time.RFC3339Nano),
		a.MemoryBytes, float64(a.MemoryBytes)/(1<<20),
		a.Process.Counter, ran)
	return err
}

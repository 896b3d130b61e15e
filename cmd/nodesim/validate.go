package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nodesim/nodesim/scenarios"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files without running them",
		Long: `validate loads each scenario file as run would and prints "FILE: ok" for
each valid one. Every problem of an invalid file goes to stderr as
FILE:LINE: FIELD: MESSAGE; the exit status is then 2.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badInput(errors.New("validate: name at least one scenario file"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return validateFiles(cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	}
}

// validateFiles loads every file, even after a bad one, so that one
// invocation reports every problem.
func validateFiles(stdout, stderr io.Writer, files []string) error {
	invalid := 0
	for _, file := range files {
		if _, err := scenarios.Load(file); err != nil {
			invalid++
			printError(stderr, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	if invalid > 0 {
		return badInput(fmt.Errorf("validate: %d of %d scenario files invalid", invalid, len(files)))
	}
	return nil
}

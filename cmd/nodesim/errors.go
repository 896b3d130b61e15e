package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// printError writes err in nodesim's one error format, every line
// prefixed: "nodesim: FILE:LINE: field: message" for a problem in a file,
// "nodesim: field: message" for a flag or argument.
func printError(w io.Writer, err error) {
	for line := range strings.SplitSeq(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "nodesim: %s\n", line)
	}
}

// givenFlags is the flags given on the command line, "--name value" in
// the order cobra lists them (by name), for the run's identity.
func givenFlags(cmd *cobra.Command) string {
	fs := cmd.Flags()
	var parts []string
	for _, m := range flagName.FindAllStringSubmatch(fs.FlagUsagesWrapped(0), -1) {
		name := m[1]
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		if f.Value.Type() == "bool" {
			parts = append(parts, "--"+name+"="+f.Value.String())
			continue
		}
		parts = append(parts, "--"+name+" "+f.Value.String())
	}
	return strings.Join(parts, " ")
}

// flagName finds the flag names in cobra's flag usage text.
var flagName = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)`)

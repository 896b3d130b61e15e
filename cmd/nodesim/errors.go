package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
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
// name order, for the run's identity.
func givenFlags(fs *pflag.FlagSet) string {
	var parts []string
	fs.Visit(func(f *pflag.Flag) {
		if f.Value.Type() == "bool" {
			parts = append(parts, "--"+f.Name+"="+f.Value.String())
			return
		}
		parts = append(parts, "--"+f.Name+" "+f.Value.String())
	})
	return strings.Join(parts, " ")
}

package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMECommandsParse: every `nodesim ...` command line the README
// shows in a code block names a command nodesim has, with flags it takes,
// so that it works as printed.
func TestREADMECommandsParse(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "    nodesim ") {
			continue
		}
		cmdline := strings.TrimSpace(line[len("    "):])
		if i := strings.Index(cmdline, " #"); i >= 0 {
			cmdline = strings.TrimSpace(cmdline[:i])
		}
		cmdline = strings.TrimSuffix(cmdline, " &")
		if strings.ContainsAny(cmdline, "[]|") {
			t.Errorf("README shows %q: a usage pattern, not a command that runs as printed", cmdline)
			continue
		}
		args := strings.Fields(cmdline)[1:]
		root := newRootCommand()
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("README: %q: no such command: %v", cmdline, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("README: %q: %v", cmdline, err)
			continue
		}
		if cmd.Args != nil {
			if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
				t.Errorf("README: %q: %v", cmdline, err)
			}
		}
		for _, a := range cmd.Flags().Args() {
			if strings.HasSuffix(a, ".yaml") && !strings.Contains(a, "*") {
				if _, err := os.Stat("../../" + a); err != nil {
					t.Errorf("README: %q names %s, which does not exist", cmdline, a)
				}
			}
		}
		n++
	}
	if n < 5 {
		t.Fatalf("found only %d nodesim commands in the README", n)
	}
}

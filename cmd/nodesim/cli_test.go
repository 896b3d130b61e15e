package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		cmd := newRootCommand()
		cmd.SetOut(&out)
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("nodesim %s: %v", args[0], err)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^nodesim version: \S+$`),
			regexp.MustCompile(`(?m)^commit: \S+$`),
			regexp.MustCompile(`(?m)^go version: go1\.\d+`),
			regexp.MustCompile(`(?m)^Kubernetes version served: v1\.37\.\d+$`),
		} {
			if !want.MatchString(out.String()) {
				t.Errorf("nodesim %s: output lacks %s:\n%s", args[0], want, out.String())
			}
		}
	}
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version", "-o", "json"})
	if err := cmd.ExecuteContext(context.Background()); err != nil || !strings.Contains(out.String(), `"kubernetesVersion": "v1.37.`) {
		t.Errorf("version -o json: %v\n%s", err, out.String())
	}
}

// Every error, in a file or on the command line, is one format:
// "nodesim: FILE:LINE: field: message" or "nodesim: field: message".
func TestOneErrorFormat(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "nodesim: run: SCENARIO.yaml: missing argument (usage: nodesim run SCENARIO.yaml [flags])\n"},
		{[]string{"run", "a.yaml", "b.yaml"}, "nodesim: run: b.yaml: one scenario file at a time, not 2\n"},
		{[]string{"run", missing}, "nodesim: " + missing + ": cannot read the scenario: no such file or directory\n"},
		{[]string{"serve", missing}, "nodesim: " + missing + ": cannot read the scenario: no such file or directory\n"},
		{[]string{"validate", missing}, "nodesim: " + missing + ": cannot read the scenario: no such file or directory\n"},
		{[]string{"bench", "extra"}, "nodesim: bench: unexpected argument \"extra\" (bench takes none)\n"},
		{[]string{"run", "x.yaml", "--seed", "-1"}, "nodesim: invalid argument \"-1\" for \"--seed\" flag"},
	} {
		var stderr bytes.Buffer
		code := runWithStderr(context.Background(), tc.args, &stderr)
		if code != exitBadInput || !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("nodesim %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
	// Several problems in one file: each on its own line, each prefixed.
	path := writeScenario(t, runHeader+"  timeline: [{at: 1m, do: explode}, {at: 2m, do: implode}]\n")
	var stderr bytes.Buffer
	runWithStderr(context.Background(), []string{"run", path}, &stderr)
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !strings.HasPrefix(line, "nodesim: "+path+":8: spec.timeline[") {
			t.Errorf("line %q is not nodesim: FILE:LINE: field: message", line)
		}
	}
}

func TestFailedExpectationOnStderr(t *testing.T) {
	path := writeScenario(t, runHeader+"  expect:\n  - condition: {type: Ready, status: Unknown}\n    by: 1m\n")
	var stderr bytes.Buffer
	if code := runWithStderr(context.Background(), []string{"run", path, "--out", t.TempDir()}, &stderr); code != exitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	want := regexp.MustCompile(`(?m)^nodesim: ` + regexp.QuoteMeta(path) + `:9: spec\.expect\[0\]: condition: expected .*Ready=Unknown by 1m0s; seen: .+$`)
	if !want.MatchString(stderr.String()) {
		t.Errorf("stderr does not name the failed expectation:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "nodesim: 1 of 1 expectations failed") {
		t.Errorf("stderr lacks the count:\n%s", stderr.String())
	}
}

func TestSeedFlagIsTheSameInRunAndBench(t *testing.T) {
	root := newRootCommand()
	var flags []string
	for _, name := range []string{"run", "bench"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		f := cmd.Flags().Lookup("seed")
		if f == nil {
			t.Fatalf("%s has no --seed", name)
		}
		flags = append(flags, f.Value.Type()+"|"+f.DefValue+"|"+f.Usage)
	}
	if flags[0] != flags[1] || !strings.HasPrefix(flags[0], "uint64|") {
		t.Errorf("--seed differs between run and bench:\n run:   %s\n bench: %s", flags[0], flags[1])
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeWithNothingSaysHowToConnectAndWhatRuns(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := newRootCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"serve"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(out.String(), "nodesim: controllers: ") })
	cancel()
	// An interrupt while serve starts ends it as one later does.
	if err := <-done; err != nil {
		t.Fatalf("serve interrupted at start-up: %v", err)
	}
	for _, want := range []string{
		"nodesim: API server at https://",
		"--write-kubeconfig PATH",
		"export KUBECONFIG=",
		"running: the embedded API server (the Kubernetes v1.37",
		"no virtual nodes: an empty cluster (give --nodes N or a scenario file",
		"interrupt (Ctrl-C) to stop",
		"nodesim: controllers: nodesim's models node-lifecycle, taint-eviction, workloads, scheduler; ",
		"of kube-controller-manager's controllers (not node-lifecycle-controller, not taint-eviction-controller)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve's output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestGivenFlags(t *testing.T) {
	root := newRootCommand()
	cmd, _, err := root.Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags([]string{"--trace", "full", "--seed", "7", "--out", "/tmp/x"}); err != nil {
		t.Fatal(err)
	}
	if got, want := givenFlags(cmd), "--out /tmp/x --seed 7 --trace full"; got != want {
		t.Fatalf("givenFlags %q, want %q", got, want)
	}
}

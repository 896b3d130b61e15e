package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodesim/nodesim/scenarios"
)

const validScenario = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata:
  name: ok
spec:
  duration: 1m
  nodePools:
  - name: a
    count: 1
`

// scenarioFiles writes a valid and an invalid scenario file and returns
// their paths.
func scenarioFiles(t *testing.T) (good, bad string) {
	t.Helper()
	dir := t.TempDir()
	good = filepath.Join(dir, "good.yaml")
	bad = filepath.Join(dir, "bad.yaml")
	invalid := strings.Replace(validScenario, "count: 1", "count: ten", 1) + "  timeline: [{at: 10s, do: explode}]\n"
	for path, text := range map[string]string{good: validScenario, bad: invalid} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return good, bad
}

// validate runs the validate command alone and returns its output and the
// exit status its error maps to.
func validate(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newValidateCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetArgs(args)
	err := cmd.Execute()
	code = exitOK
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) {
			t.Fatalf("validate %v: error %v carries no exit status", args, err)
		}
		code = ee.code
	}
	return out.String(), errOut.String(), code
}

func TestValidate(t *testing.T) {
	good, bad := scenarioFiles(t)
	examples, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example scenarios: %v", err)
	}

	stdout, stderr, code := validate(t, append([]string{good}, examples...)...)
	if code != exitOK || stderr != "" {
		t.Errorf("valid files: exit %d, stderr %q", code, stderr)
	}
	wantOut := good + ": ok\n"
	for _, e := range examples {
		wantOut += e + ": ok\n"
	}
	if stdout != wantOut {
		t.Errorf("stdout %q, want %q", stdout, wantOut)
	}

	missing := filepath.Join(t.TempDir(), "missing.yaml")
	stdout, stderr, code = validate(t, bad, good, missing)
	if code != exitBadInput {
		t.Errorf("invalid files: exit %d, want %d", code, exitBadInput)
	}
	if stdout != good+": ok\n" {
		t.Errorf("stdout %q, want only the valid file", stdout)
	}
	wantErr := []string{
		bad + ":9: spec.nodePools[0].count: must be a whole number, not \"ten\"",
		bad + ":10: spec.timeline[0].do: unknown action \"explode\": want one of " + strings.Join(scenarios.Actions, ", "),
		"read scenario: stat " + missing + ": no such file or directory",
	}
	if got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(wantErr, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, strings.Join(wantErr, "\n"))
	}

	if _, _, code := validate(t); code != exitBadInput {
		t.Errorf("no file: exit %d, want %d", code, exitBadInput)
	}
}

// TestValidateExitStatus runs the whole command line, as a user would.
func TestValidateExitStatus(t *testing.T) {
	if cmd, _, err := newRootCommand().Find([]string{"validate"}); err != nil || cmd.Name() != "validate" {
		t.Skip("validate is not registered in root.go yet")
	}
	good, bad := scenarioFiles(t)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"validate", good}, exitOK},
		{[]string{"validate", good, bad}, exitBadInput},
		{[]string{"validate"}, exitBadInput},
	} {
		if code := run(context.Background(), tc.args); code != tc.want {
			t.Errorf("nodesim %s: exit %d, want %d", strings.Join(tc.args, " "), code, tc.want)
		}
	}
}

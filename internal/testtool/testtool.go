// Package testtool finds the external tools some tests drive (kubectl,
// crictl, prometheus) and says how to install one that is missing.
//
// A test that cannot run without its tool is skipped with a line that
// starts with SkipPrefix; when NODESIM_SKIP_LOG names a file, the same line
// is appended there, so that `make test` can list every test skipped for a
// missing tool at its end and .ci/run can fail on any.
package testtool

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SkipPrefix starts every skip for a missing tool.
const SkipPrefix = "SKIP(missing tool)"

// SkipLogEnv names the file the skips are appended to.
const SkipLogEnv = "NODESIM_SKIP_LOG"

// Tool is an external program some tests need.
type Tool struct {
	// Name is the program's name on PATH.
	Name string
	// Install says how to install it.
	Install string
	// GoInstalled: also look in $(go env GOPATH)/bin.
	GoInstalled bool
}

// The tools the tests use.
var (
	Kubectl = Tool{Name: "kubectl",
		Install: "apt-get install kubectl (or kubernetes-client), or see https://kubernetes.io/docs/tasks/tools/"}
	Crictl = Tool{Name: "crictl",
		Install: "go install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0", GoInstalled: true}
	Prometheus = Tool{Name: "prometheus",
		Install: "apt-get install prometheus"}
)

// Find returns the tool's path, or "" if it is not installed.
func (tool Tool) Find() string {
	if p, err := exec.LookPath(tool.Name); err == nil {
		return p
	}
	if tool.GoInstalled {
		for _, dir := range filepath.SplitList(build.Default.GOPATH) {
			p := filepath.Join(dir, "bin", tool.Name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p
			}
		}
	}
	return ""
}

// Need returns the tool's path, or skips the test saying what is missing
// and how to install it (and logs the skip to $NODESIM_SKIP_LOG).
func Need(t testing.TB, tool Tool) string {
	t.Helper()
	if p := tool.Find(); p != "" {
		return p
	}
	msg := fmt.Sprintf("%s %s: %s is not installed; install: %s", SkipPrefix, t.Name(), tool.Name, tool.Install)
	if log := os.Getenv(SkipLogEnv); log != "" {
		if f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, msg)
			f.Close()
		}
	}
	t.Skip(msg)
	return ""
}

// Must returns the tool's path, or fails the test saying how to install it:
// for a tool the set-up always provides.
func Must(t testing.TB, tool Tool) string {
	t.Helper()
	if p := tool.Find(); p != "" {
		return p
	}
	t.Fatalf("%s is needed and not installed; install: %s", tool.Name, tool.Install)
	return ""
}

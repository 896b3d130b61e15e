package version

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakefileStampsTheBuild: `make build` and `make install` pass
// -ldflags -X for this package's version and commit variables, so that
// `nodesim version` names the build.
func TestMakefileStampsTheBuild(t *testing.T) {
	// The variables -X sets; renaming them breaks this test's build.
	_, _ = version, commit
	const pkg = "github.com/nodesim/nodesim/internal/version"
	var out []byte
	want := []string{"-X " + pkg + ".version=v9.8.7", "-X " + pkg + ".commit=abcdef"}
	if _, err := exec.LookPath("make"); err == nil {
		cmd := exec.Command("make", "-n", "build", "install", "VERSION=v9.8.7", "COMMIT=abcdef")
		cmd.Dir = "../.."
		var err error
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("make -n build install: %v", err)
		}
	} else {
		b, err := os.ReadFile("../../Makefile")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("make is not installed; checking the Makefile's text")
		out = b
		want = []string{"VERSION_PKG := " + pkg, "-X $(VERSION_PKG).version=$(VERSION)", "-X $(VERSION_PKG).commit=$(COMMIT)"}
	}
	s := string(out)
	for _, w := range append([]string{"build -ldflags", "install -ldflags"}, want...) {
		if !strings.Contains(s, w) {
			t.Errorf("make build/install lack %q:\n%s", w, s)
		}
	}
}

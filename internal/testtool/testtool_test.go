package testtool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeedSkipsAndLogs(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skips")
	t.Setenv(SkipLogEnv, log)
	t.Setenv("PATH", t.TempDir())
	missing := Tool{Name: "no-such-tool-nodesim", Install: "apt-get install no-such-tool"}
	t.Run("inner", func(t *testing.T) {
		Need(t, missing)
		t.Error("Need returned for a missing tool")
	})
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := SkipPrefix + " TestNeedSkipsAndLogs/inner: no-such-tool-nodesim is not installed; install: apt-get install no-such-tool\n"
	if string(b) != want {
		t.Fatalf("skip log %q, want %q", b, want)
	}
	if !strings.HasPrefix(string(b), "SKIP(missing tool)") {
		t.Fatal("not recognisable")
	}
}

func TestFindOnPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mytool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p := (Tool{Name: "mytool"}).Find(); p != filepath.Join(dir, "mytool") {
		t.Fatalf("found %q", p)
	}
}

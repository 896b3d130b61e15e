package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/nodesim/nodesim", Version: "v0.2.0"},
		Deps:      []*debug.Module{{Path: "k8s.io/apiserver", Version: "v0.37.2"}},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}},
	}
	got := fromBuild(bi, true, "", "")
	want := Info{Version: "v0.2.0", Commit: "abc123-dirty", GoVersion: "go1.26.0", Kubernetes: "v1.37.2", Platform: got.Platform}
	if got != want {
		t.Fatalf("from module info: %+v, want %+v", got, want)
	}
	// The -ldflags stamps win over what Go records.
	if got := fromBuild(bi, true, "v9.9.9", "feed"); got.Version != "v9.9.9" || got.Commit != "feed" {
		t.Fatalf("stamped: %+v", got)
	}
	bi.Deps[0].Version = "v0.38.1"
	if got := fromBuild(bi, true, "", ""); got.Kubernetes != "v1.38.1" {
		t.Fatalf("Kubernetes %s, want v1.38.1 from k8s.io/apiserver v0.38.1", got.Kubernetes)
	}
	if got := fromBuild(nil, false, "", ""); got.Version != "(devel)" || got.Kubernetes != fallbackKubernetes {
		t.Fatalf("without build info: %+v", got)
	}
}

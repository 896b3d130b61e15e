// Package version is what a nodesim binary says it is: its own version and
// commit, stamped by the build (-ldflags -X), else read from the module
// information Go records in every binary, and the Kubernetes release whose
// API it serves.
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the build:
//
//	go build -ldflags "-X github.com/nodesim/nodesim/internal/version.version=v0.3.0 -X github.com/nodesim/nodesim/internal/version.commit=$(git rev-parse HEAD)"
//
// (the Makefile's build does). Left empty, Get reads the module version and
// the VCS revision Go records.
var (
	version string
	commit  string
)

// fallbackKubernetes is the Kubernetes release reported when the binary
// carries no module information (tests built without it).
const fallbackKubernetes = "v1.37.2"

// Info is a build's identity.
type Info struct {
	// Version is nodesim's version: the -ldflags stamp, the module version
	// of a `go install ...@vX`, or "(devel)".
	Version string `json:"version"`
	// Commit is the git commit built, with "-dirty" when the tree had
	// changes; "" when unknown.
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"goVersion"`
	// Kubernetes is the Kubernetes release whose API server is built in
	// (k8s.io/apiserver v0.X.Y is Kubernetes v1.X.Y).
	Kubernetes string `json:"kubernetesVersion"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Get returns this binary's identity.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	return fromBuild(bi, ok, version, commit)
}

// fromBuild is Get with the build information and stamps given.
func fromBuild(bi *debug.BuildInfo, ok bool, stampVersion, stampCommit string) Info {
	info := Info{Version: stampVersion, Commit: stampCommit, GoVersion: runtime.Version(),
		Kubernetes: fallbackKubernetes, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		if info.Version == "" {
			info.Version = "(devel)"
		}
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	if info.Version == "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	if info.Commit == "" {
		var rev string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" && dirty {
			rev += "-dirty"
		}
		info.Commit = rev
	}
	for _, dep := range bi.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		if dep.Path == "k8s.io/apiserver" && strings.HasPrefix(dep.Version, "v0.") {
			info.Kubernetes = "v1." + strings.TrimPrefix(dep.Version, "v0.")
		}
	}
	return info
}

// String is the one-line form: "nodesim v0.3.0 (commit abc123, go1.26,
// Kubernetes v1.37.2)".
func (i Info) String() string {
	c := i.Commit
	if c == "" {
		c = "unknown"
	}
	return "nodesim " + i.Version + " (commit " + c + ", " + i.GoVersion + ", " + i.Platform + ", Kubernetes " + i.Kubernetes + ")"
}

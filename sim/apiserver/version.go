package apiserver

import (
	"runtime/debug"
	"strings"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"
)

// fallbackVersion is reported when the build carries no module information.
const fallbackVersion = "v1.37.2"

// serverVersion is the Kubernetes release whose API server code is built
// in (the k8s.io/kubernetes module's version).
func serverVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" && strings.HasPrefix(dep.Version, "v1.") {
				return dep.Version
			}
		}
	}
	return fallbackVersion
}

// servedVersion is the build's effective version with /version's gitVersion
// set to the embedded release, so `kubectl version` parses it (a library
// build has no release stamp of its own).
type servedVersion struct {
	basecompatibility.EffectiveVersion
	gitVersion string
}

func newServedVersion(v basecompatibility.EffectiveVersion) servedVersion {
	return servedVersion{EffectiveVersion: v, gitVersion: serverVersion()}
}

func (v servedVersion) Info() *apimachineryversion.Info {
	info := v.EffectiveVersion.Info()
	info.GitVersion = v.gitVersion
	info.GitCommit = ""
	info.GitTreeState = ""
	info.BuildDate = ""
	return info
}

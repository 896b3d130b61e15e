package apiserver

import (
	"runtime/debug"
	"strings"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
	utilcompatibility "k8s.io/apiserver/pkg/util/compatibility"
	basecompatibility "k8s.io/component-base/compatibility"
)

// fallbackVersion is reported when the build carries no module information.
const fallbackVersion = "v1.37.2"

// serverVersion is the Kubernetes release whose API server code is built in:
// k8s.io/apiserver v0.X.Y is Kubernetes v1.X.Y.
func serverVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/apiserver" && strings.HasPrefix(dep.Version, "v0.") {
				return "v1." + strings.TrimPrefix(dep.Version, "v0.")
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

func newServedVersion() servedVersion {
	return servedVersion{EffectiveVersion: utilcompatibility.DefaultBuildEffectiveVersion(), gitVersion: serverVersion()}
}

func (v servedVersion) Info() *apimachineryversion.Info {
	info := v.EffectiveVersion.Info()
	info.GitVersion = v.gitVersion
	info.GitCommit = ""
	info.GitTreeState = ""
	info.BuildDate = ""
	return info
}

package config

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/featuregate"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
	_ "k8s.io/kubernetes/pkg/features" // the Kubernetes gates, in the process's registry

	"github.com/nodesim/nodesim/internal/levenshtein"
)

// Feature gates whose value changes the kubelet's defaults or validation,
// or that the simulated kubelet consults.
const (
	GateKubeletCrashLoopBackOffMax         = "KubeletCrashLoopBackOffMax"
	GateKubeletEnsureSecretPulledImages    = "KubeletEnsureSecretPulledImages"
	GateGracefulNodeShutdown               = "GracefulNodeShutdown"
	GateGracefulNodeShutdownBasedOnPodPrio = "GracefulNodeShutdownBasedOnPodPriority"
	GateNodeSwap                           = "NodeSwap"
	GateCustomCPUCFSQuotaPeriod            = "CustomCPUCFSQuotaPeriod"
	GateImageMaximumGCAge                  = "ImageMaximumGCAge"
	GateUserNamespacesSupport              = "UserNamespacesSupport"
	GateRecursiveReadOnlyMounts            = "RecursiveReadOnlyMounts"
	GateContainerCheckpoint                = "ContainerCheckpoint"
	GateMemoryQoS                          = "MemoryQoS"
)

// newFeatureGate builds the kubelet's feature gate registry as
// cmd/kubelet does: a copy of the process's registry
// (utilfeature.DefaultMutableFeatureGate), where k8s.io/kubernetes's
// pkg/features registers the Kubernetes gates and client-go's, with the
// logging gates added.
func newFeatureGate() (featuregate.MutableVersionedFeatureGate, error) {
	g := utilfeature.DefaultMutableFeatureGate.DeepCopy()
	if _, ok := g.GetAll()[logsapi.LoggingBetaOptions]; ok {
		return g, nil // the process has them (kube-apiserver's command registers them)
	}
	if err := logsapi.AddFeatureGates(g); err != nil {
		return nil, fmt.Errorf("logging feature gates: %w", err)
	}
	return g, nil
}

// gateSpec is a gate's v1.37 default and whether it is locked to it.
type gateSpec struct {
	on, locked bool
}

// knownGates are every gate the kubelet knows, with its v1.37 default,
// built once: the registry is the same for every configuration.
var knownGates = sync.OnceValues(func() (map[string]gateSpec, error) {
	g, err := newFeatureGate()
	if err != nil {
		return nil, err
	}
	known := map[string]gateSpec{}
	for name, spec := range g.GetAll() {
		known[string(name)] = gateSpec{on: g.Enabled(name), locked: spec.LockToDefault}
	}
	return known, nil
})

// gateSet is the configuration's featureGates over the defaults.
type gateSet struct {
	known map[string]gateSpec
	set   map[string]bool
}

func featureGates(set map[string]bool) gateSet {
	known, err := knownGates()
	if err != nil {
		// The registry is inconsistent: a build problem, which
		// TestFeatureGateRegistry catches.
		panic(err)
	}
	return gateSet{known: known, set: set}
}

func (g gateSet) enabled(name string) bool {
	if v, ok := g.set[name]; ok {
		return v
	}
	return g.known[name].on
}

// gateProblem is one gate the kubelet would refuse to start with.
type gateProblem struct {
	gate, msg string
}

// check reports what the kubelet's SetFromMap refuses, in name order and
// in its words: a gate it does not know ("unrecognized feature gate: %s",
// here with the nearest known name), or one set against its lock
// ("cannot set feature gate %v to %v, feature is locked to %v"). Each gate
// is set alone, so that every problem is reported, in a fixed order
// (SetFromMap walks its map in random order).
func (g gateSet) check() []gateProblem {
	var out []gateProblem
	for _, name := range sortedKeys(g.set) {
		spec, ok := g.known[name]
		switch {
		case !ok:
			msg := fmt.Sprintf("unrecognized feature gate: %s", name)
			if near := g.nearest(name); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			out = append(out, gateProblem{name, msg})
		case spec.locked && g.set[name] != spec.on:
			out = append(out, gateProblem{name, fmt.Sprintf("cannot set feature gate %v to %v, feature is locked to %v", name, g.set[name], spec.on)})
		}
	}
	if len(out) > 0 || len(g.set) == 0 {
		return out
	}
	// What is left is the registry's own checks of a combination
	// (dependencies, emulation version): ask it.
	reg, err := newFeatureGate()
	if err != nil {
		return []gateProblem{{"", err.Error()}}
	}
	withLogger, ok := reg.(featuregate.MutableFeatureGateWithLogger)
	if !ok {
		return nil
	}
	if err := withLogger.SetFromMapWithLogger(klog.Logger{}, g.set); err != nil { // a zero logger discards
		out = append(out, gateProblem{"", err.Error()})
	}
	return out
}

// nearest is the known gate closest to name: the same but for case, or
// within a third of its length in edits; "" if none is.
func (g gateSet) nearest(name string) string {
	best, bestDist := "", len(name)/3+1
	for _, known := range sortedKeys(g.known) {
		if strings.EqualFold(known, name) {
			return known
		}
		if d := levenshtein.Distance(strings.ToLower(known), strings.ToLower(name)); d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// FeatureEnabled says whether gate is on given a configuration's
// featureGates: its entry there, else the v1.37 default (false for a gate
// the kubelet does not know).
func FeatureEnabled(gates map[string]bool, gate string) bool {
	return featureGates(gates).enabled(gate)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

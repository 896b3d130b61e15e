package config

import (
	"fmt"
	"slices"
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

// gateSpec is a gate's v1.37 default (pkg/features/kube_features.go) and
// whether it is locked to it.
type gateSpec struct {
	on, locked bool
}

// knownGates returns the gates nodesim knows the v1.37 defaults of. Other
// gates are accepted as set (nodesim does not hold upstream's whole list).
func knownGates() map[string]gateSpec {
	return map[string]gateSpec{
		GateKubeletCrashLoopBackOffMax:         {on: true},
		GateKubeletEnsureSecretPulledImages:    {on: true, locked: true},
		GateGracefulNodeShutdown:               {on: true},
		GateGracefulNodeShutdownBasedOnPodPrio: {on: true},
		GateNodeSwap:                           {on: true, locked: true},
		GateCustomCPUCFSQuotaPeriod:            {on: true},
		GateImageMaximumGCAge:                  {on: true, locked: true},
		GateUserNamespacesSupport:              {on: true, locked: true},
		GateRecursiveReadOnlyMounts:            {on: true, locked: true},
		GateContainerCheckpoint:                {on: true},
		GateMemoryQoS:                          {on: false},
	}
}

// gateSet is the configuration's featureGates over the defaults.
type gateSet struct {
	known map[string]gateSpec
	set   map[string]bool
}

func featureGates(set map[string]bool) gateSet {
	return gateSet{known: knownGates(), set: set}
}

func (g gateSet) enabled(name string) bool {
	if v, ok := g.set[name]; ok {
		return v
	}
	return g.known[name].on
}

// check reports gates set against their lock, as component-base's
// featuregate SetFromMap does ("cannot set feature gate %v to %v, feature
// is locked to %v"), in name order.
func (g gateSet) check() []string {
	var msgs []string
	for _, name := range sortedKeys(g.set) {
		if spec, ok := g.known[name]; ok && spec.locked && g.set[name] != spec.on {
			msgs = append(msgs, fmt.Sprintf("cannot set feature gate %v to %v, feature is locked to %v", name, g.set[name], spec.on))
		}
	}
	return msgs
}

// FeatureEnabled says whether gate is on given a configuration's
// featureGates: its entry there, else the v1.37 default (false for a gate nodesim
// does not know).
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

package config

import "testing"

// TestFeatureGateRegistry checks the registry against v1.37's defaults
// and locks of the gates nodesim consults, and that it holds the gates of
// every source the kubelet's has (pkg/features, client-go, logging,
// featuregate's own).
func TestFeatureGateRegistry(t *testing.T) {
	known, err := knownGates()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]gateSpec{
		GateKubeletCrashLoopBackOffMax:      {on: true},
		GateKubeletEnsureSecretPulledImages: {on: true}, // beta since 1.35, not locked

		GateGracefulNodeShutdown:               {on: true},
		GateGracefulNodeShutdownBasedOnPodPrio: {on: true},
		GateNodeSwap:                           {on: true, locked: true},
		GateCustomCPUCFSQuotaPeriod:            {on: true},
		GateImageMaximumGCAge:                  {on: true, locked: true},
		GateUserNamespacesSupport:              {on: true, locked: true},
		GateRecursiveReadOnlyMounts:            {on: true, locked: true},
		GateContainerCheckpoint:                {on: true},
		GateMemoryQoS:                          {on: true}, // beta, on, since 1.37
	} {
		got, ok := known[name]
		if !ok {
			t.Errorf("gate %s unknown", name)
			continue
		}
		if got != want {
			t.Errorf("gate %s = %+v, want %+v", name, got, want)
		}
	}
	for _, name := range []string{"AllAlpha", "AllBeta", "WatchListClient", "LoggingBetaOptions", "APIResponseCompression"} {
		if _, ok := known[name]; !ok {
			t.Errorf("gate %s unknown", name)
		}
	}
	if len(known) < 230 {
		t.Errorf("%d gates known, want the kubelet's whole registry (over 230)", len(known))
	}
}

// TestGateCheck checks that every bad gate is reported, in name order.
func TestGateCheck(t *testing.T) {
	got := featureGates(map[string]bool{"NodeSwap": false, "Bogus": true, "ContainerCheckpoint": false, "MemoryQOS": true}).check()
	want := []gateProblem{
		{"Bogus", "unrecognized feature gate: Bogus"},
		{"MemoryQOS", "unrecognized feature gate: MemoryQOS (did you mean MemoryQoS?)"},
		{"NodeSwap", "cannot set feature gate NodeSwap to false, feature is locked to true"},
	}
	if len(got) != len(want) {
		t.Fatalf("check() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("problem %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

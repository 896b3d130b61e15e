package scenarios

import (
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim/kcm"
)

// TestControllerManagerFlags: kube-controller-manager's own flag set, as
// sim/kcm parses it to start the controllers, takes the scenario's node
// lifecycle settings and holds them afterwards, so its node lifecycle
// controller acts as the scenario says.
func TestControllerManagerFlags(t *testing.T) {
	c := DefaultControlPlane("1.37")
	c.NodeMonitorPeriod = 2 * time.Second
	c.NodeMonitorGracePeriod = 12 * time.Second
	c.NodeStartupGracePeriod = 90 * time.Second
	c.NodeEvictionRate = 0.5
	c.SecondaryNodeEvictionRate = 0.025
	c.LargeClusterSizeThreshold = 7
	c.UnhealthyZoneThreshold = 0.3

	s, err := kcm.ParseFlags(c.ControllerManagerFlags())
	if err != nil {
		t.Fatal(err)
	}
	got := s.NodeLifecycleController
	if got.NodeMonitorPeriod.Duration != c.NodeMonitorPeriod || got.NodeMonitorGracePeriod.Duration != c.NodeMonitorGracePeriod ||
		got.NodeStartupGracePeriod.Duration != c.NodeStartupGracePeriod {
		t.Errorf("periods %v %v %v, want %v %v %v", got.NodeMonitorPeriod, got.NodeMonitorGracePeriod, got.NodeStartupGracePeriod,
			c.NodeMonitorPeriod, c.NodeMonitorGracePeriod, c.NodeStartupGracePeriod)
	}
	if float64(got.NodeEvictionRate) != float64(float32(c.NodeEvictionRate)) ||
		float64(got.SecondaryNodeEvictionRate) != float64(float32(c.SecondaryNodeEvictionRate)) ||
		int(got.LargeClusterSizeThreshold) != c.LargeClusterSizeThreshold ||
		float64(got.UnhealthyZoneThreshold) != float64(float32(c.UnhealthyZoneThreshold)) {
		t.Errorf("eviction settings %v %v %v %v, want %v %v %v %v", got.NodeEvictionRate, got.SecondaryNodeEvictionRate,
			got.LargeClusterSizeThreshold, got.UnhealthyZoneThreshold, c.NodeEvictionRate, c.SecondaryNodeEvictionRate,
			c.LargeClusterSizeThreshold, c.UnhealthyZoneThreshold)
	}
}

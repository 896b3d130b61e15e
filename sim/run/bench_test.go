package run

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nodesim/nodesim/scenarios"
)

// fleetScenario is n nodes in one pool for d of virtual time.
func fleetScenario(b testing.TB, n int, d time.Duration) *scenarios.Scenario {
	sc, err := scenarios.Parse("bench.yaml", []byte(fmt.Sprintf(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: bench-%d}
spec:
  seed: 1
  duration: %s
  nodePools:
  - name: n
    count: %d
`, n, d, n)))
	if err != nil {
		b.Fatal(err)
	}
	return sc
}

func reportRun(b *testing.B, s *Summary) {
	var writes int64
	for _, verbs := range s.APIWrites {
		for _, n := range verbs {
			writes += n
		}
	}
	b.ReportMetric(s.Speedup, "speedup")
	b.ReportMetric(float64(writes)/s.WallSeconds, "writes/s")
	b.ReportMetric(s.WallSeconds, "wall-s")
}

// BenchmarkHeartbeats1000 runs 1,000 nodes for 10 virtual minutes with
// every heartbeat written through the API server, and reports virtual
// seconds per wall second and API writes per wall second.
func BenchmarkHeartbeats1000(b *testing.B) {
	sc := fleetScenario(b, 1000, 10*time.Minute)
	for b.Loop() {
		s, err := Run(context.Background(), sc, Options{OutDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		reportRun(b, s)
	}
}

// BenchmarkZoneOutage3x1000 is the zone outage at scale: 3 zones of 1,000
// nodes, 3,000 pods, one zone partitioned for 10 of 30 virtual minutes,
// with the control plane tainting, evicting and rescheduling. It reports
// the wall time to the verdict.
func BenchmarkZoneOutage3x1000(b *testing.B) {
	sc, err := scenarios.Load("../../scenarios/scale/zone-outage-3x1000.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Run(context.Background(), sc, Options{OutDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if !s.Passed() {
			b.Fatalf("expectations failed: %+v", s.Expectations)
		}
		reportRun(b, s)
	}
}

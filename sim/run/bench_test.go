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
		var writes int64
		for _, verbs := range s.APIWrites {
			for _, n := range verbs {
				writes += n
			}
		}
		b.ReportMetric(s.Speedup, "speedup")
		b.ReportMetric(float64(writes)/s.WallSeconds, "writes/s")
	}
}

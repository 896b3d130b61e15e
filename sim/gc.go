package sim

import (
	"os"
	"runtime/debug"
)

// gcPercent is the collector's target when GOGC is not set: a simulation
// allocates fast and keeps little (the API server's watch cache, the
// kubelets' views), so collecting at 5x the live heap instead of 2x halves
// the time spent collecting (measured with BenchmarkHeartbeats1000).
const gcPercent = 400

// TuneGC sets the process's garbage collection target for simulation,
// unless the user set GOGC. Call it once from main or a benchmark.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

package sim

import (
	"os"
	"runtime/debug"
	"syscall"
	"time"
)

// gcPercent is the collector's target when GOGC is not set: a simulation
// allocates fast and keeps little (the API server's watch cache, the
// kubelets' views), so collecting at 5x the live heap instead of 2x halves
// the time spent collecting (measured with BenchmarkHeartbeats1000).
const gcPercent = 400

// memoryLimit is the soft memory limit when GOMEMLIMIT is not set: below
// it the collector runs at gcPercent; near it, more often, so that a large
// fleet (whose live heap grows with the node count: about 65 KB a node
// between the API server's watch cache, etcd and the kubelets' views)
// stays within 2 GiB of resident memory instead of growing to 5x its live
// heap. At 10,000 nodes 1.5 GiB costs no measurable speed against 1.75
// GiB and keeps the peak RSS at 1.7 GiB instead of 1.9.
const memoryLimit = 1536 << 20

// TuneGC sets the process's garbage collection target and soft memory
// limit for simulation, unless the user set GOGC or GOMEMLIMIT. Call it
// once from main or a benchmark.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// ProcessCPU is the CPU time (user and system) the process has used, or 0
// where the system does not tell: the cost of a benchmark on a machine
// whose speed varies.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

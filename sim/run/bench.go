package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/kcm"
)

// Defaults of a bench run.
const (
	// DefaultBenchZones is how many zones the benchmark's fleet is spread
	// over (one pool per zone).
	DefaultBenchZones = 5
	// DefaultBenchDuration is the virtual time each fleet size is run for.
	DefaultBenchDuration = 10 * time.Minute
	// benchCalibration is how long raw etcd puts are measured before the
	// simulation starts.
	benchCalibration = 3 * time.Second
	// benchCeiling is how long the API server's own Lease-update ceiling
	// is measured before the simulation starts.
	benchCeiling = 5 * time.Second
)

// BenchOptions is one fleet size of `nodesim bench`.
type BenchOptions struct {
	// Nodes is the fleet size.
	Nodes int
	// Duration is the virtual time simulated (default DefaultBenchDuration).
	Duration time.Duration
	// Zones is how many zones the nodes are spread over (default
	// DefaultBenchZones).
	Zones int
	// Seed of the run.
	Seed uint64
	// HeapProfile, if set, receives a heap profile taken at the end of the
	// run, before anything is released.
	HeapProfile io.Writer
	// Soak, if set, makes the run a soak: Duration is replaced by Soak, a
	// fault from the timeline library (soakFaults) happens every virtual
	// hour, and the live heap, goroutines and open files are sampled every
	// virtual hour (BenchResult.Soak).
	Soak time.Duration
}

// soakFaults are the soak's faults, one every virtual hour in this order,
// each on one zone (the next one each time), half an hour into the hour:
// the timeline's steps at the durations the shipped scenarios use.
var soakFaults = []string{
	"{at: %s, do: partition, nodes: {pool: %s}, for: 10m}",
	"{at: %s, do: stopKubelet, nodes: {pool: %s}, for: 10m}",
	"{at: %s, do: memoryPressure, nodes: {pool: %s}, for: 10m}",
	"{at: %s, do: networkDown, nodes: {pool: %s}, for: 5m}",
	"{at: %s, do: cordon, nodes: {pool: %s}, for: 10m}",
	"{at: %s, do: restartKubelet, nodes: {pool: %s}}",
	"{at: %s, do: diskPressure, nodes: {pool: %s}, for: 10m}",
	"{at: %s, do: apiServerLatency, latency: 500ms, for: 10m}",
	"{at: %s, do: apiServerOutage, for: 2m}",
}

// SoakSample is the process at the end of one virtual hour of a soak,
// after a full garbage collection.
type SoakSample struct {
	VirtualHour int `json:"virtualHour"`
	// HeapBytes is the live heap (runtime.MemStats.HeapAlloc right after a
	// collection).
	HeapBytes  uint64 `json:"heapBytes"`
	Goroutines int    `json:"goroutines"`
	OpenFiles  int    `json:"openFiles"`
}

// SoakResult is what a soak saw: the hourly samples, and the growth of
// each between the end of virtual hour 2 and the end of the run (the first
// hours fill caches and histories: the steady state starts after).
type SoakResult struct {
	Samples          []SoakSample `json:"samples"`
	HeapGrowth       float64      `json:"heapGrowth"`
	GoroutinesGrowth float64      `json:"goroutinesGrowth"`
	OpenFilesGrowth  float64      `json:"openFilesGrowth"`
}

// soakBaseHour is the sample the growth is measured from.
const soakBaseHour = 2

// growth is (last - base) / base, or 0 without a base.
func growth(base, last float64) float64 {
	if base == 0 {
		return 0
	}
	return (last - base) / base
}

// soakSample collects garbage and samples the process.
func soakSample(hour int) SoakSample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, _ := os.ReadDir("/proc/self/fd")
	return SoakSample{VirtualHour: hour, HeapBytes: ms.HeapAlloc, Goroutines: runtime.NumGoroutine(), OpenFiles: len(fds)}
}

// summarize computes the growth from soakBaseHour to the last sample.
func (s *SoakResult) summarize() {
	if len(s.Samples) <= soakBaseHour {
		return
	}
	base, last := s.Samples[soakBaseHour-1], s.Samples[len(s.Samples)-1]
	s.HeapGrowth = growth(float64(base.HeapBytes), float64(last.HeapBytes))
	s.GoroutinesGrowth = growth(float64(base.Goroutines), float64(last.Goroutines))
	s.OpenFilesGrowth = growth(float64(base.OpenFiles), float64(last.OpenFiles))
}

// BenchResult is one line of `nodesim bench --json` (INTERFACE.md).
type BenchResult struct {
	Nodes              int     `json:"nodes"`
	VirtualSeconds     float64 `json:"virtualSeconds"`
	WallSeconds        float64 `json:"wallSeconds"`
	Speedup            float64 `json:"speedup"`
	APIWrites          int64   `json:"apiWrites"`
	APIWritesPerSecond float64 `json:"apiWritesPerSecond"`
	EtcdPutsPerSecond  float64 `json:"etcdPutsPerSecond"`
	Efficiency         float64 `json:"efficiency"`
	// The API server's Lease-update ceiling measured before the run
	// (apiserver.MeasureLeaseUpdates), the simulation's API writes per
	// second as a share of it, and the ceiling's CPU per write: what the
	// API server's own write path costs, against CPUPerWrite.
	APICeilingWritesPerSecond float64 `json:"apiCeilingWritesPerSecond"`
	CeilingShare              float64 `json:"ceilingShare"`
	APICeilingCPUPerWrite     float64 `json:"apiCeilingCpuMillisecondsPerWrite"`
	RegistrationSeconds       float64 `json:"registrationSeconds"`
	RSSBytes                  int64   `json:"rssBytes"`
	CPUSeconds                float64 `json:"cpuSeconds"`
	CPUPerWrite               float64 `json:"cpuMillisecondsPerWrite"`
	LeaseWrites               int64   `json:"leaseWrites"`
	StatusWrites              int64   `json:"statusWrites"`
	LeaseBytes                int64   `json:"leaseBytes"`
	StatusBytes               int64   `json:"statusBytes"`
	// Soak is set by a soak (BenchOptions.Soak).
	Soak *SoakResult `json:"soak,omitempty"`
}

// benchScenario is the benchmark's fleet: nodes spread over zones, one pool
// per zone, with the kubelet's defaults and nothing else happening.
func benchScenario(o BenchOptions) (*scenarios.Scenario, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: bench-%d}\nspec:\n  seed: %d\n  duration: %s\n  nodePools:\n",
		o.Nodes, o.Seed, o.Duration)
	for z := range o.Zones {
		count := o.Nodes / o.Zones
		if z < o.Nodes%o.Zones {
			count++
		}
		zone := "zone-" + string(rune('a'+z))
		fmt.Fprintf(&b, "  - name: %s\n    count: %d\n    labels: {topology.kubernetes.io/zone: %s, topology.kubernetes.io/region: bench}\n", zone, count, zone)
	}
	if o.Soak > 0 {
		b.WriteString("  timeline:\n")
		for h := range int(o.Soak / time.Hour) {
			zone := "zone-" + string(rune('a'+h%o.Zones))
			at := (time.Duration(h)*time.Hour + 30*time.Minute).String()
			fault := soakFaults[h%len(soakFaults)]
			if strings.Contains(fault, "nodes:") {
				fmt.Fprintf(&b, "  - "+fault+"\n", at, zone)
			} else { // the API server's: no zone
				fmt.Fprintf(&b, "  - "+fault+"\n", at)
			}
		}
	}
	return scenarios.Parse("bench.yaml", []byte(b.String()))
}

// Bench simulates o.Nodes nodes with the control plane watching them for
// o.Duration of virtual time, as fast as it can, every heartbeat a real
// write through the API server; and, before that, measures in the same
// process raw puts per second into the same embedded etcd, and the API
// server's own Lease-update ceiling, which the simulation's write rate is
// a share of.
func Bench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	if o.Nodes < 1 {
		return nil, fmt.Errorf("bench: nodes must be at least 1, not %d", o.Nodes)
	}
	if o.Duration == 0 {
		o.Duration = DefaultBenchDuration
	}
	if o.Zones == 0 {
		o.Zones = DefaultBenchZones
	}
	if o.Soak > 0 {
		o.Duration = o.Soak
	}
	o.Zones = min(o.Zones, o.Nodes, 26)
	sc, err := benchScenario(o)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	// The server's and the nodes' files in one temporary folder that a
	// later process removes if this one is killed (TempDir).
	tmp, removeTmp, err := TempDir("bench")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer removeTmp()
	server, err := apiserver.Start(ctx, apiserver.Config{Dir: filepath.Join(tmp, "apiserver")})
	if err != nil {
		return nil, err
	}
	defer server.Stop()
	etcdPuts, err := server.MeasureEtcdPuts(ctx, benchCalibration)
	if err != nil {
		return nil, err
	}
	ceiling, err := server.MeasureLeaseUpdates(ctx, benchCeiling)
	if err != nil {
		return nil, err
	}

	// The heartbeat path only: the nodes' runtimes keep their state in the
	// temporary folder and serve no sockets.
	stateDir := filepath.Join(tmp, "state")
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	// nodesim's models of the control plane, without kube-controller-manager's
	// controllers: the measure is the heartbeats' cost to the API server.
	models, err := kcm.ParseControllers(kcm.Models)
	if err != nil {
		return nil, err
	}
	wallStart, cpuStart := time.Now(), sim.ProcessCPU()
	w, err := newWorld(ctx, sc, server, sim.Config{Seed: o.Seed, Trace: io.Discard}, worldOptions{controllers: &models, stateDir: stateDir})
	if err != nil {
		return nil, err
	}
	defer w.close()
	var registration time.Duration
	nodes := w.informer.Core().V1().Nodes().Lister()
	w.engine.AfterBarriers(func(time.Time) {
		if registration != 0 {
			return
		}
		all, err := nodes.List(labels.Everything())
		if err != nil || len(all) < o.Nodes {
			return
		}
		for _, n := range all {
			if !nodeReady(n) {
				return
			}
		}
		registration = time.Since(wallStart)
	})
	var soak *SoakResult
	if o.Soak > 0 {
		soak = &SoakResult{}
		next := w.engine.Start().Add(time.Hour)
		w.engine.AfterBarriers(func(now time.Time) {
			for !now.Before(next) {
				soak.Samples = append(soak.Samples, soakSample(int(next.Sub(w.engine.Start())/time.Hour)))
				next = next.Add(time.Hour)
			}
		})
	}
	if err := w.engine.Run(w.ctx, w.engine.Start().Add(o.Duration)); err != nil {
		if w.err != nil {
			return nil, fmt.Errorf("bench: %w", w.err)
		}
		return nil, fmt.Errorf("bench: %w", err)
	}
	wall, cpu := time.Since(wallStart).Seconds(), (sim.ProcessCPU() - cpuStart).Seconds()
	if soak != nil && len(soak.Samples) < int(o.Soak/time.Hour) { // the last hour ended with the run
		soak.Samples = append(soak.Samples, soakSample(int(o.Soak/time.Hour)))
	}
	if o.HeapProfile != nil {
		runtime.GC()
		if err := pprof.WriteHeapProfile(o.HeapProfile); err != nil {
			return nil, fmt.Errorf("bench: heap profile: %w", err)
		}
	}
	writes, bytes, total := w.traffic.snapshot()
	r := &BenchResult{
		Nodes:                     o.Nodes,
		VirtualSeconds:            o.Duration.Seconds(),
		WallSeconds:               wall,
		Speedup:                   o.Duration.Seconds() / wall,
		APIWrites:                 total,
		APIWritesPerSecond:        float64(total) / wall,
		EtcdPutsPerSecond:         etcdPuts,
		APICeilingWritesPerSecond: ceiling.WritesPerSecond,
		APICeilingCPUPerWrite:     ceiling.CPUMillisecondsPerWrite,
		RegistrationSeconds:       registration.Seconds(),
		RSSBytes:                  peakRSS(),
		CPUSeconds:                cpu,
		LeaseWrites:               sumVerbs(writes["leases"]),
		StatusWrites:              sumVerbs(writes["nodes/status"]),
		LeaseBytes:                sumVerbs(bytes["leases"]),
		StatusBytes:               sumVerbs(bytes["nodes/status"]),
		Soak:                      soak,
	}
	if soak != nil {
		soak.summarize()
	}
	if total > 0 {
		r.CPUPerWrite = 1000 * cpu / float64(total)
	}
	if etcdPuts > 0 {
		r.Efficiency = r.APIWritesPerSecond / etcdPuts
	}
	r.CeilingShare = r.APIWritesPerSecond / ceiling.WritesPerSecond
	if registration == 0 {
		return r, fmt.Errorf("bench: not every one of the %d nodes was registered and Ready within %s of virtual time", o.Nodes, o.Duration)
	}
	return r, nil
}

// ScenarioBenchResult is `nodesim bench --scenario FILE --json`: a
// scenario run as fast as it goes, against the API server's ceiling
// measured in the same process before it.
type ScenarioBenchResult struct {
	Scenario                  string  `json:"scenario"`
	ScenarioFile              string  `json:"scenarioFile"`
	Nodes                     int     `json:"nodes"`
	VirtualSeconds            float64 `json:"virtualSeconds"`
	WallSeconds               float64 `json:"wallSeconds"`
	Speedup                   float64 `json:"speedup"`
	APIWrites                 int64   `json:"apiWrites"`
	APIWritesPerSecond        float64 `json:"apiWritesPerSecond"`
	APICeilingWritesPerSecond float64 `json:"apiCeilingWritesPerSecond"`
	CeilingShare              float64 `json:"ceilingShare"`
	// WriteBoundSeconds is APIWrites at the ceiling's rate: the least wall
	// time the API server allows for the run's writes; WallOverWriteBound
	// is WallSeconds over it (1 would be a run that only wrote).
	WriteBoundSeconds  float64 `json:"writeBoundSeconds"`
	WallOverWriteBound float64 `json:"wallOverWriteBound"`
	RSSBytes           int64   `json:"rssBytes"`
	// ExpectationsPassed and ExpectationsFailed count the scenario's
	// expectations.
	ExpectationsPassed int `json:"expectationsPassed"`
	ExpectationsFailed int `json:"expectationsFailed"`
}

// BenchScenario runs sc as `nodesim run` does, as fast as it goes, its
// outputs in a temporary folder removed afterwards; before the fleet
// starts, it measures the API server's Lease-update ceiling on the same
// server.
func BenchScenario(ctx context.Context, sc *scenarios.Scenario, seed *uint64) (*ScenarioBenchResult, error) {
	tmp, removeTmp, err := TempDir("bench")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer removeTmp()
	out := filepath.Join(tmp, "out") // the run locks its own folder
	var ceiling apiserver.LeaseCeiling
	s, err := Run(ctx, sc, Options{OutDir: out, Seed: seed, BeforeFleet: func(server *apiserver.Server) error {
		ceiling, err = server.MeasureLeaseUpdates(ctx, benchCeiling)
		return err
	}})
	if err != nil {
		return nil, err
	}
	var writes int64
	for _, verbs := range s.APIWrites {
		writes += sumVerbs(verbs)
	}
	r := &ScenarioBenchResult{
		Scenario: s.Scenario, ScenarioFile: sc.File, Nodes: s.Nodes,
		VirtualSeconds: s.VirtualSeconds, WallSeconds: s.WallSeconds, Speedup: s.Speedup,
		APIWrites: writes, APIWritesPerSecond: float64(writes) / s.WallSeconds,
		APICeilingWritesPerSecond: ceiling.WritesPerSecond,
		WriteBoundSeconds:         float64(writes) / ceiling.WritesPerSecond,
		RSSBytes:                  peakRSS(),
	}
	r.CeilingShare = r.APIWritesPerSecond / ceiling.WritesPerSecond
	r.WallOverWriteBound = r.WallSeconds / r.WriteBoundSeconds
	for _, x := range s.Expectations {
		if x.Passed {
			r.ExpectationsPassed++
		} else {
			r.ExpectationsFailed++
		}
	}
	return r, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func sumVerbs(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// peakRSS is the process's peak resident set size (VmHWM), or 0 where
// /proc does not tell.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

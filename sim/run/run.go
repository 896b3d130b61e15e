package run

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nodesim/nodesim/internal/version"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/kcm"
	"github.com/nodesim/nodesim/sim/report"
	"github.com/nodesim/nodesim/sim/shard"
)

// Options of a run.
type Options struct {
	// OutDir receives trace.jsonl, summary.json and report.html.
	OutDir string
	// Seed, if set, replaces the scenario's seed.
	Seed *uint64
	// TraceFull traces every heartbeat, not only changes.
	TraceFull bool
	// Pace holds virtual time to Pace x wall time; 0 is as fast as possible.
	Pace float64
	// StateDir holds every node's root dir (default OutDir/kubelet).
	StateDir string
	// Progress, if set, hears of the virtual time reached after each window.
	Progress func(virtual time.Duration)
	// MetricsListener, if set, serves /metrics during the run; Run closes it.
	MetricsListener net.Listener
	// Controllers is --controllers (nil: the scenario's, else every one).
	Controllers []string
	// Flags is the command line's flags as given, for the report and
	// summary.json (the run's identity).
	Flags string
	// BeforeFleet, if set, is called once the API server is up, before
	// the fleet starts (bench measures the server's ceiling there).
	BeforeFleet func(*apiserver.Server) error
}

// Output file names in OutDir.
const (
	TraceFile   = "trace.jsonl"
	SummaryFile = "summary.json"
	ReportFile  = "report.html"
	// StateDirName is the default state directory in OutDir: every node's
	// root dir, with its checkpoints.
	StateDirName = "kubelet"
)

// Run runs the scenario on a fresh embedded API server, checks its
// expectations and writes its outputs. The files appear only when the run
// completed: nothing half-written is left behind.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (_ *Summary, err error) {
	// Absolute paths: the runtimes' checkpoint locations must be (the CRI
	// refuses a relative one), and nothing may depend on the directory
	// the process started in.
	if opts.OutDir, err = filepath.Abs(opts.OutDir); err != nil {
		return nil, &InputError{fmt.Errorf("output directory: %w", err)}
	}
	if opts.StateDir != "" {
		if opts.StateDir, err = filepath.Abs(opts.StateDir); err != nil {
			return nil, &InputError{fmt.Errorf("state directory: %w", err)}
		}
	}
	if err := checkMemory(sc); err != nil {
		return nil, err
	}
	RemoveStaleTempDirs()
	outLock, err := prepareOutDir(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer outLock.release()
	traceTmp, err := os.CreateTemp(opts.OutDir, "."+TraceFile+".tmp-")
	if err != nil {
		return nil, &InputError{fmt.Errorf("output directory: %w", err)}
	}
	defer func() {
		traceTmp.Close()
		os.Remove(traceTmp.Name())
	}()
	// The API server's data (etcd, PKI) goes in a temporary folder of this
	// process's own, which a later run removes if this one is killed.
	tmp, removeTmp, err := TempDir("run")
	if err != nil {
		return nil, &InputError{fmt.Errorf("temporary folder: %w", err)}
	}
	defer removeTmp()

	rm, err := newRunMetrics(sc, opts.MetricsListener, shard.Shard{}) // metrics hook: metrics.prom and /metrics
	if err != nil {
		return nil, err
	}
	defer rm.close()

	sel, err := selectControllers(sc, opts.Controllers, kcm.DefaultRunControllers)
	if err != nil {
		return nil, err
	}
	stateDir := opts.StateDir
	if stateDir == "" {
		stateDir = filepath.Join(opts.OutDir, StateDirName)
	}
	server, err := apiserver.Start(ctx, apiserver.Config{
		Dir:                          filepath.Join(tmp, "apiserver"),
		NotReadyTolerationSeconds:    sc.ControlPlane.DefaultNotReadyTolerationSeconds,
		UnreachableTolerationSeconds: sc.ControlPlane.DefaultUnreachableTolerationSeconds,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if stopErr := server.Stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	if opts.BeforeFleet != nil {
		if err := opts.BeforeFleet(server); err != nil {
			return nil, err
		}
	}

	seed := sc.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	traceOut := bufio.NewWriterSize(traceTmp, 1<<16)
	w, err := newWorld(ctx, sc, server, sim.Config{Seed: seed, Pace: opts.Pace, Trace: traceOut},
		worldOptions{traceFull: opts.TraceFull, controllers: &sel, progress: opts.Progress, metrics: rm,
			stateDir: stateDir, endpoints: server})
	if err != nil {
		return nil, err
	}
	defer w.close()

	// API writes per window, for the report's plot; and what the trace
	// does not hold (requests, failures, latency, writes by resource, pods
	// by phase).
	var samples []report.Sample
	var lastWrites int64
	m := newMeasure(sc.Duration)
	w.traffic.measure = m
	w.engine.AfterBarriers(func(now time.Time) {
		_, _, total := w.traffic.snapshot()
		samples = append(samples, report.Sample{T: now.Sub(w.engine.Start()), Writes: total - lastWrites})
		lastWrites = total
		m.barrier(now.Sub(w.engine.Start()), w)
	})

	wallStart := time.Now()
	end := w.engine.Start().Add(sc.Duration)
	if runErr := w.engine.Run(w.ctx, end); runErr != nil {
		if w.err != nil {
			return nil, fmt.Errorf("run %s: %w", sc.Name, w.err)
		}
		return nil, fmt.Errorf("run %s: %w", sc.Name, runErr)
	}
	wall := time.Since(wallStart).Seconds()

	records := w.engine.Tracer().Records()
	results := sc.Check(records, sc.Duration)
	expectations := make([]Expectation, 0, len(results))
	for i, r := range results {
		rm.observeExpectation(i, r) // metrics hook: nodesim_expectation_passed
		event := sim.EventExpectationPassed
		if !r.Passed {
			event = sim.EventExpectationFailed
		}
		w.engine.TraceAt(end, sim.Record{Event: event, Type: r.Type, Reason: r.Reason})
		expectations = append(expectations, Expectation{Type: r.Type, Reason: r.Reason, Passed: r.Passed,
			Expected: r.Expected, Seen: r.Seen, Line: r.Line, At: r.At.Seconds()})
	}
	if err := w.engine.Flush(); err != nil {
		return nil, fmt.Errorf("write trace: %w", err)
	}
	if err := traceOut.Flush(); err != nil {
		return nil, fmt.Errorf("write trace: %w", err)
	}

	writes, bytes, _ := w.traffic.snapshot()
	events := w.engine.Tracer().Counts()
	traceRecords := 0
	for _, n := range events {
		traceRecords += n
	}
	build := version.Get()
	summary := &Summary{
		Nodesim:           &build,
		ScenarioFile:      sc.File,
		KubernetesVersion: sc.KubernetesVersion,
		Flags:             opts.Flags,
		TraceRecords:      traceRecords,
		API:               m.summary(),
		Scenario:          sc.Name,
		Seed:              seed,
		Nodes:             len(w.fleet.kubelets),
		VirtualSeconds:    sc.Duration.Seconds(),
		WallSeconds:       wall,
		Speedup:           sc.Duration.Seconds() / wall,
		APIWrites:         writes,
		APIBytes:          bytes,
		Events:            events,
		Expectations:      expectations,
		FailedSteps:       failedSteps(records),
	}
	if err := writeReport(filepath.Join(opts.OutDir, ReportFile), w, summary, records, samples, m); err != nil {
		return nil, err
	}
	if err := traceTmp.Close(); err != nil {
		return nil, fmt.Errorf("write trace: %w", err)
	}
	if err := os.Rename(traceTmp.Name(), filepath.Join(opts.OutDir, TraceFile)); err != nil {
		return nil, fmt.Errorf("write trace: %w", err)
	}
	if err := writeJSON(filepath.Join(opts.OutDir, SummaryFile), summary); err != nil {
		return nil, err
	}
	if err := rm.writeFile(filepath.Join(opts.OutDir, MetricsFile)); err != nil { // metrics hook
		return nil, err
	}
	return summary, nil
}

// prepareOutDir makes the output directory, refusing one that is a file or
// cannot be written as the user's to fix, takes its lock (one run at a
// time writes a directory) and removes what a killed run left there.
func prepareOutDir(dir string) (*lock, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, &InputError{fmt.Errorf("output directory %s: it is %s, not a directory", dir, describeMode(fi.Mode()))}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, &InputError{fmt.Errorf("output directory: %w", err)}
	}
	l, held, err := lockDir(dir, false)
	switch {
	case err != nil:
		return nil, &InputError{fmt.Errorf("output directory %s: %w", dir, err)}
	case held:
		return nil, &InputError{fmt.Errorf("output directory %s: another nodesim run is writing there", dir)}
	}
	removeStaleOutputs(dir)
	return l, nil
}

func describeMode(m os.FileMode) string {
	if m.IsRegular() {
		return "a regular file"
	}
	return "a " + m.Type().String() + " file"
}

// selectControllers is the --controllers list given, else the scenario's
// spec.controlPlane.controllers, else the command's default.
func selectControllers(sc *scenarios.Scenario, given, defaults []string) (kcm.Selection, error) {
	list := defaults
	switch {
	case given != nil:
		list = given
	case sc.ControlPlane.Controllers != nil:
		list = sc.ControlPlane.Controllers
	}
	sel, err := kcm.ParseControllers(list)
	if err != nil {
		return kcm.Selection{}, &InputError{Err: fmt.Errorf("--controllers: %w", err)}
	}
	return sel, nil
}

// describeSelector says which nodes a selector chooses, for people.
func describeSelector(sel scenarios.NodeSelector) string {
	var parts []string
	if sel.Pool != "" {
		parts = append(parts, "pool "+sel.Pool)
	}
	if len(sel.Labels) > 0 {
		keys := make([]string, 0, len(sel.Labels))
		for k := range sel.Labels {
			keys = append(keys, k+"="+sel.Labels[k])
		}
		sort.Strings(keys)
		parts = append(parts, strings.Join(keys, ","))
	}
	if len(sel.Names) > 0 {
		parts = append(parts, strings.Join(sel.Names, ","))
	}
	if len(parts) == 0 {
		parts = append(parts, "every node")
	}
	if sel.Fraction > 0 {
		parts = append(parts, fmt.Sprintf("%g of them", sel.Fraction))
	}
	return strings.Join(parts, " ")
}

func writeReport(path string, w *world, s *Summary, records []sim.Record, samples []report.Sample, m *measure) error {
	in := report.Input{
		Scenario: s.Scenario, Seed: s.Seed, Nodes: s.Nodes, Duration: w.sc.Duration,
		WallSeconds: s.WallSeconds, Passed: s.Passed(), Records: records, Writes: samples,
		Zones: map[string]string{}, APIWrites: s.APIWrites, APIBytes: s.APIBytes,
		TraceRecords: s.TraceRecords, Windows: m.windows, PodPhases: m.phases, Pools: map[string]string{},
		Identity: report.Identity{ScenarioFile: s.ScenarioFile, KubernetesVersion: s.KubernetesVersion, Flags: s.Flags},
	}
	if s.Nodesim != nil {
		in.Identity.Version, in.Identity.Commit, in.Identity.GoVersion = s.Nodesim.Version, s.Nodesim.Commit, s.Nodesim.GoVersion
		in.Identity.Served = s.Nodesim.Kubernetes
	}
	for _, f := range s.FailedSteps {
		in.FailedSteps = append(in.FailedSteps, report.FailedStep{T: time.Duration(f.T * float64(time.Second)).Round(time.Millisecond),
			Event: f.Event, Type: f.Type, Pod: f.Pod, Node: f.Node, Error: f.Error})
	}
	for _, e := range s.Expectations {
		in.Expectations = append(in.Expectations, report.Expectation{Type: e.Type, Reason: e.Reason, Passed: e.Passed,
			Expected: e.Expected, Seen: e.Seen, Line: e.Line})
	}
	for _, st := range w.sc.Timeline {
		target := "cluster"
		if nodeScoped[st.Do] {
			target = describeSelector(st.Nodes)
		}
		if st.Pool != "" {
			target = fmt.Sprintf("%s x%d", st.Pool, st.Count)
		}
		end := time.Duration(0)
		if st.For > 0 {
			end = st.At + st.For
		}
		in.Faults = append(in.Faults, report.Fault{Type: st.Do, Target: target, Start: st.At, End: end})
	}
	for _, k := range w.fleet.kubelets {
		if n := k.Node(); n != nil {
			in.Zones[k.Name()] = n.Labels["topology.kubernetes.io/zone"]
		}
		if pool, _, ok := w.sc.NodePoolOf(k.Name()); ok {
			in.Pools[k.Name()] = pool.Name
		}
	}
	return writeFileAtomic(path, func(out io.Writer) error { return report.Write(out, in) })
}

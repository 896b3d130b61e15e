package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// Options of a run.
type Options struct {
	// OutDir receives trace.jsonl and summary.json.
	OutDir string
	// Seed, if set, replaces the scenario's seed.
	Seed *uint64
	// TraceFull traces every heartbeat, not only changes.
	TraceFull bool
	// Pace holds virtual time to Pace x wall time; 0 is as fast as possible.
	Pace float64
	// Progress, if set, hears of the virtual time reached after each window.
	Progress func(virtual time.Duration)
}

// Output file names in OutDir.
const (
	TraceFile   = "trace.jsonl"
	SummaryFile = "summary.json"
)

// Run runs the scenario on a fresh embedded API server and writes its
// outputs. The files appear only when the run completed: nothing
// half-written is left behind.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (_ *Summary, err error) {
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	traceTmp, err := os.CreateTemp(opts.OutDir, "."+TraceFile+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	defer func() {
		traceTmp.Close()
		os.Remove(traceTmp.Name())
	}()

	server, err := apiserver.Start(ctx, apiserver.Config{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if stopErr := server.Stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()

	seed := sc.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	w, err := newWorld(ctx, sc, server, sim.Config{Seed: seed, Pace: opts.Pace, Trace: traceTmp}, opts.TraceFull, opts.Progress)
	if err != nil {
		return nil, err
	}
	defer w.close()

	wallStart := time.Now()
	if err := w.engine.Run(ctx, w.engine.Start().Add(sc.Duration)); err != nil {
		return nil, fmt.Errorf("run %s: %w", sc.Name, err)
	}
	wall := time.Since(wallStart).Seconds()

	writes, bytes, _ := w.traffic.snapshot()
	summary := &Summary{
		Scenario:       sc.Name,
		Seed:           seed,
		Nodes:          len(w.fleet.kubelets),
		VirtualSeconds: sc.Duration.Seconds(),
		WallSeconds:    wall,
		Speedup:        sc.Duration.Seconds() / wall,
		APIWrites:      writes,
		APIBytes:       bytes,
		Events:         w.engine.Tracer().Counts(),
		Expectations:   []Expectation{},
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
	return summary, nil
}

// Serve runs the scenario's fleet against backend at pace until ctx is
// done, then stops it. The scenario's duration is ignored.
func Serve(ctx context.Context, sc *scenarios.Scenario, backend apiserver.Backend, pace float64, start time.Time) error {
	w, err := newWorld(ctx, sc, backend, sim.Config{Seed: sc.Seed, Pace: pace, Start: start, MaxWindow: 100 * time.Millisecond}, false, nil)
	if err != nil {
		return err
	}
	defer w.close()
	err = w.engine.Run(ctx, start.Add(100*365*24*time.Hour))
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// world is a scenario put on an engine against an API server.
type world struct {
	engine  *sim.Engine
	fleet   *fleet
	traffic *traffic
	cancel  context.CancelFunc
}

func (w *world) close() {
	w.cancel()
	w.engine.Close()
}

func newWorld(ctx context.Context, sc *scenarios.Scenario, backend apiserver.Backend, cfg sim.Config, traceFull bool, progress func(time.Duration)) (*world, error) {
	cfg.Progress = progress
	e, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	t := newTraffic()
	clients, err := newClients(backend.RESTConfig(), t)
	if err != nil {
		return nil, err
	}
	f, _, err := newFleet(sc, e, clients, traceFull)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	window := cfg.MaxWindow
	if window == 0 {
		window = sim.DefaultMaxWindow
	}
	if _, err := startPodDispatcher(ctx, backend.RESTConfig(), e, f, window); err != nil {
		cancel()
		return nil, err
	}
	return &world{engine: e, fleet: f, traffic: t, cancel: cancel}, nil
}

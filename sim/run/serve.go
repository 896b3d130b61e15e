package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/kcm"
	"github.com/nodesim/nodesim/sim/shard"
)

// ServeOptions are the settings of Serve.
type ServeOptions struct {
	// Pace holds virtual time to Pace x wall time.
	Pace float64
	// Start is the virtual time the fleet starts at.
	Start time.Time
	// MetricsListener, if set, serves /metrics; Serve closes it.
	MetricsListener net.Listener
	// StateDir holds every node's root dir (checkpoints, cri.sock,
	// device-plugins/).
	StateDir string
	// Controllers is --controllers (nil: the scenario's, else on the
	// embedded API server every one, against another cluster none).
	Controllers []string
	// Log, if set, hears what serve decides as it goes: each
	// expectation's verdict, the shard's Lease taken and lost.
	Log io.Writer
	// Shard, when set, runs only the shard's nodes, once this process
	// holds the shard's Lease (see ShardLease).
	Shard shard.Shard
	// Lease is how the shard's Lease is held.
	Lease ShardLease
}

// Serve runs the scenario's fleet (or the shard's part of it) against
// backend at pace until ctx is done, then stops it. The timeline is
// replayed at that pace and each expectation is checked when it is
// decided (its verdict on Log and /metrics); the scenario's duration does
// not end it. nodesim's control plane models run by the selection of
// controllers. MetricsListener, if not nil, serves /metrics until then;
// Serve closes it.
func Serve(ctx context.Context, sc *scenarios.Scenario, backend apiserver.Backend, o ServeOptions) error {
	if err := checkMemory(shareOf(sc, o.Shard)); err != nil {
		return err
	}
	if o.StateDir != "" {
		abs, err := filepath.Abs(o.StateDir)
		if err != nil {
			return &InputError{fmt.Errorf("state directory: %w", err)}
		}
		o.StateDir = abs
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	rm, err := newRunMetrics(sc, o.MetricsListener, o.Shard) // metrics hook: /metrics
	if err != nil {
		return err
	}
	defer rm.close()
	if o.Shard.Sharded() {
		return serveShard(ctx, sc, backend, o, rm)
	}
	return serveNodes(ctx, sc, backend, o, rm)
}

// serveNodes runs the fleet (the nodes o.Shard owns) until ctx is done.
func serveNodes(ctx context.Context, sc *scenarios.Scenario, backend apiserver.Backend, o ServeOptions, rm *runMetrics) error {
	server, embedded := backend.(*apiserver.Server)
	wo := worldOptions{metrics: rm, stateDir: o.StateDir}
	if o.Shard.Sharded() {
		wo.owns = o.Shard.Owns
	}
	if embedded {
		sel, err := selectControllers(sc, o.Controllers, kcm.DefaultControllers)
		if err != nil {
			return err
		}
		wo.endpoints, wo.controllers = server, &sel
	} else if o.Controllers != nil || sc.ControlPlane.Controllers != nil {
		// Another cluster has its own control plane: nodesim's models run
		// there only when asked for.
		sel, err := selectControllers(sc, o.Controllers, nil)
		if err != nil {
			return err
		}
		wo.controllers = &sel
	}
	if wo.controllers != nil {
		fmt.Fprintf(o.Log, "nodesim: controllers: %s\n", wo.controllers)
	} else {
		fmt.Fprintln(o.Log, "nodesim: controllers: none of nodesim's models; the cluster's own control plane acts on the nodes")
	}
	w, err := newWorld(ctx, sc, backend, sim.Config{Seed: sc.Seed, Pace: o.Pace, Start: o.Start, MaxWindow: 100 * time.Millisecond}, wo)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while starting: as interrupted later
		}
		return err
	}
	defer w.close()
	newLiveExpectations(w, o.Log, rm).schedule()
	err = w.engine.Run(w.ctx, o.Start.Add(100*365*24*time.Hour))
	if w.err != nil {
		return w.err
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// shareOf is the part of the scenario a shard runs, for sizing: each
// pool's nodes and each workload's replicas divided among the shards.
func shareOf(sc *scenarios.Scenario, s shard.Shard) *scenarios.Scenario {
	if !s.Sharded() {
		return sc
	}
	share := *sc
	share.NodePools = append([]scenarios.NodePool(nil), sc.NodePools...)
	for i := range share.NodePools {
		share.NodePools[i].Count = (share.NodePools[i].Count + s.Count - 1) / s.Count
	}
	share.Workloads = append([]scenarios.Workload(nil), sc.Workloads...)
	for i := range share.Workloads {
		share.Workloads[i].Replicas = (share.Workloads[i].Replicas + s.Count - 1) / s.Count
	}
	return &share
}

// liveExpectations checks a served scenario's expectations as the
// simulation goes: each at its time, and one that holds once it has held
// (FinalWhenPassed) as soon as it does.
type liveExpectations struct {
	w       *world
	log     io.Writer
	metrics *runMetrics
	decided []bool
	// last is the wall time of the last early look.
	last time.Time
}

// earlyEvery is the least wall time between two early looks at the
// expectations not yet decided: each reads the trace so far.
const earlyEvery = time.Second

func newLiveExpectations(w *world, log io.Writer, rm *runMetrics) *liveExpectations {
	return &liveExpectations{w: w, log: log, metrics: rm, decided: make([]bool, len(w.sc.Expect))}
}

// schedule checks each expectation at the first barrier after its time,
// when every record up to it is in the trace, and the early ones after
// barriers.
func (le *liveExpectations) schedule() {
	start := le.w.engine.Start()
	early := false
	for i, x := range le.w.sc.Expect {
		le.w.engine.At(start.Add(x.Time+time.Millisecond), func(time.Time) {
			if !le.decided[i] {
				le.decide(i, le.w.sc.CheckOwn(i, le.w.engine.Tracer().Records(), x.Time, le.w.owns))
			}
		})
		early = early || x.FinalWhenPassed()
	}
	if early {
		le.w.engine.AfterBarriers(le.lookEarly)
	}
}

// lookEarly decides the expectations that held by now and stay held.
func (le *liveExpectations) lookEarly(time.Time) {
	if time.Since(le.last) < earlyEvery {
		return
	}
	le.last = time.Now()
	var records []sim.Record
	for i, x := range le.w.sc.Expect {
		if le.decided[i] || !x.FinalWhenPassed() {
			continue
		}
		if records == nil {
			records = le.w.engine.Tracer().Records()
		}
		if r := le.w.sc.CheckOwn(i, records, x.Time, le.w.owns); r.Passed {
			le.decide(i, r)
		}
	}
}

// decide reports expectation i's verdict: a trace record (counted on
// /metrics), the expectation's gauge and a line on the log.
func (le *liveExpectations) decide(i int, r scenarios.Result) {
	le.decided[i] = true
	event, verdict := sim.EventExpectationPassed, "passed"
	if !r.Passed {
		event, verdict = sim.EventExpectationFailed, "failed"
	}
	le.w.engine.Trace(sim.Record{Event: event, Type: r.Type, Reason: r.Reason})
	le.metrics.observeExpectation(i, r)
	fmt.Fprintf(le.log, "nodesim: expectation spec.expect[%d] %s: %s: %s; seen %s (at %s of virtual time)\n",
		i, r.Type, verdict, r.Expected, r.Seen, r.At)
}

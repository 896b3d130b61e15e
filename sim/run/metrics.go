package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/metrics"
	"github.com/nodesim/nodesim/sim/shard"
)

// MetricsFile is the final metrics of a run in OutDir, in the Prometheus
// text exposition format.
const MetricsFile = "metrics.prom"

// runMetrics instruments one world: the trace records, the API requests
// and, at every barrier, the fleet and the time. It only listens; nothing
// it does reaches the trace. A nil *runMetrics instruments nothing.
type runMetrics struct {
	metrics  *metrics.Metrics
	gatherer prometheus.Gatherer
	server   *http.Server
	served   chan error
	start    time.Time // wall time the world was built
	world    *world    // the world watched, once watch is called
}

// newRunMetrics registers nodesim's metrics for sc (labelled with the
// shard, when the fleet is sharded) on a registry of their own and, if ln
// is not nil, serves them with the API server's and etcd's at ln's
// /metrics until close.
func newRunMetrics(sc *scenarios.Scenario, ln net.Listener, sh shard.Shard) (*runMetrics, error) {
	pools := make([]metrics.Pool, 0, len(sc.NodePools))
	for _, p := range sc.NodePools {
		zone, ok := p.Labels[corev1.LabelFailureDomainBetaZone]
		if !ok {
			zone = p.Labels[corev1.LabelTopologyZone]
		}
		pools = append(pools, metrics.Pool{Name: p.Name, Zone: zone})
	}
	reg := prometheus.NewRegistry()
	cfg := metrics.Config{Registerer: reg, Pools: pools}
	if sh.Sharded() {
		cfg.Shard = strconv.Itoa(sh.Index)
	}
	m, err := metrics.New(cfg)
	if err != nil {
		return nil, err
	}
	rm := &runMetrics{metrics: m, gatherer: metrics.Gatherer(reg), start: time.Now()}
	if ln != nil {
		rm.server = &http.Server{Handler: metrics.Handler(rm.gatherer), ReadHeaderTimeout: 10 * time.Second}
		rm.served = make(chan error, 1)
		go func() { rm.served <- rm.server.Serve(ln) }()
	}
	return rm, nil
}

// close stops serving the metrics.
func (rm *runMetrics) close() error {
	if rm == nil || rm.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := rm.server.Shutdown(ctx)
	if serveErr := <-rm.served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// writeFile writes the metrics as they are at the end of the run to path,
// atomically.
func (rm *runMetrics) writeFile(path string) error {
	if rm.world != nil {
		rm.observeFleet(rm.world.engine.Now())
	}
	return writeFileAtomic(path, func(w io.Writer) error { return metrics.WriteText(w, rm.gatherer) })
}

// observeExpectation sets expectation i's gauge to its verdict.
func (rm *runMetrics) observeExpectation(i int, r scenarios.Result) {
	if rm != nil {
		rm.metrics.ObserveExpectation(i, r.Type, r.Passed)
	}
}

// traceWriter is the engine's trace writer with every record also counted:
// the tracer writes each record there once, in trace order, whether or not
// a trace file is kept (out may be nil).
func (rm *runMetrics) traceWriter(out io.Writer) io.Writer {
	if rm == nil {
		return out
	}
	tap := &recordTap{m: rm.metrics}
	if out == nil {
		return tap
	}
	return io.MultiWriter(out, tap)
}

// observeRequests has the traffic meter report every API request.
func (rm *runMetrics) observeRequests(t *traffic) {
	if rm == nil {
		return
	}
	t.observe = func(req *http.Request, resp *http.Response, err error, wall time.Duration) {
		r := metrics.Request{Resource: resourceOf(req.URL.Path), Verb: apiVerb(req), Wall: wall, Bytes: req.ContentLength}
		if err == nil && resp != nil {
			r.Code = resp.StatusCode
		}
		if en, ok := sim.EntityFrom(req.Context()); ok {
			r.Node = en.Name()
		}
		rm.metrics.ObserveRequest(r)
	}
}

// fleetEvery is the least wall time between two looks at the fleet: a
// look at 10,000 nodes and their pods costs a few milliseconds, and
// scrapes come seconds apart.
const fleetEvery = 250 * time.Millisecond

// watch sets the fleet and time gauges at barriers, after the control
// plane has reacted, from the world's watches (which have seen every write
// so far by then), at most every fleetEvery and once more at the end
// (writeFile).
func (rm *runMetrics) watch(w *world) {
	if rm == nil {
		return
	}
	rm.start = time.Now()
	rm.world = w
	var last time.Time
	w.engine.AfterBarriers(func(now time.Time) {
		if time.Since(last) < fleetEvery {
			return
		}
		last = time.Now()
		rm.observeFleet(now)
	})
}

// observeFleet sets the fleet and time gauges from the world's watches.
func (rm *runMetrics) observeFleet(now time.Time) {
	w := rm.world
	ns, err := w.informer.Core().V1().Nodes().Lister().List(labels.Everything())
	if err != nil {
		return
	}
	ps, err := w.informer.Core().V1().Pods().Lister().List(labels.Everything())
	if err != nil {
		return
	}
	// A shard counts its own nodes and the pods on them; the unscheduled
	// pods are counted once, by the shard the empty node name hashes to,
	// so that sums over shards count each once.
	ns = slices.DeleteFunc(ns, func(n *corev1.Node) bool { return !w.owns(n.Name) })
	ps = slices.DeleteFunc(ps, func(p *corev1.Pod) bool { return !w.owns(p.Spec.NodeName) })
	rm.metrics.ObserveFleet(ns, ps)
	rm.metrics.ObserveTime(now.Sub(w.engine.Start()), time.Since(rm.start))
}

// apiVerb is a request's verb as the API server names it.
func apiVerb(req *http.Request) string {
	if v := writeVerbs[req.Method]; v != "" {
		return v
	}
	if req.Method != http.MethodGet {
		return strings.ToLower(req.Method)
	}
	if w := req.URL.Query().Get("watch"); w == "true" || w == "1" {
		return "watch"
	}
	if parts, ok := resourceParts(req.URL.Path); ok && len(parts) == 1 {
		return "list"
	}
	return "get"
}

// recordTap reads the trace as the tracer writes it, one JSON object a
// line, and counts each record.
type recordTap struct {
	m       *metrics.Metrics
	partial []byte
}

// heartbeatEvents are counted from their event name alone: with --trace
// full they are most of the trace, and nothing else of them is counted.
var heartbeatEvents = []string{sim.EventLeaseRenewed, sim.EventNodeStatusPosted}

func (t *recordTap) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			break
		}
		line := p[:i]
		if len(t.partial) > 0 {
			line = append(t.partial, line...)
			t.partial = t.partial[:0]
		}
		t.observe(line)
		p = p[i+1:]
	}
	return n, nil
}

func (t *recordTap) observe(line []byte) {
	for _, ev := range heartbeatEvents {
		if bytes.Contains(line, []byte(`"event":"`+ev+`"`)) {
			t.m.Observe(sim.Record{Event: ev})
			return
		}
	}
	var r struct {
		T                                                         float64
		Event, Node, Pod, Zone, Type, Status, Reason, Key, Effect string
		Path, Error                                               string
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return // the tracer writes only what it can; a metric is not worth a failed run
	}
	t.m.Observe(sim.Record{
		T:     time.Duration(math.Round(r.T*1000)) * time.Millisecond,
		Event: r.Event, Node: r.Node, Pod: r.Pod, Zone: r.Zone, Type: r.Type, Status: r.Status,
		Reason: r.Reason, Key: r.Key, Effect: r.Effect, Path: r.Path, Error: r.Error,
	})
}

package run

import (
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodesim/nodesim/sim/report"
)

// measure collects, for the report, what the trace does not hold: every
// API request's outcome and wall-clock latency, the writes by resource and
// the pods by phase, folded into windows of virtual time of a fixed
// resolution at barriers. Wall-clock latency goes to report.html and
// summary.json only, never to the trace.
type measure struct {
	res time.Duration // the windows' length in virtual time

	mu       sync.Mutex
	requests int64
	failed   int64
	latency  report.Histogram

	windows    []report.Window
	phases     []report.PhaseSample
	lastWrites map[string]int64
	lastPhase  time.Duration
	sampled    bool
}

// measureWindows is about how many windows a run is cut into: about one
// per column of the report's plots.
const measureWindows = 1000

func newMeasure(duration time.Duration) *measure {
	res := max(duration/measureWindows, 100*time.Millisecond)
	return &measure{res: res, lastWrites: map[string]int64{}}
}

// request hears of one API request: failed when it got no answer (a fault,
// a timeout, a refused connection), a 5xx or a 429. Watches are not timed:
// they last as long as they are open.
func (m *measure) request(req *http.Request, resp *http.Response, err error, wall time.Duration) {
	if m == nil {
		return
	}
	failed := err != nil || resp == nil || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	watch := req.URL.Query().Get("watch")
	timed := err == nil && watch != "true" && watch != "1"
	m.mu.Lock()
	m.requests++
	if failed {
		m.failed++
	}
	if timed {
		m.latency.Add(wall)
	}
	m.mu.Unlock()
}

// barrier folds what happened since the last barrier into the window of
// virtual time since (the scenario start's offset) and, at most once per
// window, counts the pods by phase from the world's watch (which has seen
// every write by then).
func (m *measure) barrier(since time.Duration, w *world) {
	end := (since + m.res - 1) / m.res * m.res
	if end == 0 {
		end = m.res
	}
	writes, _, _ := w.traffic.snapshot()
	byResource := map[string]int64{}
	for res, verbs := range writes {
		var n int64
		for _, c := range verbs {
			n += c
		}
		if d := n - m.lastWrites[res]; d > 0 {
			byResource[res] = d
		}
		m.lastWrites[res] = n
	}
	m.mu.Lock()
	requests, failed, latency := m.requests, m.failed, m.latency
	m.requests, m.failed, m.latency = 0, 0, report.Histogram{}
	m.mu.Unlock()

	if n := len(m.windows); n == 0 || m.windows[n-1].T != end {
		m.windows = append(m.windows, report.Window{T: end, Writes: map[string]int64{}})
	}
	win := &m.windows[len(m.windows)-1]
	for res, d := range byResource {
		win.Writes[res] += d
	}
	win.Requests += requests
	win.Failed += failed
	win.Latency.Merge(&latency)

	if m.sampled && since-m.lastPhase < m.res {
		return
	}
	m.sampled, m.lastPhase = true, since
	pods, err := w.informer.Core().V1().Pods().Lister().List(labels.Everything())
	if err != nil {
		return
	}
	counts := map[string]int{}
	for _, p := range pods {
		phase := string(p.Status.Phase)
		switch {
		case p.DeletionTimestamp != nil:
			phase = "Terminating"
		case phase == "" || (p.Status.Phase == corev1.PodPending && p.Spec.NodeName == ""):
			phase = "Pending (unscheduled)"
		}
		counts[phase]++
	}
	m.phases = append(m.phases, report.PhaseSample{T: since, Counts: counts})
}

// summary is summary.json's api.
func (m *measure) summary() *APISummary {
	out := &APISummary{}
	var all report.Histogram
	for i := range m.windows {
		out.Requests += m.windows[i].Requests
		out.Failed += m.windows[i].Failed
		all.Merge(&m.windows[i].Latency)
	}
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
		if d, ok := all.Quantile(q.q); ok {
			if out.LatencySeconds == nil {
				out.LatencySeconds = map[string]float64{}
			}
			out.LatencySeconds[q.name] = d.Seconds()
		}
	}
	return out
}

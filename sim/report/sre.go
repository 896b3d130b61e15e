package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nodesim/nodesim/sim"
)

// Window is what the run measured in one window of virtual time ending at
// T (the previous window's T, T]: API requests (every client of the
// simulation), how many failed, their wall-clock latency, and the writes
// by resource.
type Window struct {
	T        time.Duration
	Requests int64
	Failed   int64
	Latency  Histogram
	Writes   map[string]int64
}

// PhaseSample is the number of pods in each phase at T.
type PhaseSample struct {
	T      time.Duration
	Counts map[string]int
}

// Identity is what ran: the build, the scenario and how it was invoked.
type Identity struct {
	Version, Commit, GoVersion string
	// KubernetesVersion is the scenario's kubernetesVersion; Served the
	// Kubernetes release of the API server built in.
	KubernetesVersion, Served string
	ScenarioFile              string
	Flags                     string
}

// scrapeInterval is the Prometheus scrape interval the rate window is
// derived from, as Grafana derives $__rate_interval: the default of the
// dashboards nodesim ships.
const scrapeInterval = 15 * time.Second

// rateWindow is the window every rate of the report is averaged over,
// Grafana's $__rate_interval for a plot of this run:
// max($__interval + scrape interval, 4 × scrape interval), where
// $__interval is the virtual time one column of the plot spans; rounded
// up to a whole second.
func rateWindow(tl timeline) time.Duration {
	interval := tl.total / time.Duration(tl.ncols)
	w := max(interval+scrapeInterval, 4*scrapeInterval)
	return (w + time.Second - 1) / time.Second * time.Second
}

// point is an amount at a virtual time.
type point struct {
	t time.Duration
	v float64
}

// windowedRate is the per-second rate of points over the sliding window w
// ending at each column's end; columns before the first window is full
// average over what there is.
func windowedRate(tl timeline, pts []point, w time.Duration, name, color string) *rateSeries {
	slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.t, b.t) })
	cum := make([]float64, len(pts)+1)
	for i, p := range pts {
		cum[i+1] = cum[i] + p.v
	}
	upTo := func(t time.Duration) float64 { // sum of points with time <= t
		i := sort.Search(len(pts), func(i int) bool { return pts[i].t > t })
		return cum[i]
	}
	s := &rateSeries{name: name, color: color, count: make([]float64, tl.ncols), seconds: make([]float64, tl.ncols)}
	colDur := float64(tl.total) / float64(tl.ncols)
	for c := range tl.ncols {
		end := time.Duration(float64(c+1) * colDur)
		start := max(end-w, 0)
		if end <= start {
			continue
		}
		s.count[c] = upTo(end) - upTo(start)
		s.seconds[c] = (end - start).Seconds()
	}
	return s
}

// latencySeries are the p50, p90 and p99 of the requests' wall latency over
// the sliding window w ending at each column's end, in milliseconds.
func latencySeries(tl timeline, wins []Window, w time.Duration) []*rateSeries {
	cum := make([]Histogram, len(wins)+1)
	for i := range wins {
		cum[i+1] = cum[i]
		cum[i+1].Merge(&wins[i].Latency)
	}
	idx := func(t time.Duration) int {
		return sort.Search(len(wins), func(i int) bool { return wins[i].T > t })
	}
	qs := []struct {
		q     float64
		name  string
		color string
	}{{0.5, "p50", "#4e79a7"}, {0.9, "p90", "#f28e2b"}, {0.99, "p99", "#e15759"}}
	out := make([]*rateSeries, len(qs))
	for i, q := range qs {
		out[i] = &rateSeries{name: q.name, color: q.color, count: make([]float64, tl.ncols), seconds: make([]float64, tl.ncols)}
	}
	colDur := float64(tl.total) / float64(tl.ncols)
	for c := range tl.ncols {
		end := time.Duration(float64(c+1) * colDur)
		h := cum[idx(end)].sub(&cum[idx(max(end-w, 0))])
		for i, q := range qs {
			if d, ok := h.Quantile(q.q); ok {
				out[i].count[c] = float64(d) / float64(time.Millisecond)
				out[i].seconds[c] = 1
			}
		}
	}
	return out
}

// regRow is one pool's time from registration to first Ready.
type regRow struct {
	Pool                        string
	Nodes, Registered, Ready    int
	Min, Median, P90, Max, Mean string
}

// registrationTable is, per pool, the virtual time from each node's
// NodeRegistered to its first Ready=True.
func registrationTable(in *Input) []regRow {
	registered := map[string]time.Duration{}
	ready := map[string]time.Duration{}
	for _, r := range in.Records {
		switch {
		case r.Event == sim.EventNodeRegistered:
			if _, ok := registered[r.Node]; !ok {
				registered[r.Node] = r.T
			}
		case r.Event == sim.EventNodeConditionChanged && r.Type == "Ready" && r.Status == "True":
			if _, ok := ready[r.Node]; !ok {
				ready[r.Node] = r.T
			}
		}
	}
	type acc struct {
		nodes, registered int
		secs              []float64
	}
	pools := map[string]*acc{}
	get := func(p string) *acc {
		a, ok := pools[p]
		if !ok {
			a = &acc{}
			pools[p] = a
		}
		return a
	}
	for node, pool := range in.Pools {
		a := get(pool)
		a.nodes++
		reg, ok := registered[node]
		if !ok {
			continue
		}
		a.registered++
		if rd, ok := ready[node]; ok && rd >= reg {
			a.secs = append(a.secs, (rd - reg).Seconds())
		}
	}
	var rows []regRow
	for _, p := range sortedKeys(pools) {
		a := pools[p]
		row := regRow{Pool: p, Nodes: a.nodes, Registered: a.registered, Ready: len(a.secs), Min: "–", Median: "–", P90: "–", Max: "–", Mean: "–"}
		if n := len(a.secs); n > 0 {
			sort.Float64s(a.secs)
			sum := 0.0
			for _, s := range a.secs {
				sum += s
			}
			q := func(f float64) string { return fmtSecs(a.secs[int(math.Ceil(f*float64(n)))-1]) }
			row.Min, row.Median, row.P90, row.Max = fmtSecs(a.secs[0]), q(0.5), q(0.9), fmtSecs(a.secs[n-1])
			row.Mean = fmtSecs(sum / float64(n))
		}
		rows = append(rows, row)
	}
	return rows
}

func fmtSecs(s float64) string { return fmt.Sprintf("%.1f s", s) }

// changeRow is one change of a node's state.
type changeRow struct {
	T, Node, Pool, Zone, Event, Detail string
	// kind is what the change filter calls it; Kind and PoolIdx index
	// the filters' choices.
	kind          string
	Kind, PoolIdx int
}

// maxFilterChoices bounds the choices of one filter.
const maxFilterChoices = 40

// changeFilters numbers the kinds and pools of the change rows and writes
// the CSS that hides the rows the checked radio buttons do not choose.
func changeFilters(rows []changeRow) (kinds, pools []string, css template.CSS) {
	kindSet, poolSet := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		kindSet[r.kind] = true
		if r.Pool != "" {
			poolSet[r.Pool] = true
		}
	}
	kinds, pools = sortedKeys(kindSet), sortedKeys(poolSet)
	if len(kinds) > maxFilterChoices {
		kinds = kinds[:maxFilterChoices]
	}
	if len(pools) > maxFilterChoices || len(pools) < 2 {
		pools = nil
	}
	ki, pi := map[string]int{}, map[string]int{}
	for i, k := range kinds {
		ki[k] = i
	}
	for i, p := range pools {
		pi[p] = i
	}
	var b strings.Builder
	for i := range rows {
		rows[i].Kind, rows[i].PoolIdx = -1, -1
		if k, ok := ki[rows[i].kind]; ok {
			rows[i].Kind = k
		}
		if p, ok := pi[rows[i].Pool]; ok {
			rows[i].PoolIdx = p
		}
	}
	for i := range kinds {
		fmt.Fprintf(&b, "#changes:has(#ck-%d:checked) .scroll tbody tr:not(.k%d) { display: none; }\n", i, i)
	}
	for i := range pools {
		fmt.Fprintf(&b, "#changes:has(#cp-%d:checked) .scroll tbody tr:not(.p%d) { display: none; }\n", i, i)
	}
	return kinds, pools, template.CSS(b.String())
}

// maxChangeRows bounds the node change table; the trace has them all.
const maxChangeRows = 5000

// nodeChanges lists every registration, condition change and taint change
// of the trace, in order, up to maxChangeRows; it also returns how many
// there were.
func nodeChanges(in *Input) ([]changeRow, int) {
	var rows []changeRow
	n := 0
	for _, r := range in.Records {
		var detail string
		switch r.Event {
		case sim.EventNodeRegistered:
		case sim.EventNodeConditionChanged:
			detail = r.Type + "=" + r.Status
			if r.Reason != "" {
				detail += " (" + r.Reason + ")"
			}
		case sim.EventNodeTaintAdded, sim.EventNodeTaintRemoved:
			detail = r.Key + ":" + r.Effect
		case sim.EventLeaseRenewFailed:
			detail = r.Error
		default:
			continue
		}
		n++
		if len(rows) < maxChangeRows {
			kind := r.Event
			switch r.Event {
			case sim.EventNodeConditionChanged:
				kind = r.Type + "=" + r.Status
			case sim.EventNodeTaintAdded:
				kind = "+" + r.Key + ":" + r.Effect
			case sim.EventNodeTaintRemoved:
				kind = "−" + r.Key + ":" + r.Effect
			}
			rows = append(rows, changeRow{T: fmtDur(r.T), Node: r.Node, Pool: in.Pools[r.Node], Zone: in.Zones[r.Node], Event: r.Event, Detail: detail, kind: kind})
		}
	}
	return rows, n
}

// phaseSeries are the pods by phase over time, one step series a phase.
func phaseSeries(tl timeline, samples []PhaseSample) []*stepSeries {
	order := map[string]int{"Pending (unscheduled)": 0, "Pending": 1, "Running": 2, "Succeeded": 3, "Failed": 4, "Terminating": 5, "Unknown": 6}
	seen := map[string]bool{}
	for _, s := range samples {
		for p, c := range s.Counts {
			if c > 0 {
				seen[p] = true
			}
		}
	}
	phases := sortedKeys(seen)
	sort.SliceStable(phases, func(i, j int) bool {
		oi, ok := order[phases[i]]
		if !ok {
			oi = 99
		}
		oj, ok := order[phases[j]]
		if !ok {
			oj = 99
		}
		return oi < oj
	})
	colors := map[string]string{"Pending (unscheduled)": "#8c8c8c", "Pending": "#f39c12", "Running": "#1a9850", "Succeeded": "#4e79a7", "Failed": "#d73027", "Terminating": "#b07aa1"}
	var out []*stepSeries
	for i, p := range phases {
		color, ok := colors[p]
		if !ok {
			color = palette[i%len(palette)]
		}
		s := newStepSeries(p, color, tl.ncols, 0)
		for _, smp := range samples {
			s.set(tl.col(smp.T), float64(smp.Counts[p]))
		}
		out = append(out, s)
	}
	return out
}

// resourceRates are the writes per second of each resource over the rate
// window, the most written first (at most len(palette) series; the rest
// are summed as "other").
func resourceRates(tl timeline, wins []Window, w time.Duration) []*rateSeries {
	totals := map[string]int64{}
	for _, win := range wins {
		for r, n := range win.Writes {
			totals[r] += n
		}
	}
	names := sortedKeys(totals)
	sort.SliceStable(names, func(i, j int) bool { return totals[names[i]] > totals[names[j]] })
	keep := map[string]bool{}
	for i, n := range names {
		if i < len(palette)-1 || len(names) == len(palette) {
			keep[n] = true
		}
	}
	pts := map[string][]point{}
	for _, win := range wins {
		for r, n := range win.Writes {
			if !keep[r] {
				r = "other"
			}
			pts[r] = append(pts[r], point{win.T, float64(n)})
		}
	}
	var out []*rateSeries
	for i, n := range names {
		if !keep[n] {
			continue
		}
		out = append(out, windowedRate(tl, pts[n], w, n, palette[i%len(palette)]))
	}
	if p, ok := pts["other"]; ok {
		out = append(out, windowedRate(tl, p, w, "other", "#bab0ac"))
	}
	return out
}

// windowLabel names a rate window for people: "1m", "1m15s".
func windowLabel(w time.Duration) string {
	s := w.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "m") || strings.HasSuffix(s, "h") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// fmtLatency formats a wall-clock latency: 850µs, 12.3ms, 1.2s.
func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// phaseStep is the usual time between pod phase samples.
func phaseStep(s []PhaseSample) time.Duration {
	if len(s) < 2 {
		return 0
	}
	return (s[len(s)-1].T - s[0].T) / time.Duration(len(s)-1)
}

// writesRate is the API writes per second over the rate window w.
func writesRate(in *Input, tl timeline, w time.Duration) *rateSeries {
	pts := make([]point, 0, len(in.Writes))
	for _, smp := range in.Writes {
		pts = append(pts, point{smp.T, float64(smp.Writes)})
	}
	return windowedRate(tl, pts, w, "API writes/s", "#1f5fa8")
}

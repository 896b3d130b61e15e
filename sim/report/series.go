package report

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/nodesim/nodesim/sim"
)

// Ready states of a node, in legend order.
const (
	readyTrue = iota
	readyFalse
	readyUnknown
	readyNotRegistered
	readyStates
)

var readyNames = [readyStates]string{"Ready=True", "Ready=False", "Ready=Unknown", "not registered yet"}

// stepSeries is a step function of virtual time aggregated into columns:
// each column keeps the value at its end and the lowest and highest values
// reached within it, so a change shorter than a column is still drawn.
type stepSeries struct {
	name    string
	color   string
	dash    bool
	initial float64
	cur     float64
	cols    []stepCol
}

type stepCol struct {
	set            bool
	min, max, last float64
}

func newStepSeries(name, color string, ncols int, initial float64) *stepSeries {
	return &stepSeries{name: name, color: color, initial: initial, cur: initial, cols: make([]stepCol, ncols)}
}

// set records that the value became v in column c.
func (s *stepSeries) set(c int, v float64) {
	s.cur = v
	col := &s.cols[c]
	if !col.set {
		*col = stepCol{set: true, min: v, max: v, last: v}
		return
	}
	col.min = min(col.min, v)
	col.max = max(col.max, v)
	col.last = v
}

func (s *stepSeries) add(c int, d float64) { s.set(c, s.cur+d) }

// zeroFrom says whether the value is 0 from the end of column c on.
func (s *stepSeries) zeroFrom(c int) bool {
	v := s.initial
	for i, col := range s.cols {
		if !col.set {
			continue
		}
		if i > c && col.max != 0 {
			return false
		}
		v = col.last
	}
	return v == 0
}

func (s *stepSeries) maxValue() float64 {
	m := s.initial
	for _, c := range s.cols {
		if c.set {
			m = max(m, c.max)
		}
	}
	return m
}

// rateSeries is a rate over virtual time: for each column the events and
// the seconds of samples that fall into it; the column's value is their
// ratio.
type rateSeries struct {
	name    string
	color   string
	count   []float64
	seconds []float64
}

func (s *rateSeries) value(c int) (float64, bool) {
	if s.seconds[c] <= 0 {
		return 0, false
	}
	return s.count[c] / s.seconds[c], true
}

func (s *rateSeries) maxValue() float64 {
	m := 0.0
	for c := range s.seconds {
		if v, ok := s.value(c); ok {
			m = max(m, v)
		}
	}
	return m
}

// timeline maps virtual time to columns.
type timeline struct {
	total time.Duration
	ncols int
}

func (tl timeline) col(t time.Duration) int {
	if t <= 0 {
		return 0
	}
	c := int(float64(t) / float64(tl.total) * float64(tl.ncols))
	return min(max(c, 0), tl.ncols-1)
}

// analysis is everything the page shows that is derived from the records.
type analysis struct {
	ready       [readyStates]*stepSeries
	taints      []*stepSeries // sorted by name
	evicted     *stepSeries
	counts      []eventCount
	zones       []zoneRow
	peakLost    peak // nodes not Ready that had been Ready
	evictions   int
	writesTotal int64
}

type peak struct {
	value float64
	t     time.Duration
}

type eventCount struct {
	Event string
	Count int
}

type zoneRow struct {
	Zone         string
	Nodes        int
	Ready        int
	NotReady     int
	Unregistered int
	States       string
}

// nodeState is what the analysis tracks per node.
type nodeState struct {
	registered bool
	wasReady   bool // has been Ready=True at some point
	ready      int  // readyTrue, readyFalse or readyUnknown once registered
}

func analyze(in *Input, tl timeline) *analysis {
	recs := in.Records
	if !slices.IsSortedFunc(recs, func(a, b sim.Record) int { return cmp.Compare(a.T, b.T) }) {
		recs = slices.Clone(recs)
		slices.SortStableFunc(recs, func(a, b sim.Record) int { return cmp.Compare(a.T, b.T) })
	}

	// Nodes are known from the input's count, the zone map and the trace;
	// those not registered yet are the difference.
	nodeIdx := make(map[string]int, max(in.Nodes, len(in.Zones)))
	var nodes []nodeState
	index := func(name string) int {
		i, ok := nodeIdx[name]
		if !ok {
			i = len(nodes)
			nodeIdx[name] = i
			nodes = append(nodes, nodeState{})
		}
		return i
	}
	for _, r := range recs {
		if r.Event == sim.EventNodeRegistered || r.Event == sim.EventNodeConditionChanged {
			index(r.Node)
		}
	}
	for _, name := range sortedKeys(in.Zones) {
		index(name)
	}
	total := max(in.Nodes, len(nodes))

	a := &analysis{}
	ready := readyColors
	for s := range readyStates {
		init := 0.0
		if s == readyNotRegistered {
			init = float64(total)
		}
		a.ready[s] = newStepSeries(readyNames[s], ready[s], tl.ncols, init)
	}
	a.evicted = newStepSeries("evicted pods (cumulative)", "#b2182b", tl.ncols, 0)

	type taintOnNode struct{ node, taint int }
	taintIdx := map[string]int{}
	taintOn := map[taintOnNode]bool{}
	var taints []*stepSeries
	counts := map[string]int{}
	zoneStates := map[string][]string{}
	lost := 0

	register := func(c, i int) {
		if nodes[i].registered {
			return
		}
		nodes[i] = nodeState{registered: true, ready: readyUnknown}
		a.ready[readyNotRegistered].add(c, -1)
		a.ready[readyUnknown].add(c, 1)
	}
	for _, r := range recs {
		counts[r.Event]++
		c := tl.col(r.T)
		switch r.Event {
		case sim.EventNodeRegistered:
			register(c, nodeIdx[r.Node])
		case sim.EventNodeConditionChanged:
			if r.Type != "Ready" {
				break
			}
			i := nodeIdx[r.Node]
			register(c, i)
			s := readyUnknown
			switch r.Status {
			case "True":
				s = readyTrue
			case "False":
				s = readyFalse
			}
			if old := nodes[i].ready; old != s {
				a.ready[old].add(c, -1)
				a.ready[s].add(c, 1)
				nodes[i].ready = s
				switch {
				case s == readyTrue && nodes[i].wasReady:
					lost--
				case s == readyTrue:
					nodes[i].wasReady = true
				case old == readyTrue:
					lost++
				}
			}
		case sim.EventNodeTaintAdded, sim.EventNodeTaintRemoved:
			name := r.Key + ":" + r.Effect
			ti, ok := taintIdx[name]
			if !ok {
				ti = len(taints)
				taintIdx[name] = ti
				taints = append(taints, newStepSeries(name, "", tl.ncols, 0))
			}
			k := taintOnNode{index(r.Node), ti}
			if added := r.Event == sim.EventNodeTaintAdded; added != taintOn[k] {
				taintOn[k] = added
				if added {
					taints[ti].add(c, 1)
				} else {
					taints[ti].add(c, -1)
				}
			}
		case sim.EventPodEvicted:
			a.evictions++
			a.evicted.add(c, 1)
		case sim.EventZoneStateChanged:
			zoneStates[r.Zone] = append(zoneStates[r.Zone], fmtDur(r.T)+" "+r.Status)
		}
		if float64(lost) > a.peakLost.value {
			a.peakLost = peak{float64(lost), r.T}
		}
	}
	sort.Slice(taints, func(i, j int) bool { return taints[i].name < taints[j].name })
	for i, s := range taints {
		s.color = palette[i%len(palette)]
		s.dash = i >= len(palette)
	}
	a.taints = taints

	for _, e := range sortedKeys(counts) {
		a.counts = append(a.counts, eventCount{e, counts[e]})
	}

	for _, smp := range in.Writes {
		a.writesTotal += smp.Writes
	}

	a.zones = zoneTable(in, nodes, nodeIdx, zoneStates)
	return a
}

const maxZoneStates = 12

func zoneTable(in *Input, nodes []nodeState, nodeIdx map[string]int, states map[string][]string) []zoneRow {
	rows := map[string]*zoneRow{}
	row := func(z string) *zoneRow {
		r, ok := rows[z]
		if !ok {
			r = &zoneRow{Zone: z}
			rows[z] = r
		}
		return r
	}
	named := false
	for node, z := range in.Zones {
		named = named || z != ""
		r := row(z)
		r.Nodes++
		st := nodes[nodeIdx[node]]
		switch {
		case !st.registered:
			r.Unregistered++
		case st.ready == readyTrue:
			r.Ready++
		default:
			r.NotReady++
		}
	}
	for z, s := range states {
		named = true
		if len(s) > maxZoneStates {
			s = append(s[:maxZoneStates:maxZoneStates], "…")
		}
		row(z).States = joinArrow(s)
	}
	if !named {
		return nil
	}
	var out []zoneRow
	for _, z := range sortedKeys(rows) {
		out = append(out, *rows[z])
	}
	return out
}

func joinArrow(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " → "
		}
		out += v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package scenarios

import (
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodesim/nodesim/sim"
)

// NodeSelector chooses nodes: those of Pool, with all of Labels and, when
// Names is not empty, named in it; then, when Fraction is not 0, a seeded
// choice of that fraction of them. The zero NodeSelector chooses every
// node.
type NodeSelector struct {
	// Pool is a pool's name; "" means any pool.
	Pool string
	// Labels must all be on a node for it to match: the pool's labels and
	// those the kubelet sets, kubernetes.io/hostname=<node>,
	// kubernetes.io/os=linux, kubernetes.io/arch=<architecture> (and their
	// beta.kubernetes.io twins).
	Labels map[string]string
	// Names, when not empty, are the only nodes that may match.
	Names []string
	// Fraction is 0 (every matching node) or in (0, 1]: round(Fraction *
	// matching) of them, at least 1, chosen with the seed (timeline steps
	// only).
	Fraction float64
}

// IsZero says whether the selector chooses every node.
func (sel NodeSelector) IsZero() bool {
	return sel.Pool == "" && len(sel.Labels) == 0 && len(sel.Names) == 0 && sel.Fraction == 0
}

// SelectNodes returns the names of the nodes of the initial fleet (each
// pool with its Count, before any addNodes or deleteNodes step) that sel
// chooses, in fleet order: pools in file order, each in index order. A
// fraction is chosen with a stream seeded from seed and salt (sim.Stream:
// PCG with the seed and the FNV-1a hash of salt), so the same seed and salt
// always choose the same nodes and another salt (another step) chooses
// independently.
func (s *Scenario) SelectNodes(sel NodeSelector, seed uint64, salt string) []string {
	return s.choose(sel, s.initialSizes(), seed, salt)
}

// SelectNodesAt is SelectNodes over the fleet at virtual time t: after
// every addNodes and deleteNodes step with At <= t (see NodesAt).
func (s *Scenario) SelectNodesAt(sel NodeSelector, t time.Duration, seed uint64, salt string) []string {
	return s.choose(sel, s.sizesAt(t), seed, salt)
}

// FleetCursor walks the fleet through the timeline in time order, so that
// the nodes each step chooses are found in one pass: SelectNodesAt for
// every step of a timeline of n steps re-applies the fleet steps before
// each, n²/2 in all, where a cursor applies each once.
type FleetCursor struct {
	s     *Scenario
	sizes []int
	next  int // the first timeline step not applied
}

// Cursor returns a FleetCursor at the start of the run.
func (s *Scenario) Cursor() *FleetCursor {
	return &FleetCursor{s: s, sizes: s.initialSizes()}
}

// SelectNodesAt is Scenario.SelectNodesAt; t must not be before the t of
// the cursor's previous call.
func (c *FleetCursor) SelectNodesAt(sel NodeSelector, t time.Duration, seed uint64, salt string) []string {
	for c.next < len(c.s.Timeline) && c.s.Timeline[c.next].At <= t {
		c.s.applyFleetStep(c.sizes, c.s.Timeline[c.next])
		c.next++
	}
	return c.s.choose(sel, c.sizes, seed, salt)
}

// NodesAt returns the names of the nodes that exist at virtual time t, in
// fleet order. A pool of n nodes holds indices 0 .. n-1: addNodes appends
// indices after the last, deleteNodes removes the last ones (the highest
// indices), so a pool grown back reuses the names it had.
func (s *Scenario) NodesAt(t time.Duration) []string {
	return s.choose(NodeSelector{}, s.sizesAt(t), 0, "")
}

// PoolSizeAt returns how many nodes pool has at virtual time t, and false
// when the scenario has no such pool.
func (s *Scenario) PoolSizeAt(pool string, t time.Duration) (int, bool) {
	i := slices.IndexFunc(s.NodePools, func(p NodePool) bool { return p.Name == pool })
	if i < 0 {
		return 0, false
	}
	return s.sizesAt(t)[i], true
}

// NodePoolOf returns the pool a node of the fleet belongs to: the pool whose
// NodeName gives name for some index (existing at any time or not).
func (s *Scenario) NodePoolOf(name string) (NodePool, int, bool) {
	pool, i, ok := s.locate(name)
	if !ok {
		return NodePool{}, 0, false
	}
	return s.NodePools[pool], i, true
}

// locate returns the position in NodePools of the pool of the node named
// name, and the node's index.
func (s *Scenario) locate(name string) (pool, index int, ok bool) {
	for pi, p := range s.NodePools {
		if i, ok := p.nodeIndex(name); ok {
			return pi, i, true
		}
	}
	return 0, 0, false
}

func (s *Scenario) initialSizes() []int {
	sizes := make([]int, len(s.NodePools))
	for i, p := range s.NodePools {
		sizes[i] = p.Count
	}
	return sizes
}

// sizesAt is the size of each pool after the fleet steps up to t.
func (s *Scenario) sizesAt(t time.Duration) []int {
	sizes := s.initialSizes()
	for _, st := range s.Timeline {
		if st.At > t {
			break
		}
		s.applyFleetStep(sizes, st)
	}
	return sizes
}

// applyFleetStep applies an addNodes or deleteNodes step to pool sizes.
func (s *Scenario) applyFleetStep(sizes []int, st Step) {
	if st.Do != "addNodes" && st.Do != "deleteNodes" {
		return
	}
	i := slices.IndexFunc(s.NodePools, func(p NodePool) bool { return p.Name == st.Pool })
	if i < 0 {
		return
	}
	if st.Do == "addNodes" {
		sizes[i] += st.Count
	} else {
		sizes[i] = max(0, sizes[i]-st.Count)
	}
}

// nodeIndex returns the index of the pool's node named name.
func (p NodePool) nodeIndex(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, p.Name+"-")
	if !ok || rest == "" || len(rest) > 9 {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(rest)
	if err != nil || p.NodeName(i) != name {
		return 0, false
	}
	return i, true
}

// nodeLabel returns the value of a label on node index of pool p, as the
// kubelet registers it.
func (p NodePool) nodeLabel(key string, index int) (string, bool) {
	switch key {
	case corev1.LabelHostname:
		return p.NodeName(index), true
	case corev1.LabelOSStable, "beta.kubernetes.io/os":
		if v, ok := p.Labels[key]; ok {
			return v, true
		}
		return "linux", true
	case corev1.LabelArchStable, "beta.kubernetes.io/arch":
		if v, ok := p.Labels[key]; ok {
			return v, true
		}
		return p.Architecture, true
	}
	v, ok := p.Labels[key]
	return v, ok
}

// poolLabelsMatch says whether the labels of sel other than the hostname
// are all on the pool's nodes.
func (p NodePool) poolLabelsMatch(labels map[string]string) bool {
	for k, want := range labels {
		if k == corev1.LabelHostname {
			continue
		}
		if v, ok := p.nodeLabel(k, 0); !ok || v != want {
			return false
		}
	}
	return true
}

// candidates calls yield with the index of each node of pool p (of size
// nodes) that sel matches, before any fraction, in index order; it stops
// when yield returns false.
func (p NodePool) candidates(sel NodeSelector, size int, yield func(int) bool) bool {
	if size == 0 || (sel.Pool != "" && sel.Pool != p.Name) || !p.poolLabelsMatch(sel.Labels) {
		return true
	}
	host, byHost := sel.Labels[corev1.LabelHostname]
	if len(sel.Names) == 0 && !byHost {
		for i := range size {
			if !yield(i) {
				return false
			}
		}
		return true
	}
	var idx []int
	names := sel.Names
	if len(names) == 0 {
		names = []string{host}
	}
	for _, name := range names {
		if byHost && name != host {
			continue
		}
		if i, ok := p.nodeIndex(name); ok && i < size {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	for _, i := range slices.Compact(idx) {
		if !yield(i) {
			return false
		}
	}
	return true
}

// anyMatch says whether sel matches at least one node of a fleet with these
// pool sizes, without listing them.
func (s *Scenario) anyMatch(sel NodeSelector, sizes []int) bool {
	for i, p := range s.NodePools {
		found := false
		p.candidates(sel, sizes[i], func(int) bool { found = true; return false })
		if found {
			return true
		}
	}
	return false
}

// matchCount is how many nodes sel matches, before any fraction.
func (s *Scenario) matchCount(sel NodeSelector, sizes []int) int {
	n := 0
	for i, p := range s.NodePools {
		if len(sel.Names) == 0 && !hasKey(sel.Labels, corev1.LabelHostname) &&
			(sel.Pool == "" || sel.Pool == p.Name) && p.poolLabelsMatch(sel.Labels) {
			n += sizes[i]
			continue
		}
		p.candidates(sel, sizes[i], func(int) bool { n++; return true })
	}
	return n
}

func hasKey(m map[string]string, key string) bool {
	_, ok := m[key]
	return ok
}

// choose lists the nodes sel matches in a fleet of these pool sizes.
func (s *Scenario) choose(sel NodeSelector, sizes []int, seed uint64, salt string) []string {
	type node struct{ pool, index int }
	var matched []node
	for i, p := range s.NodePools {
		p.candidates(sel, sizes[i], func(idx int) bool {
			matched = append(matched, node{i, idx})
			return true
		})
	}
	if sel.Fraction > 0 && len(matched) > 0 {
		k := min(len(matched), max(1, int(sel.Fraction*float64(len(matched))+0.5)))
		// A partial Fisher-Yates shuffle picks k of them; they are then
		// put back in fleet order.
		r := sim.Stream(seed, salt)
		for i := range k {
			j := i + r.IntN(len(matched)-i)
			matched[i], matched[j] = matched[j], matched[i]
		}
		matched = matched[:k]
		slices.SortFunc(matched, func(a, b node) int {
			if a.pool != b.pool {
				return a.pool - b.pool
			}
			return a.index - b.index
		})
	}
	names := make([]string, len(matched))
	for i, n := range matched {
		names[i] = s.NodePools[n.pool].NodeName(n.index)
	}
	return names
}

package metrics

import (
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ObserveFleet sets the fleet gauges (nodes by Ready status, taints on
// nodes, pods by phase) from the simulation's view of the cluster at a
// barrier. A label set seen before and absent now reads 0.
func (m *Metrics) ObserveFleet(nodes []*corev1.Node, pods []*corev1.Pod) {
	// Counted by pool index (the last slot is "no pool") to keep a barrier
	// of 10,000 nodes cheap; turned into label sets at the end.
	slots := len(m.pools) + 1
	slot := func(name string) int {
		if p := m.locate(name); p >= 0 {
			return p
		}
		return slots - 1
	}
	ready := make([][3]int, slots)
	// Taints and phases are few and repeat on every node: counted by their
	// index in a short list, found by a linear search.
	var taintKinds []corev1.Taint
	var taints [][]int // [slot][kind]
	taintKind := func(t corev1.Taint) int {
		for i, k := range taintKinds {
			if k.Key == t.Key && k.Effect == t.Effect {
				return i
			}
		}
		taintKinds = append(taintKinds, corev1.Taint{Key: t.Key, Effect: t.Effect})
		return len(taintKinds) - 1
	}
	if len(nodes) > 0 {
		taints = make([][]int, slots)
	}
	for _, n := range nodes {
		s := slot(n.Name)
		status := 2 // Unknown, also when there is no Ready condition yet
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				switch c.Status {
				case corev1.ConditionTrue:
					status = 0
				case corev1.ConditionFalse:
					status = 1
				}
			}
		}
		ready[s][status]++
		for _, t := range n.Spec.Taints {
			k := taintKind(t)
			for len(taints[s]) <= k {
				taints[s] = append(taints[s], 0)
			}
			taints[s][k]++
		}
	}
	var phaseNames []corev1.PodPhase
	phases := make([][]int, slots) // [slot][phase]
	for _, p := range pods {
		phase := p.Status.Phase
		if phase == "" {
			phase = corev1.PodPending
		}
		i := slices.Index(phaseNames, phase)
		if i < 0 {
			i = len(phaseNames)
			phaseNames = append(phaseNames, phase)
		}
		s := slot(p.Spec.NodeName)
		for len(phases[s]) <= i {
			phases[s] = append(phases[s], 0)
		}
		phases[s][i]++
	}
	where := func(s int) (string, string) {
		if s == slots-1 {
			return "", ""
		}
		return m.pools[s].Name, m.pools[s].Zone
	}
	nodeCounts := map[[3]string]int{}
	for s := range ready {
		pool, zone := where(s)
		for i, n := range ready[s] {
			if n > 0 {
				nodeCounts[[3]string{pool, zone, readyStatuses[i]}] = n
			}
		}
	}
	taintCounts := map[[4]string]int{}
	for s := range taints {
		pool, zone := where(s)
		for k, n := range taints[s] {
			if n > 0 {
				taintCounts[[4]string{pool, zone, taintKinds[k].Key, string(taintKinds[k].Effect)}] = n
			}
		}
	}
	podCounts := map[[3]string]int{}
	for s := range phases {
		pool, zone := where(s)
		for i, n := range phases[s] {
			if n > 0 {
				podCounts[[3]string{pool, zone, string(phaseNames[i])}] = n
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	setAll(m.nodesSeen, nodeCounts, func(k [3]string, v float64) { m.nodes.WithLabelValues(k[:]...).Set(v) })
	setAll(m.taintsSeen, taintCounts, func(k [4]string, v float64) { m.nodeTaints.WithLabelValues(k[:]...).Set(v) })
	setAll(m.podsSeen, podCounts, func(k [3]string, v float64) { m.pods.WithLabelValues(k[:]...).Set(v) })
}

// setAll sets every label set counted now and zeroes those seen before.
func setAll[K comparable](seen map[K]bool, counts map[K]int, set func(K, float64)) {
	for k := range seen {
		if _, ok := counts[k]; !ok {
			set(k, 0)
		}
	}
	for k, v := range counts {
		seen[k] = true
		set(k, float64(v))
	}
}

// ObserveTime sets the time gauges: virtual time since the scenario start
// and wall time since the simulation started, at a barrier.
func (m *Metrics) ObserveTime(virtual, wall time.Duration) {
	m.virtualSeconds.Set(virtual.Seconds())
	m.wallSeconds.Set(wall.Seconds())
	if wall > 0 {
		m.speed.Set(virtual.Seconds() / wall.Seconds())
	}
}

// ObserveExpectation records the verdict on the scenario's expectation
// spec.expect[index] of kind typ, once it is decided.
func (m *Metrics) ObserveExpectation(index int, typ string, passed bool) {
	v := 0.0
	if passed {
		v = 1
	}
	m.expectations.WithLabelValues(strconv.Itoa(index), typ).Set(v)
}

package metrics

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ObserveFleet sets the fleet gauges (nodes by Ready status, taints on
// nodes, pods by phase) from the simulation's view of the cluster at a
// barrier. A label set seen before and absent now reads 0.
func (m *Metrics) ObserveFleet(nodes []*corev1.Node, pods []*corev1.Pod) {
	nodeCounts := map[[3]string]int{}
	taintCounts := map[[4]string]int{}
	for _, n := range nodes {
		pool, zone := m.Locate(n.Name)
		ready := "Unknown"
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status != "" {
				ready = string(c.Status)
			}
		}
		nodeCounts[[3]string{pool, zone, ready}]++
		for _, t := range n.Spec.Taints {
			taintCounts[[4]string{pool, zone, t.Key, string(t.Effect)}]++
		}
	}
	podCounts := map[[3]string]int{}
	for _, p := range pods {
		pool, zone := m.Locate(p.Spec.NodeName)
		phase := string(p.Status.Phase)
		if phase == "" {
			phase = string(corev1.PodPending)
		}
		podCounts[[3]string{pool, zone, phase}]++
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

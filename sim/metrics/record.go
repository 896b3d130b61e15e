package metrics

import (
	"github.com/nodesim/nodesim/sim"
)

// faultCheckpoint is the timeline step whose records time a checkpoint.
const faultCheckpoint = "checkpoint"

// Observe counts one trace record. It is called once per record, in trace
// order, from one goroutine at a time (the tracer's).
func (m *Metrics) Observe(r sim.Record) {
	m.records.WithLabelValues(r.Event).Inc()
	pool, zone := m.Locate(r.Node)
	switch r.Event {
	case sim.EventNodeRegistered:
		m.nodesRegistered.WithLabelValues(pool, zone).Inc()
	case sim.EventLeaseRenewFailed:
		m.leaseFailures.WithLabelValues(pool, zone).Inc()
	case sim.EventNodeConditionChanged:
		m.conditionChanges.WithLabelValues(pool, zone, r.Type, r.Status).Inc()
	case sim.EventNodeTaintAdded:
		m.taintsAdded.WithLabelValues(pool, zone, r.Key, r.Effect).Inc()
	case sim.EventNodeTaintRemoved:
		m.taintsRemoved.WithLabelValues(pool, zone, r.Key, r.Effect).Inc()
	case sim.EventZoneStateChanged:
		for _, s := range zoneStates {
			v := 0.0
			if s == r.Status {
				v = 1
			}
			m.zoneState.WithLabelValues(r.Zone, s).Set(v)
		}
	case sim.EventPodBound:
		m.podsBound.WithLabelValues(pool, zone).Inc()
	case sim.EventPodRunning:
		m.podsStarted.WithLabelValues(pool, zone).Inc()
	case sim.EventPodRejected:
		m.podsRejected.WithLabelValues(pool, zone).Inc()
	case sim.EventPodEvicted:
		m.evictions.WithLabelValues(pool, zone).Inc()
	case sim.EventCheckpointCreated, sim.EventCheckpointFailed:
		result := ResultCreated
		if r.Event == sim.EventCheckpointFailed {
			result = ResultFailed
		}
		m.checkpoints.WithLabelValues(pool, zone, result).Inc()
		m.mu.Lock()
		start, ok := m.checkpointStarts[checkpointKey(r)]
		delete(m.checkpointStarts, checkpointKey(r))
		m.mu.Unlock()
		if ok {
			m.checkpointSeconds.WithLabelValues(result).Observe(r.T.Seconds() - start)
		}
	case sim.EventContainerRestored:
		m.restored.WithLabelValues(pool, zone).Inc()
	case sim.EventFaultStarted:
		m.faultsStarted.WithLabelValues(r.Type).Inc()
		if r.Type == faultCheckpoint {
			m.mu.Lock()
			m.checkpointStarts[checkpointKey(r)] = r.T.Seconds()
			m.mu.Unlock()
		}
	case sim.EventFaultEnded:
		m.faultsEnded.WithLabelValues(r.Type).Inc()
	}
}

// checkpointKey pairs a checkpoint step with its outcome: by pod, else by
// node.
func checkpointKey(r sim.Record) string {
	if r.Pod != "" {
		return "pod/" + r.Pod
	}
	return "node/" + r.Node
}

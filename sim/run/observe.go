package run

import (
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodesim/nodesim/sim"
)

// observer traces what changed on a Node with every write of it, whoever
// wrote it: condition statuses, taints added and removed. Its per-node
// views are fixed before the run starts; during a window only a node's own
// entity touches its view.
type observer struct {
	views map[string]*nodeView
}

type nodeView struct {
	conditions map[corev1.NodeConditionType]corev1.ConditionStatus
	taints     map[taintKey]bool
}

type taintKey struct {
	key    string
	effect corev1.TaintEffect
}

func newObserver(names []string) *observer {
	o := &observer{views: make(map[string]*nodeView, len(names))}
	for _, n := range names {
		o.views[n] = &nodeView{conditions: map[corev1.NodeConditionType]corev1.ConditionStatus{}, taints: map[taintKey]bool{}}
	}
	return o
}

// NodeWritten compares node with the last node written and traces changes.
func (o *observer) NodeWritten(en *sim.Entity, node *corev1.Node) {
	v, ok := o.views[node.Name]
	if !ok {
		return
	}
	for _, c := range node.Status.Conditions {
		if old, seen := v.conditions[c.Type]; !seen || old != c.Status {
			v.conditions[c.Type] = c.Status
			en.Trace(sim.Record{Event: sim.EventNodeConditionChanged, Node: node.Name,
				Type: string(c.Type), Status: string(c.Status), Reason: c.Reason})
		}
	}
	now := map[taintKey]bool{}
	for _, t := range node.Spec.Taints {
		now[taintKey{t.Key, t.Effect}] = true
	}
	for _, k := range sortedTaints(now) {
		if !v.taints[k] {
			en.Trace(sim.Record{Event: sim.EventNodeTaintAdded, Node: node.Name, Key: k.key, Effect: string(k.effect)})
		}
	}
	for _, k := range sortedTaints(v.taints) {
		if !now[k] {
			en.Trace(sim.Record{Event: sim.EventNodeTaintRemoved, Node: node.Name, Key: k.key, Effect: string(k.effect)})
		}
	}
	v.taints = now
}

func sortedTaints(set map[taintKey]bool) []taintKey {
	keys := make([]taintKey, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].key != keys[j].key {
			return keys[i].key < keys[j].key
		}
		return keys[i].effect < keys[j].effect
	})
	return keys
}

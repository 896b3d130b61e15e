package run

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/sim"
)

// observer hears of every write the simulation makes. It traces what
// changed on a Node with every write of it, whoever wrote it (condition
// statuses, taints added and removed), keeps the kubelets' views of their
// Nodes current, and tells the tracker. Its per-node views only change at
// barriers or from the node's own entity.
type observer struct {
	views    map[string]*nodeView
	kubelets map[string]*node.Kubelet
	tracker  *tracker
	engine   *sim.Engine
	// reconcile is the lifecycle controller's reaction to a node update
	// (its NoSchedule taints); nil without a control plane.
	reconcile func(node *corev1.Node) *corev1.Node
	// nodeChanged is the taint eviction controller's; nil without one.
	nodeChanged func(node *corev1.Node)
}

type nodeView struct {
	conditions map[corev1.NodeConditionType]corev1.ConditionStatus
	taints     map[taintKey]bool
}

type taintKey struct {
	key    string
	effect corev1.TaintEffect
}

func newObserver(t *tracker, e *sim.Engine) *observer {
	return &observer{views: map[string]*nodeView{}, kubelets: map[string]*node.Kubelet{}, tracker: t, engine: e}
}

// add starts watching a node's changes.
func (o *observer) add(k *node.Kubelet) {
	o.kubelets[k.Name()] = k
	o.views[k.Name()] = &nodeView{conditions: map[corev1.NodeConditionType]corev1.ConditionStatus{}, taints: map[taintKey]bool{}}
}

// NodeWritten is a kubelet's write of its Node, on the node's timeline.
func (o *observer) NodeWritten(en *sim.Entity, n *corev1.Node) {
	o.tracker.wrote("nodes", n)
	for _, r := range o.changes(n) {
		en.Trace(r)
	}
	if o.reconcile != nil {
		if updated := o.reconcile(n); updated != nil {
			if k, ok := o.kubelets[n.Name]; ok {
				k.SetNode(updated)
			}
			o.NodeWritten(en, updated)
		}
	}
}

// Wrote is any other write of a kubelet.
func (o *observer) Wrote(_ *sim.Entity, resource string, obj metav1.Object) {
	o.tracker.wrote(resource, obj)
}

// Gone is a kubelet's delete.
func (o *observer) Gone(_ *sim.Entity, resource, namespace, name string) {
	o.tracker.deleted(resource, namespace, name)
}

// controllerWrote is a controller's write, at a barrier.
func (o *observer) controllerWrote(resource string, obj metav1.Object) {
	o.tracker.wrote(resource, obj)
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	for _, r := range o.changes(n) {
		o.engine.Trace(r)
	}
	if k, ok := o.kubelets[n.Name]; ok {
		k.SetNode(n)
	}
	if o.nodeChanged != nil {
		o.nodeChanged(n)
	}
	// The lifecycle controller reacts to every node update, whoever made
	// it: a cordon gets its unschedulable taint at once, an uncordon loses
	// it, not at the kubelet's next write.
	if o.reconcile != nil {
		if updated := o.reconcile(n); updated != nil {
			o.controllerWrote("nodes", updated)
		}
	}
}

// changes compares node with the last write of it and returns what to
// trace: condition statuses in the node's order, then taints added and
// removed by key and effect.
func (o *observer) changes(n *corev1.Node) []sim.Record {
	v, ok := o.views[n.Name]
	if !ok {
		return nil
	}
	var out []sim.Record
	for _, c := range n.Status.Conditions {
		if old, seen := v.conditions[c.Type]; !seen || old != c.Status {
			v.conditions[c.Type] = c.Status
			out = append(out, sim.Record{Event: sim.EventNodeConditionChanged, Node: n.Name,
				Type: string(c.Type), Status: string(c.Status), Reason: c.Reason})
		}
	}
	now := map[taintKey]bool{}
	for _, t := range n.Spec.Taints {
		now[taintKey{t.Key, t.Effect}] = true
	}
	for _, k := range sortedTaints(now) {
		if !v.taints[k] {
			out = append(out, sim.Record{Event: sim.EventNodeTaintAdded, Node: n.Name, Key: k.key, Effect: string(k.effect)})
		}
	}
	for _, k := range sortedTaints(v.taints) {
		if !now[k] {
			out = append(out, sim.Record{Event: sim.EventNodeTaintRemoved, Node: n.Name, Key: k.key, Effect: string(k.effect)})
		}
	}
	v.taints = now
	return out
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

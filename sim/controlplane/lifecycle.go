package controlplane

import (
	"fmt"
	"math"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	nodetopology "k8s.io/component-helpers/node/topology"

	"github.com/nodesim/nodesim/sim"
)

// kube-controller-manager's node lifecycle flags and their defaults.
const (
	DefaultNodeMonitorPeriod         = 5 * time.Second  // --node-monitor-period
	DefaultNodeMonitorGracePeriod    = 50 * time.Second // --node-monitor-grace-period (1.32+)
	LegacyNodeMonitorGracePeriod     = 40 * time.Second // its default up to 1.31
	DefaultNodeStartupGracePeriod    = 60 * time.Second // --node-startup-grace-period
	DefaultNodeEvictionRate          = 0.1              // --node-eviction-rate, nodes/s per zone
	DefaultSecondaryNodeEvictionRate = 0.01             // --secondary-node-eviction-rate
	DefaultLargeClusterSizeThreshold = 50               // --large-cluster-size-threshold
	DefaultUnhealthyZoneThreshold    = 0.55             // --unhealthy-zone-threshold
	// noExecuteTaintingPeriod is how often the controller drains its
	// rate-limited taint queues (scheduler.NodeEvictionPeriod).
	noExecuteTaintingPeriod = 100 * time.Millisecond
	// evictionBurst is the token bucket's burst.
	evictionBurst = 1
)

// LifecycleConfig configures the node lifecycle controller.
type LifecycleConfig struct {
	NodeMonitorPeriod         time.Duration
	NodeMonitorGracePeriod    time.Duration
	NodeStartupGracePeriod    time.Duration
	NodeEvictionRate          float64
	SecondaryNodeEvictionRate float64
	LargeClusterSizeThreshold int
	UnhealthyZoneThreshold    float64
}

// ZoneState is the controller's view of a zone's health.
type ZoneState string

// Zone states, as the controller names them.
const (
	ZoneInitial           ZoneState = "Initial"
	ZoneNormal            ZoneState = "Normal"
	ZonePartialDisruption ZoneState = "PartialDisruption"
	ZoneFullDisruption    ZoneState = "FullDisruption"
)

// NodeLifecycle is the node lifecycle controller.
type NodeLifecycle struct {
	cfg   LifecycleConfig
	env   *Env
	known map[string]bool
	// health is what the controller last saw of each node.
	health     map[string]*nodeHealth
	zoneStates map[string]ZoneState
	zoneNames  map[string]string // zone key -> the zone label's value
	queues     map[string]*taintQueue
	passAt     time.Time // the next tainting pass scheduled, zero if none
}

type nodeHealth struct {
	probe           time.Time
	readyTransition time.Time
	ready           *corev1.NodeCondition
	leaseRenew      time.Time
}

// NewNodeLifecycle validates cfg and returns the controller.
func NewNodeLifecycle(cfg LifecycleConfig, env *Env) (*NodeLifecycle, error) {
	if cfg.NodeMonitorPeriod <= 0 || cfg.NodeMonitorGracePeriod <= 0 || cfg.NodeStartupGracePeriod <= 0 {
		return nil, fmt.Errorf("node lifecycle: periods must be positive")
	}
	if cfg.NodeEvictionRate < 0 || cfg.SecondaryNodeEvictionRate < 0 || cfg.UnhealthyZoneThreshold <= 0 {
		return nil, fmt.Errorf("node lifecycle: rates must not be negative and the unhealthy threshold positive")
	}
	return &NodeLifecycle{
		cfg: cfg, env: env,
		known: map[string]bool{}, health: map[string]*nodeHealth{},
		zoneStates: map[string]ZoneState{}, zoneNames: map[string]string{}, queues: map[string]*taintQueue{},
	}, nil
}

// Reset forgets everything the controller learned, as a new instance of
// kube-controller-manager starts (after it lost its leader lease): every
// node gets a fresh grace period, every zone starts Initial.
func (c *NodeLifecycle) Reset() {
	c.known = map[string]bool{}
	c.health = map[string]*nodeHealth{}
	c.zoneStates = map[string]ZoneState{}
	c.zoneNames = map[string]string{}
	c.queues = map[string]*taintQueue{}
}

// Start schedules the health monitor every NodeMonitorPeriod from now.
func (c *NodeLifecycle) Start(now time.Time) {
	c.env.Engine.Every(now, c.cfg.NodeMonitorPeriod, c.monitor)
}

// zoneKey is the zone a node counts in: its region and zone together, as
// the controller keys them (two zones of the same name in two regions are
// two zones).
func zoneKey(node *corev1.Node) string { return nodetopology.GetZoneKey(node) }

// zoneName is how a zone is named in the trace: its zone label's value.
func zoneName(node *corev1.Node) string {
	if z, ok := node.Labels[corev1.LabelFailureDomainBetaZone]; ok {
		return z
	}
	return node.Labels[corev1.LabelTopologyZone]
}

// monitor is monitorNodeHealth: check every node's heartbeats, mark the
// silent ones Unknown, queue NoExecute taints, and update zone states.
func (c *NodeLifecycle) monitor(now time.Time) {
	nodes, err := c.env.Nodes.List(labels.Everything())
	if err != nil {
		return
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	seen := map[string]bool{}
	for _, n := range nodes {
		seen[n.Name] = true
		zone := zoneKey(n)
		c.zoneNames[zone] = zoneName(n)
		if _, ok := c.queues[zone]; !ok {
			c.queues[zone] = newTaintQueue(c.cfg.NodeEvictionRate, now)
		}
		if !c.known[n.Name] {
			c.known[n.Name] = true
			if updated := c.markReachable(n); updated != nil {
				n = updated
			}
		}
	}
	for name := range c.known {
		if !seen[name] {
			delete(c.known, name)
			delete(c.health, name)
		}
	}

	zoneConditions := map[string][]*corev1.NodeCondition{}
	for _, node := range nodes {
		observed, current, written := c.tryUpdateNodeHealth(now, node)
		if written != nil {
			node = written
		}
		zone := zoneKey(node)
		zoneConditions[zone] = append(zoneConditions[zone], current)
		if current == nil {
			continue
		}
		c.processTaintBaseEviction(now, node, current)
		if current.Status != corev1.ConditionTrue && observed.Status == corev1.ConditionTrue {
			c.markPodsNotReady(node.Name)
		}
	}
	c.handleDisruption(now, zoneConditions, nodes)
	c.scheduleTaintingPass(now)
}

// tryUpdateNodeHealth updates the probe times from the node's Ready
// heartbeat and its lease, and past the grace period marks the node's
// conditions Unknown. node is the watch's and stays as it is: it is copied
// only to be written.
func (c *NodeLifecycle) tryUpdateNodeHealth(now time.Time, node *corev1.Node) (observed corev1.NodeCondition, current *corev1.NodeCondition, written *corev1.Node) {
	h := c.health[node.Name]
	current = findCondition(node.Status.Conditions, corev1.NodeReady)
	grace := c.cfg.NodeMonitorGracePeriod
	if current == nil {
		observed = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: node.CreationTimestamp}
		grace = c.cfg.NodeStartupGracePeriod
		if h == nil {
			// The API server stamps creation with its own clock; the
			// virtual equivalent is the first time the controller sees it.
			h = &nodeHealth{probe: now, readyTransition: now}
		}
	} else {
		observed = *current
	}
	switch {
	case h == nil, h.ready == nil && current != nil:
		h = &nodeHealth{probe: now, readyTransition: now}
	case h.ready != nil && current == nil:
		h = &nodeHealth{probe: now, readyTransition: now}
	case h.ready != nil && current != nil && !h.ready.LastHeartbeatTime.Equal(&current.LastHeartbeatTime):
		transition := h.readyTransition
		if !h.ready.LastTransitionTime.Equal(&current.LastTransitionTime) {
			transition = now
		}
		h = &nodeHealth{probe: now, readyTransition: transition, leaseRenew: h.leaseRenew}
	}
	if current != nil {
		h.ready = current.DeepCopy()
	}
	if lease, err := c.env.Leases.Leases(corev1.NamespaceNodeLease).Get(node.Name); err == nil && lease.Spec.RenewTime != nil &&
		lease.Spec.RenewTime.After(h.leaseRenew) {
		h.leaseRenew = lease.Spec.RenewTime.Time
		h.probe = now
	}
	c.health[node.Name] = h

	if !now.After(h.probe.Add(grace)) {
		return observed, current, nil
	}
	t := metav1.NewTime(now)
	node = node.DeepCopy()
	markUnknown(node, t)
	current = findCondition(node.Status.Conditions, corev1.NodeReady)
	if apiequality.Semantic.DeepEqual(current, &observed) {
		return observed, current, nil
	}
	updated, err := c.env.Client.CoreV1().Nodes().UpdateStatus(c.env.ctx(), node, metav1.UpdateOptions{})
	// Another writer of the node (kube-controller-manager's ttl-controller
	// annotates it) makes the update conflict: as upstream, read the node
	// again and retry, up to NodeHealthUpdateRetry times in all.
	for try := 1; apierrors.IsConflict(err) && try < nodeHealthUpdateRetry; try++ {
		if node, err = c.env.Client.CoreV1().Nodes().Get(c.env.ctx(), node.Name, metav1.GetOptions{}); err != nil {
			break
		}
		markUnknown(node, t)
		updated, err = c.env.Client.CoreV1().Nodes().UpdateStatus(c.env.ctx(), node, metav1.UpdateOptions{})
	}
	if err != nil {
		return observed, &observed, nil
	}
	c.env.wrote("nodes", updated)
	h.ready = findCondition(updated.Status.Conditions, corev1.NodeReady).DeepCopy()
	h.readyTransition = now
	if reconciled, err := ReconcileNoSchedule(c.env.ctx(), c.env.Client, updated); err == nil && reconciled != nil {
		c.env.wrote("nodes", reconciled)
		updated = reconciled
	}
	return observed, current, updated
}

// nodeHealthUpdateRetry is how many times the controller tries to write a
// node's health (upstream's scheduler.NodeHealthUpdateRetry).
const nodeHealthUpdateRetry = 5

// markUnknown sets the node's Ready and pressure conditions Unknown, as the
// controller does past the grace period.
func markUnknown(node *corev1.Node, t metav1.Time) {
	for _, typ := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		cond := findCondition(node.Status.Conditions, typ)
		if cond == nil {
			node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{
				Type: typ, Status: corev1.ConditionUnknown, Reason: "NodeStatusNeverUpdated",
				Message: "Kubelet never posted node status.", LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: t,
			})
		} else if cond.Status != corev1.ConditionUnknown {
			cond.Status, cond.Reason, cond.Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
			cond.LastTransitionTime = t
		}
	}
}

// processTaintBaseEviction queues (or swaps) the NoExecute taint that the
// node's Ready condition calls for, and removes them once it is Ready.
func (c *NodeLifecycle) processTaintBaseEviction(now time.Time, node *corev1.Node, ready *corev1.NodeCondition) {
	zone := zoneKey(node)
	switch ready.Status {
	case corev1.ConditionFalse:
		if hasTaint(node.Spec.Taints, unreachableNoExecute) {
			c.swap(now, node, notReadyNoExecute, unreachableNoExecute)
		} else {
			c.queues[zone].add(node.Name, !hasTaint(node.Spec.Taints, notReadyNoExecute))
		}
	case corev1.ConditionUnknown:
		if hasTaint(node.Spec.Taints, notReadyNoExecute) {
			c.swap(now, node, unreachableNoExecute, notReadyNoExecute)
		} else {
			c.queues[zone].add(node.Name, !hasTaint(node.Spec.Taints, unreachableNoExecute))
		}
	case corev1.ConditionTrue:
		c.markReachable(node)
	}
}

// markReachable removes the NoExecute taints and takes the node out of its
// zone's queue.
func (c *NodeLifecycle) markReachable(node *corev1.Node) *corev1.Node {
	if q, ok := c.queues[zoneKey(node)]; ok {
		q.remove(node.Name)
	}
	updated, err := swapTaints(c.env.ctx(), c.env.Client, node, nil, notReadyNoExecute, unreachableNoExecute)
	if err != nil || updated == nil {
		return nil
	}
	c.env.wrote("nodes", updated)
	return updated
}

func (c *NodeLifecycle) swap(now time.Time, node *corev1.Node, add, remove corev1.Taint) *corev1.Node {
	t := add
	added := metav1.NewTime(now)
	t.TimeAdded = &added
	updated, err := swapTaints(c.env.ctx(), c.env.Client, node, &t, remove)
	if err != nil || updated == nil {
		return nil
	}
	c.env.wrote("nodes", updated)
	return updated
}

// scheduleTaintingPass arranges the next pass over the taint queues on the
// controller's 100 ms grid, when a queue has work and a token.
func (c *NodeLifecycle) scheduleTaintingPass(now time.Time) {
	var next time.Time
	for _, q := range c.queues {
		if at, ok := q.nextTry(now); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if next.IsZero() {
		return
	}
	start := c.env.Engine.Start()
	ticks := math.Ceil(float64(next.Sub(start)) / float64(noExecuteTaintingPeriod))
	next = start.Add(time.Duration(ticks) * noExecuteTaintingPeriod)
	if !next.After(now) {
		next = now.Add(noExecuteTaintingPeriod)
	}
	if !c.passAt.IsZero() && !c.passAt.After(next) && c.passAt.After(now) {
		return
	}
	c.passAt = next
	c.env.Engine.At(next, c.taintingPass)
}

// taintingPass is doNoExecuteTaintingPass: each zone taints queued nodes
// as its rate limiter allows.
func (c *NodeLifecycle) taintingPass(now time.Time) {
	c.passAt = time.Time{}
	zones := make([]string, 0, len(c.queues))
	for z := range c.queues {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	for _, z := range zones {
		q := c.queues[z]
		for q.len() > 0 && q.tryAccept(now) {
			name := q.pop()
			node, err := c.env.Nodes.Get(name)
			if err != nil {
				continue
			}
			ready := findCondition(node.Status.Conditions, corev1.NodeReady)
			if ready == nil {
				continue
			}
			switch ready.Status {
			case corev1.ConditionFalse:
				c.swap(now, node, notReadyNoExecute, unreachableNoExecute)
			case corev1.ConditionUnknown:
				c.swap(now, node, unreachableNoExecute, notReadyNoExecute)
			}
		}
	}
	c.scheduleTaintingPass(now)
}

// handleDisruption computes each zone's state, traces changes, and sets
// the zones' taint rates; with every zone fully disrupted it stops tainting
// and lifts the NoExecute taints.
func (c *NodeLifecycle) handleDisruption(now time.Time, zoneConditions map[string][]*corev1.NodeCondition, nodes []*corev1.Node) {
	newStates := map[string]ZoneState{}
	allAreFull := true
	for zone, conds := range zoneConditions {
		s := c.zoneState(conds)
		if s != ZoneFullDisruption {
			allAreFull = false
		}
		newStates[zone] = s
		if _, had := c.zoneStates[zone]; !had {
			c.zoneStates[zone] = ZoneInitial
		}
	}
	allWereFull := true
	for zone, s := range c.zoneStates {
		if _, have := zoneConditions[zone]; !have {
			delete(c.zoneStates, zone)
			continue
		}
		if s != ZoneFullDisruption {
			allWereFull = false
		}
	}
	zones := make([]string, 0, len(c.zoneStates))
	for z := range c.zoneStates {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	set := func(zone string, s ZoneState) {
		if c.zoneStates[zone] != s {
			c.env.Engine.Trace(sim.Record{Event: sim.EventZoneStateChanged, Zone: c.zoneNames[zone], Status: string(s)})
		}
		c.zoneStates[zone] = s
	}
	switch {
	case allAreFull && allWereFull:
	case allAreFull:
		for _, n := range nodes {
			if cur, err := c.env.Nodes.Get(n.Name); err == nil {
				c.markReachable(cur)
			}
		}
		for _, z := range zones {
			c.queues[z].setRate(0, now)
			set(z, ZoneFullDisruption)
		}
	case allWereFull:
		for _, n := range nodes {
			if h := c.health[n.Name]; h != nil {
				h.probe, h.readyTransition = now, now
			}
		}
		for _, z := range zones {
			c.queues[z].setRate(c.rateFor(len(zoneConditions[z]), newStates[z]), now)
			set(z, newStates[z])
		}
	default:
		for _, z := range zones {
			if c.zoneStates[z] == newStates[z] {
				continue
			}
			c.queues[z].setRate(c.rateFor(len(zoneConditions[z]), newStates[z]), now)
			set(z, newStates[z])
		}
	}
}

func (c *NodeLifecycle) zoneState(conds []*corev1.NodeCondition) ZoneState {
	ready, notReady := 0, 0
	for _, cond := range conds {
		if cond != nil && cond.Status == corev1.ConditionTrue {
			ready++
		} else {
			notReady++
		}
	}
	switch {
	case ready == 0 && notReady > 0:
		return ZoneFullDisruption
	case notReady > 2 && float32(notReady)/float32(notReady+ready) >= float32(c.cfg.UnhealthyZoneThreshold):
		return ZonePartialDisruption
	}
	return ZoneNormal
}

// rateFor is setLimiterInZone: the normal rate, the secondary rate for a
// partially disrupted large zone (0 for a small one), the normal rate for
// a fully disrupted zone.
func (c *NodeLifecycle) rateFor(size int, s ZoneState) float64 {
	if s == ZonePartialDisruption {
		if size > c.cfg.LargeClusterSizeThreshold {
			return c.cfg.SecondaryNodeEvictionRate
		}
		return 0
	}
	return c.cfg.NodeEvictionRate
}

// markPodsNotReady sets Ready=False on the pods of a node whose Ready left
// True, as MarkPodsNotReady does.
func (c *NodeLifecycle) markPodsNotReady(node string) {
	for _, pod := range c.env.PodsOnNode(node) {
		ready := findPodCondition(pod.Status.Conditions, corev1.PodReady)
		if ready == nil || ready.Status == corev1.ConditionFalse {
			continue
		}
		p := pod.DeepCopy()
		r := findPodCondition(p.Status.Conditions, corev1.PodReady)
		r.Status, r.LastTransitionTime = corev1.ConditionFalse, metav1.NewTime(c.env.now())
		if updated, err := c.env.Client.CoreV1().Pods(p.Namespace).UpdateStatus(c.env.ctx(), p, metav1.UpdateOptions{}); err == nil {
			c.env.wrote("pods", updated)
		}
	}
}

func findCondition(conditions []corev1.NodeCondition, typ corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conditions {
		if conditions[i].Type == typ {
			return &conditions[i]
		}
	}
	return nil
}

func findPodCondition(conditions []corev1.PodCondition, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range conditions {
		if conditions[i].Type == typ {
			return &conditions[i]
		}
	}
	return nil
}

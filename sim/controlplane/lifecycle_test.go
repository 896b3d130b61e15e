package controlplane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/sim"
)

// Kubelets in these tests renew their leases at 2 s + 10 s k, off the
// monitor's 5 s grid, so that which tick sees a renewal is never a matter
// of barrier order: a renewal at 32 s is seen by the tick at 35 s.

func defaultLifecycleConfig() LifecycleConfig {
	return LifecycleConfig{
		NodeMonitorPeriod:         DefaultNodeMonitorPeriod,
		NodeMonitorGracePeriod:    DefaultNodeMonitorGracePeriod,
		NodeStartupGracePeriod:    DefaultNodeStartupGracePeriod,
		NodeEvictionRate:          DefaultNodeEvictionRate,
		SecondaryNodeEvictionRate: DefaultSecondaryNodeEvictionRate,
		LargeClusterSizeThreshold: DefaultLargeClusterSizeThreshold,
		UnhealthyZoneThreshold:    DefaultUnhealthyZoneThreshold,
	}
}

// startLifecycle starts the controller at the start of the run.
func (h *harness) startLifecycle(cfg LifecycleConfig) *NodeLifecycle {
	h.t.Helper()
	lc, err := NewNodeLifecycle(cfg, h.env)
	if err != nil {
		h.t.Fatalf("NewNodeLifecycle: %v", err)
	}
	lc.Start(h.at(0))
	return lc
}

// healthyNode is a Ready node whose kubelet renews its lease until last.
func (h *harness) healthyNode(name, zone string, last time.Duration) {
	h.addNode(readyNode(name, zone, h.at(0)))
	h.addLease(name, h.at(0))
	h.renewLeases(name, 2*time.Second, 10*time.Second, last)
}

// silentNode is a Ready node whose kubelet renews its lease until last
// (never if last < 2 s), then falls silent.
func (h *harness) silentNode(name, zone string, last time.Duration) {
	h.healthyNode(name, zone, last)
}

func (h *harness) wantReady(at time.Duration, node string, want corev1.ConditionStatus) {
	h.t.Helper()
	c := condition(h.node(node), corev1.NodeReady)
	if c == nil || c.Status != want {
		h.t.Fatalf("at %v: node %s Ready = %v, want %s", at, node, c, want)
	}
}

func TestNewNodeLifecycleValidates(t *testing.T) {
	h := newHarness(t)
	if _, err := NewNodeLifecycle(defaultLifecycleConfig(), h.env); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	for name, mutate := range map[string]func(*LifecycleConfig){
		"zero monitor period":    func(c *LifecycleConfig) { c.NodeMonitorPeriod = 0 },
		"zero grace period":      func(c *LifecycleConfig) { c.NodeMonitorGracePeriod = 0 },
		"zero startup grace":     func(c *LifecycleConfig) { c.NodeStartupGracePeriod = 0 },
		"negative eviction rate": func(c *LifecycleConfig) { c.NodeEvictionRate = -1 },
		"negative secondary":     func(c *LifecycleConfig) { c.SecondaryNodeEvictionRate = -0.01 },
		"zero unhealthy share":   func(c *LifecycleConfig) { c.UnhealthyZoneThreshold = 0 },
	} {
		cfg := defaultLifecycleConfig()
		mutate(&cfg)
		if _, err := NewNodeLifecycle(cfg, h.env); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A node whose lease stops renewing goes Unknown at the first monitor tick
// after the tick that last saw a renewal plus the grace period.
func TestLeaseStopsRenewingMarksNodeUnknown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		want  time.Duration // last renewal 32 s, seen at 35 s
	}{
		{"grace 50s (1.32+)", DefaultNodeMonitorGracePeriod, 90 * time.Second},
		{"grace 40s (up to 1.31)", LegacyNodeMonitorGracePeriod, 80 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			n := readyNode("n1", "a", h.at(0))
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{
				Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "RouteCreated",
				LastHeartbeatTime: metav1.NewTime(h.at(0)), LastTransitionTime: metav1.NewTime(h.at(0)),
			})
			h.addNode(n)
			h.addLease("n1", h.at(0))
			h.renewLeases("n1", 2*time.Second, 10*time.Second, 32*time.Second)
			h.healthyNode("n2", "a", 1000*time.Second)
			h.addPod(boundPod("default", "p", "n1"))
			cfg := defaultLifecycleConfig()
			cfg.NodeMonitorGracePeriod = tc.grace
			h.startLifecycle(cfg)

			h.runTo(tc.want - 5*time.Second)
			h.wantReady(tc.want-5*time.Second, "n1", corev1.ConditionTrue)
			if got := h.node("n1").Spec.Taints; len(got) != 0 {
				t.Fatalf("at %v: n1 taints %v, want none", tc.want-5*time.Second, got)
			}
			h.runTo(tc.want)
			node := h.node("n1")
			for _, typ := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
				c := condition(node, typ)
				if c == nil {
					t.Fatalf("%s missing", typ)
				}
				if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" || c.Message != "Kubelet stopped posting node status." {
					t.Errorf("%s = %s %q %q, want Unknown NodeStatusUnknown %q", typ, c.Status, c.Reason, c.Message, "Kubelet stopped posting node status.")
				}
				if got := h.since(c.LastTransitionTime.Time); got != tc.want {
					t.Errorf("%s lastTransitionTime %v, want %v", typ, got, tc.want)
				}
				if !c.LastHeartbeatTime.Time.Equal(h.at(0)) {
					t.Errorf("%s lastHeartbeatTime %v changed, want the kubelet's last", typ, c.LastHeartbeatTime)
				}
			}
			if c := condition(node, corev1.NodeNetworkUnavailable); c.Status != corev1.ConditionFalse || c.Reason != "RouteCreated" {
				t.Errorf("NetworkUnavailable = %s %s, want it untouched", c.Status, c.Reason)
			}
			// The API has what the informer has.
			fromAPI, err := h.client.CoreV1().Nodes().Get(t.Context(), "n1", metav1.GetOptions{})
			if err != nil || condition(fromAPI, corev1.NodeReady).Status != corev1.ConditionUnknown {
				t.Errorf("API node Ready = %v (%v), want Unknown", condition(fromAPI, corev1.NodeReady), err)
			}
			h.wantReady(tc.want, "n2", corev1.ConditionTrue)
			// Ready left True: the node's pods are not ready any more.
			p, _ := h.pod("default", "p")
			if c := findPodCondition(p.Status.Conditions, corev1.PodReady); c.Status != corev1.ConditionFalse || h.since(c.LastTransitionTime.Time) != tc.want {
				t.Errorf("pod Ready = %s at %v, want False at %v", c.Status, h.since(c.LastTransitionTime.Time), tc.want)
			}
			// NoSchedule follows at once, NoExecute on the next 100 ms tick.
			if got := h.taintTimes("n1", corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule, true); !equalDurations(got, []time.Duration{tc.want}) {
				t.Errorf("unreachable:NoSchedule added at %v, want [%v]", got, tc.want)
			}
			h.runTo(tc.want + time.Second)
			if got := h.taintTimes("n1", corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute, true); !equalDurations(got, []time.Duration{tc.want + 100*time.Millisecond}) {
				t.Errorf("unreachable:NoExecute added at %v, want [%v]", got, tc.want+100*time.Millisecond)
			}
		})
	}
}

// A node that never posted Ready gets the startup grace period (60 s) from
// when the controller first saw it.
func TestNeverReadyNodeUsesStartupGrace(t *testing.T) {
	h := newHarness(t)
	h.addNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "fresh", Labels: map[string]string{corev1.LabelTopologyZone: "a"}}})
	h.healthyNode("ok1", "a", 1000*time.Second)
	h.healthyNode("ok2", "a", 1000*time.Second)
	h.startLifecycle(defaultLifecycleConfig())

	h.runTo(60 * time.Second)
	if c := h.node("fresh").Status.Conditions; len(c) != 0 {
		t.Fatalf("at 60s conditions %v, want none yet", c)
	}
	h.runTo(65 * time.Second)
	node := h.node("fresh")
	for _, typ := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		c := condition(node, typ)
		if c == nil || c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusNeverUpdated" || c.Message != "Kubelet never posted node status." {
			t.Fatalf("%s = %+v, want Unknown NodeStatusNeverUpdated", typ, c)
		}
		if got := h.since(c.LastTransitionTime.Time); got != 65*time.Second {
			t.Errorf("%s lastTransitionTime %v, want 65s", typ, got)
		}
	}
	h.runTo(70 * time.Second)
	if got := h.taintTimes("fresh", corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute, true); !equalDurations(got, durations(65.1)) {
		t.Errorf("unreachable:NoExecute added at %v, want [65.1s]", got)
	}
}

// A node that never posted Ready but renews its lease is left alone: the
// controller counts the lease as a heartbeat (upstream says as much).
func TestNeverReadyNodeWithLeaseStaysUntouched(t *testing.T) {
	h := newHarness(t)
	h.addNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "fresh", Labels: map[string]string{corev1.LabelTopologyZone: "a"}}})
	h.addLease("fresh", h.at(0))
	h.renewLeases("fresh", 2*time.Second, 10*time.Second, 300*time.Second)
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(300 * time.Second)
	if c := h.node("fresh").Status.Conditions; len(c) != 0 {
		t.Fatalf("conditions %v, want none", c)
	}
}

// Lease renewals alone keep a node healthy, however old its status
// heartbeat; once they stop, the grace period runs from the last one seen.
func TestLeaseAloneKeepsNodeHealthy(t *testing.T) {
	h := newHarness(t)
	h.addNode(readyNode("n1", "a", h.at(-time.Hour)))
	h.addLease("n1", h.at(0))
	h.renewLeases("n1", 2*time.Second, 10*time.Second, 292*time.Second) // last seen at 295 s
	h.healthyNode("n2", "a", 1000*time.Second)
	h.startLifecycle(defaultLifecycleConfig())

	h.runTo(345 * time.Second)
	h.wantReady(345*time.Second, "n1", corev1.ConditionTrue)
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "update" && a.GetResource().Resource == "nodes" {
			t.Fatalf("controller wrote a node while its lease was renewed: %v", a)
		}
	}
	h.runTo(350 * time.Second)
	h.wantReady(350*time.Second, "n1", corev1.ConditionUnknown)
}

// Status heartbeats alone (no lease) keep a node healthy too.
func TestStatusHeartbeatAloneKeepsNodeHealthy(t *testing.T) {
	h := newHarness(t)
	h.addNode(readyNode("n1", "a", h.at(0)))
	for d := 3 * time.Second; d <= 103*time.Second; d += 10 * time.Second {
		h.postStatus("n1", d, heartbeat(corev1.ConditionTrue)) // last seen at 105 s
	}
	h.healthyNode("n2", "a", 1000*time.Second)
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(155 * time.Second)
	h.wantReady(155*time.Second, "n1", corev1.ConditionTrue)
	h.runTo(160 * time.Second)
	h.wantReady(160*time.Second, "n1", corev1.ConditionUnknown)
}

// Reset forgets what the controller saw: every node gets a fresh grace
// period and zones start Initial again (and trace their state anew).
func TestResetGivesFreshGracePeriod(t *testing.T) {
	h := newHarness(t)
	h.silentNode("quiet", "a", 0)
	h.healthyNode("ok1", "a", 1000*time.Second)
	h.healthyNode("ok2", "a", 1000*time.Second)
	lc := h.startLifecycle(defaultLifecycleConfig())
	h.barrier(30*time.Second, func(time.Time) { lc.Reset() }) // before the tick at 30 s
	h.runTo(80 * time.Second)
	h.wantReady(80*time.Second, "quiet", corev1.ConditionTrue) // would be Unknown at 55 s without the reset
	h.runTo(85 * time.Second)
	h.wantReady(85*time.Second, "quiet", corev1.ConditionUnknown)
	var got []string
	for _, r := range h.records(sim.EventZoneStateChanged) {
		got = append(got, fmt.Sprintf("%v %s %s", r.T, r.Zone, r.Status))
	}
	if want := []string{"0s a Normal", "30s a Normal"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("zone states %v, want %v", got, want)
	}
}

// The NoSchedule taints the lifecycle controller writes itself follow the
// node's Ready: unreachable when it marks the node Unknown, not-ready or
// none as the kubelet comes back (the run's observer reconciles kubelet
// writes; the harness does the same).
func TestNoScheduleTaintsFollowReady(t *testing.T) {
	h := newHarness(t)
	h.silentNode("n1", "a", 0) // Unknown at 55 s
	h.healthyNode("n2", "a", 1000*time.Second)
	h.addNode(func() *corev1.Node {
		n := readyNode("n3", "a", h.at(0))
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		return n
	}())
	h.addLease("n3", h.at(0))
	h.startLifecycle(defaultLifecycleConfig())
	h.postStatus("n1", 72*time.Second, heartbeat(corev1.ConditionFalse))
	h.postStatus("n1", 82*time.Second, heartbeat(corev1.ConditionTrue))
	h.runTo(100 * time.Second)

	if got := h.taintTimes("n1", corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule, true); !equalDurations(got, durations(55)) {
		t.Errorf("unreachable:NoSchedule added at %v, want [55s]", got)
	}
	if got := h.taintTimes("n1", corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule, false); !equalDurations(got, durations(72)) {
		t.Errorf("unreachable:NoSchedule removed at %v, want [72s]", got)
	}
	if got := h.taintTimes("n1", corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule, true); !equalDurations(got, durations(72)) {
		t.Errorf("not-ready:NoSchedule added at %v, want [72s]", got)
	}
	if got := h.taintTimes("n1", corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule, false); !equalDurations(got, durations(82)) {
		t.Errorf("not-ready:NoSchedule removed at %v, want [82s]", got)
	}
	// n3 went Unknown at 55 s too; its own taint stays.
	if !hasTaint(h.node("n3").Spec.Taints, corev1.Taint{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}) {
		t.Errorf("n3 lost its dedicated taint: %v", h.node("n3").Spec.Taints)
	}
}

// --- NoExecute tainting and zones ---

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// fleet adds size nodes to zone, the first silent of them silent from the
// start (Unknown at 55 s), the rest healthy until last.
func (h *harness) fleet(zone string, size, silent int, last time.Duration) []string {
	ns := names(zone+"-", size)
	for i, n := range ns {
		if i < silent {
			h.silentNode(n, zone, 0)
		} else {
			h.healthyNode(n, zone, last)
		}
	}
	return ns
}

// noExecuteAdded lists when each node got the taint, in order.
func (h *harness) noExecuteAdded(key string) []string {
	var out []string
	for _, c := range h.taintsAdded(key, corev1.TaintEffectNoExecute) {
		out = append(out, fmt.Sprintf("%v %s", c.T, c.Node))
	}
	return out
}

func (h *harness) zoneStates() []string {
	var out []string
	for _, r := range h.records(sim.EventZoneStateChanged) {
		out = append(out, fmt.Sprintf("%v %s %s", r.T, r.Zone, r.Status))
	}
	return out
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// Unreachable nodes are tainted one per 10 s per zone (rate 0.1, burst 1),
// on the 100 ms grid, zones independently; the taint carries its time.
func TestUnreachableTaintsRateLimitedPerZone(t *testing.T) {
	h := newHarness(t)
	h.fleet("a", 10, 3, 1000*time.Second)
	h.fleet("b", 10, 3, 1000*time.Second)
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(120 * time.Second)
	wantStrings(t, "unreachable:NoExecute", h.noExecuteAdded(corev1.TaintNodeUnreachable), []string{
		"55.1s a-00", "55.1s b-00",
		"1m5.1s a-01", "1m5.1s b-01",
		"1m15.1s a-02", "1m15.1s b-02",
	})
	for _, n := range []string{"a-00", "a-01", "a-02"} {
		for _, tn := range h.node(n).Spec.Taints {
			if tn.Key == corev1.TaintNodeUnreachable && tn.Effect == corev1.TaintEffectNoExecute {
				// metav1.Time keeps whole seconds on the wire.
				want := h.taintTimes(n, tn.Key, tn.Effect, true)[0].Truncate(time.Second)
				if tn.TimeAdded == nil || h.since(tn.TimeAdded.Time) != want {
					t.Errorf("%s taint timeAdded %v, want %v", n, tn.TimeAdded, want)
				}
			}
		}
	}
	wantStrings(t, "zone states", h.zoneStates(), []string{"0s a Normal", "0s b Normal"})
}

// A node whose kubelet posts Ready=False gets not-ready:NoExecute.
func TestNotReadyNodeGetsNotReadyTaint(t *testing.T) {
	h := newHarness(t)
	h.fleet("a", 4, 0, 1000*time.Second)
	h.postStatus("a-00", 12*time.Second, heartbeat(corev1.ConditionFalse))
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(30 * time.Second)
	wantStrings(t, "not-ready:NoExecute", h.noExecuteAdded(corev1.TaintNodeNotReady), []string{"15.1s a-00"})
	wantStrings(t, "unreachable:NoExecute", h.noExecuteAdded(corev1.TaintNodeUnreachable), nil)
	if got := h.taintTimes("a-00", corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule, true); !equalDurations(got, durations(12)) {
		t.Errorf("not-ready:NoSchedule added at %v, want [12s]", got)
	}
}

// not-ready and unreachable swap at the monitor tick that sees the flip,
// without waiting for a token; both go when Ready returns.
func TestNoExecuteTaintSwapsAndClears(t *testing.T) {
	h := newHarness(t)
	h.fleet("a", 4, 0, 1000*time.Second)
	h.addNode(readyNode("x", "a", h.at(0))) // no lease: status heartbeats only
	for _, d := range []time.Duration{12, 22, 32, 42} {
		h.postStatus("x", d*time.Second, heartbeat(corev1.ConditionFalse)) // last seen at 45 s: Unknown at 100 s
	}
	h.postStatus("x", 112*time.Second, heartbeat(corev1.ConditionFalse))
	h.postStatus("x", 132*time.Second, heartbeat(corev1.ConditionTrue))
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(150 * time.Second)

	for _, tc := range []struct {
		key   string
		added bool
		want  []time.Duration
	}{
		{corev1.TaintNodeNotReady, true, durations(15.1, 115)},
		{corev1.TaintNodeNotReady, false, durations(100, 135)},
		{corev1.TaintNodeUnreachable, true, durations(100)},
		{corev1.TaintNodeUnreachable, false, durations(115)},
	} {
		if got := h.taintTimes("x", tc.key, corev1.TaintEffectNoExecute, tc.added); !equalDurations(got, tc.want) {
			t.Errorf("%s:NoExecute added=%v at %v, want %v", tc.key, tc.added, got, tc.want)
		}
	}
	if got := h.node("x").Spec.Taints; len(got) != 0 {
		t.Errorf("taints after recovery: %v, want none", got)
	}
}

// A zone with more than 2 and at least 55 % of its nodes not ready is
// PartialDisruption; with 50 nodes or fewer tainting stops there, and
// resumes (with a drained bucket) when it is Normal again.
func TestPartialDisruptionSmallZoneStopsTainting(t *testing.T) {
	h := newHarness(t)
	h.fleet("a", 5, 3, 1000*time.Second) // 3 of 5: 60 %
	h.postStatus("a-02", 202*time.Second, heartbeat(corev1.ConditionTrue))
	h.renewLeases("a-02", 202*time.Second, 10*time.Second, 1000*time.Second)
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(200 * time.Second)
	wantStrings(t, "unreachable:NoExecute while partially disrupted", h.noExecuteAdded(corev1.TaintNodeUnreachable), nil)
	h.runTo(240 * time.Second)
	wantStrings(t, "unreachable:NoExecute", h.noExecuteAdded(corev1.TaintNodeUnreachable), []string{"3m35s a-00", "3m45s a-01"})
	wantStrings(t, "zone states", h.zoneStates(), []string{"0s a Normal", "55s a PartialDisruption", "3m25s a Normal"})
}

// A partially disrupted zone of more than 50 nodes is tainted at the
// secondary rate, 0.01/s: one node per 100 s.
func TestPartialDisruptionLargeZoneUsesSecondaryRate(t *testing.T) {
	h := newHarness(t)
	h.fleet("big", 60, 40, 1000*time.Second) // 40 of 60: 67 %
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(300 * time.Second)
	wantStrings(t, "unreachable:NoExecute", h.noExecuteAdded(corev1.TaintNodeUnreachable), []string{
		"55.1s big-00", "2m35.1s big-01", "4m15.1s big-02",
	})
	wantStrings(t, "zone states", h.zoneStates(), []string{"0s big Normal", "55s big PartialDisruption"})
}

// A zone in FullDisruption while another is not is tainted at the normal
// rate.
func TestFullDisruptionInOneZoneTaintsAtNormalRate(t *testing.T) {
	h := newHarness(t)
	h.fleet("a", 3, 3, 0)
	h.fleet("b", 3, 0, 1000*time.Second)
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(100 * time.Second)
	wantStrings(t, "unreachable:NoExecute", h.noExecuteAdded(corev1.TaintNodeUnreachable), []string{"55.1s a-00", "1m5.1s a-01", "1m15.1s a-02"})
	wantStrings(t, "zone states", h.zoneStates(), []string{"0s a Normal", "0s b Normal", "55s a FullDisruption"})
}

// With every zone in FullDisruption the NoExecute taints are lifted and
// none is added; when a zone recovers, tainting resumes with drained
// buckets and every node gets a fresh grace period.
func TestAllZonesFullDisruption(t *testing.T) {
	h := newHarness(t)
	h.fleet("a", 3, 3, 0)               // Unknown at 55 s
	h.fleet("b", 3, 0, 102*time.Second) // last seen 105 s: Unknown at 160 s
	h.postStatus("b-00", 302*time.Second, heartbeat(corev1.ConditionTrue))
	h.renewLeases("b-00", 302*time.Second, 10*time.Second, 1000*time.Second)
	// A node registering during the outage, never posting Ready: first seen
	// at 250 s, it would be Unknown at 315 s; the recovery at 305 s restarts
	// its grace: Unknown at 370 s.
	h.barrier(250*time.Second, func(time.Time) {
		h.addNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "a-late", Labels: map[string]string{corev1.LabelTopologyZone: "a"}}})
	})
	h.startLifecycle(defaultLifecycleConfig())

	h.runTo(159 * time.Second)
	wantStrings(t, "unreachable:NoExecute before the full outage", h.noExecuteAdded(corev1.TaintNodeUnreachable), []string{"55.1s a-00", "1m5.1s a-01", "1m15.1s a-02"})
	h.runTo(300 * time.Second)
	for _, n := range []string{"a-00", "a-01", "a-02"} {
		if got := h.taintTimes(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute, false); !equalDurations(got, durations(160)) {
			t.Errorf("%s unreachable:NoExecute removed at %v, want [2m40s]", n, got)
		}
	}
	for _, n := range append(names("a-", 3), names("b-", 3)...) {
		for _, tn := range h.node(n).Spec.Taints {
			if tn.Effect == corev1.TaintEffectNoExecute {
				t.Errorf("at 300s %s has %v during full disruption", n, tn)
			}
		}
	}
	h.runTo(365 * time.Second)
	if c := h.node("a-late").Status.Conditions; len(c) != 0 {
		t.Errorf("a-late at 365s: %v, want no conditions yet (fresh grace from 305s)", c)
	}
	h.runTo(370 * time.Second)
	h.wantReady(370*time.Second, "a-late", corev1.ConditionUnknown)
	h.runTo(400 * time.Second)
	wantStrings(t, "unreachable:NoExecute", h.noExecuteAdded(corev1.TaintNodeUnreachable), []string{
		"55.1s a-00", "1m5.1s a-01", "1m15.1s a-02",
		"5m15s a-00", "5m15s b-01", "5m25s a-01", "5m25s b-02", "5m35s a-02",
		"6m10.1s a-late",
	})
	wantStrings(t, "zone states", h.zoneStates(), []string{
		"0s a Normal", "0s b Normal", "55s a FullDisruption", "2m40s b FullDisruption", "5m5s b Normal",
	})
	lines := h.traceLines(sim.EventZoneStateChanged)
	if len(lines) < 4 || lines[3] != `{"t":160,"event":"ZoneStateChanged","zone":"b","status":"FullDisruption"}` {
		t.Errorf("trace lines %q", lines)
	}
}

func TestZoneState(t *testing.T) {
	c := &NodeLifecycle{cfg: defaultLifecycleConfig()}
	cond := func(s corev1.ConditionStatus) *corev1.NodeCondition {
		return &corev1.NodeCondition{Type: corev1.NodeReady, Status: s}
	}
	for _, tc := range []struct {
		ready, notReady, unknown, never int
		want                            ZoneState
	}{
		{ready: 3, want: ZoneNormal},
		{notReady: 1, want: ZoneFullDisruption},
		{never: 2, want: ZoneFullDisruption},
		{ready: 1, notReady: 2, want: ZoneNormal},                        // not more than 2
		{ready: 2, notReady: 2, unknown: 1, want: ZonePartialDisruption}, // 3 of 5
		{ready: 3, unknown: 3, want: ZoneNormal},                         // 50 %
		{ready: 9, unknown: 11, want: ZonePartialDisruption},             // exactly 55 %
		{ready: 10, unknown: 11, want: ZoneNormal},                       // 52 %
		{ready: 1, never: 3, want: ZonePartialDisruption},                // nil counts as not ready
	} {
		var conds []*corev1.NodeCondition
		for range tc.ready {
			conds = append(conds, cond(corev1.ConditionTrue))
		}
		for range tc.notReady {
			conds = append(conds, cond(corev1.ConditionFalse))
		}
		for range tc.unknown {
			conds = append(conds, cond(corev1.ConditionUnknown))
		}
		for range tc.never {
			conds = append(conds, nil)
		}
		if got := c.zoneState(conds); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc, got, tc.want)
		}
	}
}

func TestRateFor(t *testing.T) {
	c := &NodeLifecycle{cfg: defaultLifecycleConfig()}
	for _, tc := range []struct {
		size  int
		state ZoneState
		want  float64
	}{
		{10, ZoneNormal, 0.1},
		{10, ZoneFullDisruption, 0.1},
		{100, ZoneFullDisruption, 0.1},
		{50, ZonePartialDisruption, 0},
		{51, ZonePartialDisruption, 0.01},
	} {
		if got := c.rateFor(tc.size, tc.state); got != tc.want {
			t.Errorf("rateFor(%d, %s) = %v, want %v", tc.size, tc.state, got, tc.want)
		}
	}
}

// Upstream keys zones by region and zone (GetZoneKey): a zone name reused
// in two regions is two zones.
func TestZonesAreKeyedByRegionAndZone(t *testing.T) {
	h := newHarness(t)
	for _, region := range []string{"r1", "r2"} {
		for i := range 3 {
			name := fmt.Sprintf("%s-%d", region, i)
			n := readyNode(name, "a", h.at(0))
			n.Labels[corev1.LabelTopologyRegion] = region
			h.addNode(n)
			h.addLease(name, h.at(0))
			if region == "r2" {
				h.renewLeases(name, 2*time.Second, 10*time.Second, 1000*time.Second)
			}
		}
	}
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(100 * time.Second)
	// r1's zone a is fully disrupted while r2's is healthy.
	var full int
	for _, r := range h.records(sim.EventZoneStateChanged) {
		if r.Status == string(ZoneFullDisruption) {
			full++
		}
	}
	if full != 1 {
		t.Errorf("zone states %v: want one zone in FullDisruption", h.zoneStates())
	}
}

// The same fleet and the same faults give the same trace and the same
// writes, run after run.
func TestLifecycleDeterministic(t *testing.T) {
	run := func() (string, string) {
		h := newHarness(t)
		h.fleet("c", 4, 3, 1000*time.Second) // PartialDisruption at 55 s
		h.fleet("a", 5, 2, 1000*time.Second)
		h.fleet("b", 3, 3, 0) // FullDisruption at 55 s
		h.postStatus("a-04", 72*time.Second, heartbeat(corev1.ConditionFalse))
		h.startLifecycle(defaultLifecycleConfig())
		h.runTo(200 * time.Second)
		return h.trace.String(), fmt.Sprint(h.taintLog)
	}
	trace1, taints1 := run()
	trace2, taints2 := run()
	if trace1 != trace2 {
		t.Errorf("traces differ:\n%s---\n%s", trace1, trace2)
	}
	if taints1 != taints2 {
		t.Errorf("taint writes differ:\n%s\n---\n%s", taints1, taints2)
	}
	if want := "{\"t\":55,\"event\":\"ZoneStateChanged\",\"zone\":\"b\",\"status\":\"FullDisruption\"}\n" +
		"{\"t\":55,\"event\":\"ZoneStateChanged\",\"zone\":\"c\",\"status\":\"PartialDisruption\"}\n"; !strings.Contains(trace1, want) {
		t.Errorf("trace\n%s\nlacks\n%s", trace1, want)
	}
}

package controlplane

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clienttesting "k8s.io/client-go/testing"

	"github.com/nodesim/nodesim/sim"
)

var (
	unreachable = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReady    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	maintenance = corev1.Taint{Key: "example.com/maintenance", Value: "true", Effect: corev1.TaintEffectNoExecute}
)

func tolerate(key string, seconds *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
}

// evictionHarness has node n1 and the taint eviction controller hearing
// every node write, as in a run.
func evictionHarness(t *testing.T) (*harness, *TaintEviction) {
	h := newHarness(t)
	h.addNode(readyNode("n1", "a", h.at(0)))
	h.addNode(readyNode("n2", "a", h.at(0)))
	te := NewTaintEviction(h.env)
	h.onNode = te.NodeChanged
	return h, te
}

// setTaints writes the node's taints at d, as the lifecycle controller or
// a person would.
func (h *harness) setTaints(node string, d time.Duration, taints ...corev1.Taint) {
	h.barrier(d, func(time.Time) {
		n := h.node(node).DeepCopy()
		n.Spec.Taints = taints
		out, err := h.client.CoreV1().Nodes().Update(h.t.Context(), n, metav1.UpdateOptions{})
		if err != nil {
			h.t.Errorf("taint %s: %v", node, err)
			return
		}
		h.wrote("nodes", out)
	})
}

// evictions are the PodEvicted records as "time pod node reason".
func (h *harness) evictions() []string {
	var out []string
	for _, r := range h.records(sim.EventPodEvicted) {
		out = append(out, fmt.Sprintf("%v %s %s %s", r.T, r.Pod, r.Node, r.Reason))
	}
	return out
}

// An intolerant pod is marked a disruption target and deleted at once.
func TestTaintEvictionEvictsIntolerantPodAtOnce(t *testing.T) {
	h, _ := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1"))
	h.addPod(boundPod("default", "other", "n2"))
	h.setTaints("n1", 30*time.Second, unreachable)
	h.runTo(29 * time.Second)
	if _, ok := h.pod("default", "p"); !ok {
		t.Fatal("pod gone before the taint")
	}
	h.runTo(30 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"30s default/p n1 DeletionByTaintManager"})
	if lines := h.traceLines(sim.EventPodEvicted); len(lines) != 1 || lines[0] != `{"t":30,"event":"PodEvicted","node":"n1","pod":"default/p","reason":"DeletionByTaintManager"}` {
		t.Errorf("trace lines %q", lines)
	}
	if _, ok := h.pod("default", "p"); ok {
		t.Error("evicted pod still in the informer")
	}
	if _, err := h.client.CoreV1().Pods("default").Get(t.Context(), "p", metav1.GetOptions{}); err == nil {
		t.Error("evicted pod still in the API")
	}
	if _, ok := h.pod("default", "other"); !ok {
		t.Error("pod on the other node evicted")
	}
	// The condition is written before the delete.
	var steps []string
	for _, a := range h.client.Actions() {
		if a.GetResource().Resource != "pods" || a.GetVerb() == "get" || a.GetVerb() == "create" {
			continue
		}
		switch a := a.(type) {
		case clienttesting.PatchAction:
			var p corev1.Pod
			if err := json.Unmarshal(a.GetPatch(), &p); err != nil {
				t.Fatalf("status patch %s: %v", a.GetPatch(), err)
			}
			c := findPodCondition(p.Status.Conditions, corev1.DisruptionTarget)
			if c == nil {
				t.Fatalf("status update without DisruptionTarget: %v", p.Status.Conditions)
			}
			if c.Status != corev1.ConditionTrue || c.Reason != "DeletionByTaintManager" || c.Message != "Taint manager: deleting due to NoExecute taint" || h.since(c.LastTransitionTime.Time) != 30*time.Second {
				t.Errorf("DisruptionTarget = %+v", c)
			}
			steps = append(steps, a.GetVerb()+"/"+a.GetSubresource()+" "+a.GetName())
		case clienttesting.DeleteAction:
			steps = append(steps, "delete "+a.GetName())
		}
	}
	wantStrings(t, "pod writes", steps, []string{"patch/status p", "delete p"})
}

// A pod tolerating the taint for N seconds goes N seconds after the
// controller saw the taint; the smallest tolerationSeconds of the taints'
// tolerations counts; without seconds it never goes.
func TestTaintEvictionTolerationSeconds(t *testing.T) {
	for _, tc := range []struct {
		name        string
		taints      []corev1.Taint
		tolerations []corev1.Toleration
		want        []string
	}{
		{"300s", []corev1.Taint{unreachable}, []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))},
			[]string{"5m30s default/p n1 DeletionByTaintManager"}},
		{"smallest of several taints' tolerations", []corev1.Taint{unreachable, maintenance},
			[]corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr(int64(300))), tolerate(maintenance.Key, ptr(int64(120)))},
			[]string{"2m30s default/p n1 DeletionByTaintManager"}},
		{"forever and 120s: 120s", []corev1.Taint{unreachable, maintenance},
			[]corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil), tolerate(maintenance.Key, ptr(int64(120)))},
			[]string{"2m30s default/p n1 DeletionByTaintManager"}},
		{"forever", []corev1.Taint{unreachable}, []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil)}, nil},
		{"everything forever", []corev1.Taint{unreachable, maintenance}, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, nil},
		{"one taint not tolerated", []corev1.Taint{unreachable, maintenance}, []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil)},
			[]string{"30s default/p n1 DeletionByTaintManager"}},
		{"zero seconds", []corev1.Taint{unreachable}, []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr(int64(0)))},
			[]string{"30s default/p n1 DeletionByTaintManager"}},
		{"negative seconds", []corev1.Taint{unreachable}, []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr(int64(-5)))},
			[]string{"30s default/p n1 DeletionByTaintManager"}},
		{"NoSchedule toleration does not count", []corev1.Taint{unreachable},
			[]corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			[]string{"30s default/p n1 DeletionByTaintManager"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := evictionHarness(t)
			h.addPod(boundPod("default", "p", "n1", tc.tolerations...))
			h.setTaints("n1", 30*time.Second, tc.taints...)
			h.runTo(3600 * time.Second)
			wantStrings(t, "evictions", h.evictions(), tc.want)
			_, present := h.pod("default", "p")
			if present != (len(tc.want) == 0) {
				t.Errorf("pod present %v after the run", present)
			}
		})
	}
}

// Just before its time the pod is still there.
func TestTaintEvictionTimerIsExact(t *testing.T) {
	h, _ := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1", tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	h.setTaints("n1", 30*time.Second, unreachable)
	h.runTo(329900 * time.Millisecond)
	if _, ok := h.pod("default", "p"); !ok || len(h.evictions()) != 0 {
		t.Fatalf("evicted before 330s: %v", h.evictions())
	}
	h.runTo(330 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"5m30s default/p n1 DeletionByTaintManager"})
}

// Removing the taint before the timer cancels it; the taint coming back
// starts a new one.
func TestTaintEvictionRemovedTaintCancels(t *testing.T) {
	h, _ := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1", tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	h.setTaints("n1", 30*time.Second, unreachable)
	h.setTaints("n1", 200*time.Second)
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), nil)
	h.setTaints("n1", 1100*time.Second, unreachable)
	h.runTo(1500 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"23m20s default/p n1 DeletionByTaintManager"})
}

// Swapping not-ready for unreachable, both tolerated alike, keeps the
// timer that the first started.
func TestTaintEvictionSwapKeepsTimer(t *testing.T) {
	h, _ := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1",
		tolerate(corev1.TaintNodeNotReady, ptr(int64(300))), tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	h.setTaints("n1", 30*time.Second, notReady)
	h.setTaints("n1", 100*time.Second, unreachable)
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"5m30s default/p n1 DeletionByTaintManager"})
}

// A taint with a shorter toleration arriving later does not shorten the
// running timer (upstream keeps the scheduled work when it started earlier).
func TestTaintEvictionLaterTaintKeepsEarlierTimer(t *testing.T) {
	h, _ := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1",
		tolerate(corev1.TaintNodeUnreachable, ptr(int64(300))), tolerate(maintenance.Key, ptr(int64(60)))))
	h.setTaints("n1", 30*time.Second, unreachable)
	h.setTaints("n1", 100*time.Second, unreachable, maintenance)
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"5m30s default/p n1 DeletionByTaintManager"})
}

// Upstream replaces scheduled work created at the same instant
// (processPodOnNode: CreatedAt+min is not Before now+min), so a second
// taint seen in the same instant with a shorter toleration wins.
func TestTaintEvictionSameInstantShorterToleration(t *testing.T) {
	h, _ := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1",
		tolerate(corev1.TaintNodeUnreachable, ptr(int64(300))), tolerate(maintenance.Key, ptr(int64(60)))))
	h.setTaints("n1", 30*time.Second, unreachable)
	h.setTaints("n1", 30*time.Second, unreachable, maintenance)
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"1m30s default/p n1 DeletionByTaintManager"})
}

// Upstream (GetMatchingTolerations) uses, for each taint, the first
// toleration that tolerates it; getMinTolerationTime then takes the
// smallest of those. A later toleration of the same taint does not count.
func TestTaintEvictionFirstMatchingTolerationCounts(t *testing.T) {
	for _, tc := range []struct {
		name        string
		tolerations []corev1.Toleration
		want        []string
	}{
		{"forever first, then 60s", []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil), {Operator: corev1.TolerationOpExists, TolerationSeconds: ptr(int64(60))}}, nil},
		{"600s first, then 60s", []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr(int64(600))), {Operator: corev1.TolerationOpExists, TolerationSeconds: ptr(int64(60))}},
			[]string{"10m30s default/p n1 DeletionByTaintManager"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := evictionHarness(t)
			h.addPod(boundPod("default", "p", "n1", tc.tolerations...))
			h.setTaints("n1", 30*time.Second, unreachable)
			h.runTo(3600 * time.Second)
			wantStrings(t, "evictions", h.evictions(), tc.want)
		})
	}
}

// A pod bound to a node already tainted gets its timer when the
// controller sees the pod.
func TestTaintEvictionPodBoundToTaintedNode(t *testing.T) {
	h, te := evictionHarness(t)
	h.setTaints("n1", 30*time.Second, unreachable)
	bind := func(d time.Duration, p *corev1.Pod) {
		h.barrier(d, func(now time.Time) {
			p.Spec.NodeName = "n1"
			h.addPod(p)
			current, _ := h.pod(p.Namespace, p.Name)
			te.PodChanged(now, current)
		})
	}
	bind(100*time.Second, boundPod("default", "intolerant", ""))
	bind(100*time.Second, boundPod("default", "tolerant", "", tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	bind(100*time.Second, boundPod("default", "forever", "", tolerate(corev1.TaintNodeUnreachable, nil)))
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{
		"1m40s default/intolerant n1 DeletionByTaintManager",
		"6m40s default/tolerant n1 DeletionByTaintManager",
	})
}

// A pod being deleted (deletionTimestamp set) or gone is not evicted.
func TestTaintEvictionSkipsTerminatingAndGonePods(t *testing.T) {
	h, te := evictionHarness(t)
	for _, name := range []string{"terminating", "gone"} {
		h.addPod(boundPod("default", name, "n1", tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	}
	h.setTaints("n1", 30*time.Second, unreachable)
	h.barrier(100*time.Second, func(now time.Time) {
		p, _ := h.pod("default", "terminating")
		p = p.DeepCopy()
		p.DeletionTimestamp = ptr(metav1.NewTime(now))
		h.wrote("pods", p)
		te.PodChanged(now, p)
		h.gone("pods", "default", "gone") // deleted with no notice to the controller
	})
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), nil)
}

// Reset forgets timers and taints: a new instance sees the taint anew.
func TestTaintEvictionReset(t *testing.T) {
	h, te := evictionHarness(t)
	h.addPod(boundPod("default", "p", "n1", tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	h.setTaints("n1", 30*time.Second, unreachable)
	h.barrier(100*time.Second, func(now time.Time) {
		te.Reset()
		te.NodeChanged(now, h.node("n1"))
	})
	h.runTo(1000 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{"6m40s default/p n1 DeletionByTaintManager"})
}

// With the lifecycle controller: a silent node is tainted unreachable at
// 55.1 s and its pods go 300 s later (the default toleration), the
// intolerant ones at once.
func TestTaintEvictionFollowsLifecycle(t *testing.T) {
	h := newHarness(t)
	te := NewTaintEviction(h.env)
	h.onNode = te.NodeChanged
	h.fleet("a", 4, 1, 1000*time.Second)
	h.addPod(boundPod("default", "bare", "a-00"))
	h.addPod(boundPod("default", "web", "a-00",
		tolerate(corev1.TaintNodeNotReady, ptr(int64(300))), tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))))
	h.addPod(boundPod("default", "elsewhere", "a-01"))
	h.startLifecycle(defaultLifecycleConfig())
	h.runTo(400 * time.Second)
	wantStrings(t, "evictions", h.evictions(), []string{
		"55.1s default/bare a-00 DeletionByTaintManager",
		"5m55.1s default/web a-00 DeletionByTaintManager",
	})
}

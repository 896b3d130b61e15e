package controlplane

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/sim"
)

// pendingPod asks for cpu and memory (empty: nothing).
func pendingPod(namespace, name, cpu, mem string) *corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{Requests: req},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

// schedule runs the scheduler at the barrier d after the start.
func (h *harness) schedule(d time.Duration) {
	s := NewScheduler(h.env)
	h.barrier(d, func(time.Time) { s.Schedule() })
	h.runTo(d)
}

// bindings are the PodBound records as "time pod node".
func (h *harness) bindings() []string {
	var out []string
	for _, r := range h.records(sim.EventPodBound) {
		out = append(out, fmt.Sprintf("%v %s %s", r.T, r.Pod, r.Node))
	}
	return out
}

func (h *harness) boundTo(namespace, name string) string {
	p, ok := h.pod(namespace, name)
	if !ok {
		h.t.Fatalf("pod %s/%s missing", namespace, name)
	}
	fromAPI, err := h.client.CoreV1().Pods(namespace).Get(h.t.Context(), name, metav1.GetOptions{})
	if err != nil || fromAPI.Spec.NodeName != p.Spec.NodeName {
		h.t.Fatalf("pod %s/%s: informer has node %q, API %v (%v)", namespace, name, p.Spec.NodeName, fromAPI, err)
	}
	return p.Spec.NodeName
}

// Each of the scheduler's filters, on a single node: the pod stays
// pending when the filter rejects the node and is bound when it does not.
func TestSchedulerFilters(t *testing.T) {
	for _, tc := range []struct {
		name string
		node func(n *corev1.Node)
		pod  func(p *corev1.Pod)
		want bool
	}{
		{"plain", nil, nil, true},
		{"NoSchedule taint", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}, nil, false},
		{"NoSchedule taint tolerated", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}, func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}, true},
		{"NoSchedule taint tolerated for another value", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}, func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}}
		}, false},
		{"NoExecute taint", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{unreachable} }, nil, false},
		{"NoExecute taint tolerated for a while", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{unreachable} }, func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr(int64(300)))}
		}, true},
		{"PreferNoSchedule taint", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}}
		}, nil, true},
		{"unschedulable", func(n *corev1.Node) { n.Spec.Unschedulable = true }, nil, false},
		{"unschedulable tolerated", func(n *corev1.Node) { n.Spec.Unschedulable = true }, func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}, true},
		{"nodeSelector matches", func(n *corev1.Node) { n.Labels["disk"] = "ssd" }, func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		}, true},
		{"nodeSelector value differs", func(n *corev1.Node) { n.Labels["disk"] = "hdd" }, func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		}, false},
		{"nodeSelector label missing", nil, func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }, false},
		{"cpu fits exactly", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("4")
		}, true},
		{"cpu too much", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("4001m")
		}, false},
		{"memory too much", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("9Gi")
		}, false},
		{"requests of all containers add up", nil, func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Image: "x",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3500m")}}})
		}, false},
		{"no pod room", func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourcePods] = resource.MustParse("0") }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			n := readyNode("n1", "a", h.at(0))
			if tc.node != nil {
				tc.node(n)
			}
			h.addNode(n)
			p := pendingPod("default", "p", "1", "1Gi")
			if tc.pod != nil {
				tc.pod(p)
			}
			h.addPod(p)
			h.schedule(7 * time.Second)
			var want []string
			if tc.want {
				want = []string{"7s default/p n1"}
			}
			wantStrings(t, "bindings", h.bindings(), want)
			if got := h.boundTo("default", "p"); (got == "n1") != tc.want {
				t.Errorf("pod bound to %q", got)
			}
		})
	}
}

// Pods already bound count against their node: allocatable pods, cpu and
// memory; pods placed in the same pass count too.
func TestSchedulerCountsPods(t *testing.T) {
	h := newHarness(t)
	n := readyNode("n1", "a", h.at(0))
	n.Status.Allocatable[corev1.ResourcePods] = resource.MustParse("3")
	h.addNode(n)
	h.addPod(func() *corev1.Pod { p := pendingPod("default", "old", "1", ""); p.Spec.NodeName = "n1"; return p }())
	done := pendingPod("default", "done", "1", "")
	done.Spec.NodeName, done.Status.Phase = "n1", corev1.PodSucceeded // counts for nothing
	h.addPod(done)
	for i := range 3 {
		h.addPod(pendingPod("default", fmt.Sprintf("new-%d", i), "1", ""))
	}
	h.schedule(time.Second)
	wantStrings(t, "bindings", h.bindings(), []string{"1s default/new-0 n1", "1s default/new-1 n1"})

	h2 := newHarness(t)
	h2.addNode(readyNode("n1", "a", h2.at(0)))
	for i := range 3 {
		h2.addPod(pendingPod("default", fmt.Sprintf("big-%d", i), "1500m", ""))
	}
	h2.schedule(time.Second)
	wantStrings(t, "bindings by cpu", h2.bindings(), []string{"1s default/big-0 n1", "1s default/big-1 n1"})
}

// Pods not for this scheduler, being deleted or finished are left alone.
func TestSchedulerSkipsPods(t *testing.T) {
	h := newHarness(t)
	h.addNode(readyNode("n1", "a", h.at(0)))
	other := pendingPod("default", "other", "", "")
	other.Spec.SchedulerName = "my-scheduler"
	h.addPod(other)
	named := pendingPod("default", "named", "", "")
	named.Spec.SchedulerName = DefaultSchedulerName
	h.addPod(named)
	deleting := pendingPod("default", "deleting", "", "")
	deleting.DeletionTimestamp = ptr(metav1.NewTime(h.at(0)))
	deleting.Finalizers = []string{"example.com/hold"}
	h.addPod(deleting)
	failed := pendingPod("default", "failed", "", "")
	failed.Status.Phase = corev1.PodFailed
	h.addPod(failed)
	h.schedule(time.Second)
	wantStrings(t, "bindings", h.bindings(), []string{"1s default/named n1"})
}

// Identical pods spread over identical empty nodes, with or without
// requests.
func TestSchedulerSpreads(t *testing.T) {
	for _, req := range [][2]string{{"500m", "512Mi"}, {"", ""}} {
		t.Run(fmt.Sprintf("requests %v", req), func(t *testing.T) {
			h := newHarness(t)
			for _, n := range []string{"n3", "n1", "n2"} {
				h.addNode(readyNode(n, "a", h.at(0)))
			}
			for i := range 6 {
				h.addPod(pendingPod("default", fmt.Sprintf("web-%d", i), req[0], req[1]))
			}
			h.schedule(time.Second)
			perNode := map[string]int{}
			for i := range 6 {
				perNode[h.boundTo("default", fmt.Sprintf("web-%d", i))]++
			}
			if perNode["n1"] != 2 || perNode["n2"] != 2 || perNode["n3"] != 2 {
				t.Errorf("pods per node %v, want 2 each", perNode)
			}
			wantStrings(t, "bindings", h.bindings(), []string{
				"1s default/web-0 n1", "1s default/web-1 n2", "1s default/web-2 n3",
				"1s default/web-3 n1", "1s default/web-4 n2", "1s default/web-5 n3",
			})
		})
	}
}

// The least allocated node wins, whatever the order things were listed in;
// the same input gives the same bindings and the same trace bytes.
func TestSchedulerDeterministic(t *testing.T) {
	run := func(reverse bool) (string, []string) {
		h := newHarness(t)
		nodes := []*corev1.Node{readyNode("small", "a", h.at(0)), readyNode("large", "a", h.at(0)), readyNode("medium", "b", h.at(0))}
		nodes[0].Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("2")
		nodes[1].Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("16")
		nodes[1].Status.Allocatable[corev1.ResourceMemory] = resource.MustParse("32Gi")
		nodes[2].Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("8")
		var pods []*corev1.Pod
		for i := range 25 {
			pods = append(pods, pendingPod(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("app-%d", i), "700m", "1Gi"))
		}
		if reverse {
			for i, j := 0, len(nodes)-1; i < j; i, j = i+1, j-1 {
				nodes[i], nodes[j] = nodes[j], nodes[i]
			}
			for i, j := 0, len(pods)-1; i < j; i, j = i+1, j-1 {
				pods[i], pods[j] = pods[j], pods[i]
			}
		}
		for _, n := range nodes {
			h.addNode(n)
		}
		for _, p := range pods {
			h.addPod(p)
		}
		h.schedule(3 * time.Second)
		return h.trace.String(), h.bindings()
	}
	trace1, b1 := run(false)
	trace2, b2 := run(true)
	if len(b1) != 25 {
		t.Fatalf("%d of 25 bound: %v", len(b1), b1)
	}
	wantStrings(t, "bindings of the second run", b2, b1)
	if trace1 != trace2 {
		t.Errorf("traces differ:\n%s\n---\n%s", trace1, trace2)
	}
	// The first pod goes to the node with the most room.
	if b1[0] != "3s ns-0/app-0 large" {
		t.Errorf("first binding %q, want ns-0/app-0 on large", b1[0])
	}
	if want := `{"t":3,"event":"PodBound","node":"large","pod":"ns-0/app-0"}`; len(trace1) < len(want) || trace1[:len(want)] != want {
		t.Errorf("trace starts %q, want %q", trace1[:min(len(trace1), 80)], want)
	}
}

// Upstream's PodRequests counts the larger of the containers' sum and each
// init container's requests: an init container asking for more than the
// node has makes the pod unschedulable there.
func TestSchedulerCountsInitContainers(t *testing.T) {
	h := newHarness(t)
	h.addNode(readyNode("n1", "a", h.at(0)))
	p := pendingPod("default", "p", "1", "1Gi")
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.k8s.io/pause:3.10",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("5")}}}}
	h.addPod(p)
	h.schedule(time.Second)
	wantStrings(t, "bindings", h.bindings(), nil)
}

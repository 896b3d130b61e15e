package controlplane

import (
	"fmt"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func taintStrings(taints []corev1.Taint) []string {
	var out []string
	for _, t := range taints {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		out = append(out, s+":"+string(t.Effect))
	}
	sort.Strings(out)
	return out
}

func withCondition(typ corev1.NodeConditionType, s corev1.ConditionStatus) func(n *corev1.Node) {
	return func(n *corev1.Node) {
		if c := findCondition(n.Status.Conditions, typ); c != nil {
			c.Status = s
			return
		}
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: typ, Status: s})
	}
}

// ReconcileNoSchedule makes the controller's NoSchedule taints follow the
// conditions and spec.unschedulable, and leaves every other taint alone.
func TestReconcileNoSchedule(t *testing.T) {
	others := []corev1.Taint{
		{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
		{Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule},
		notReadyNoExecute, unreachableNoExecute,
	}
	for _, tc := range []struct {
		name   string
		mutate []func(n *corev1.Node)
		taints []corev1.Taint
		want   []string // nil: no write
	}{
		{"healthy: nothing", nil, nil, nil},
		{"Ready False", []func(*corev1.Node){withCondition(corev1.NodeReady, corev1.ConditionFalse)}, nil,
			[]string{"node.kubernetes.io/not-ready:NoSchedule"}},
		{"Ready Unknown", []func(*corev1.Node){withCondition(corev1.NodeReady, corev1.ConditionUnknown)}, nil,
			[]string{"node.kubernetes.io/unreachable:NoSchedule"}},
		{"MemoryPressure", []func(*corev1.Node){withCondition(corev1.NodeMemoryPressure, corev1.ConditionTrue)}, nil,
			[]string{"node.kubernetes.io/memory-pressure:NoSchedule"}},
		{"DiskPressure", []func(*corev1.Node){withCondition(corev1.NodeDiskPressure, corev1.ConditionTrue)}, nil,
			[]string{"node.kubernetes.io/disk-pressure:NoSchedule"}},
		{"PIDPressure", []func(*corev1.Node){withCondition(corev1.NodePIDPressure, corev1.ConditionTrue)}, nil,
			[]string{"node.kubernetes.io/pid-pressure:NoSchedule"}},
		{"NetworkUnavailable", []func(*corev1.Node){withCondition(corev1.NodeNetworkUnavailable, corev1.ConditionTrue)}, nil,
			[]string{"node.kubernetes.io/network-unavailable:NoSchedule"}},
		{"MemoryPressure Unknown is no taint", []func(*corev1.Node){withCondition(corev1.NodeMemoryPressure, corev1.ConditionUnknown)}, nil, nil},
		{"unschedulable", []func(*corev1.Node){func(n *corev1.Node) { n.Spec.Unschedulable = true }}, nil,
			[]string{"node.kubernetes.io/unschedulable:NoSchedule"}},
		{"several, others kept", []func(*corev1.Node){
			withCondition(corev1.NodeReady, corev1.ConditionFalse), withCondition(corev1.NodeMemoryPressure, corev1.ConditionTrue),
			func(n *corev1.Node) { n.Spec.Unschedulable = true },
		}, others, []string{
			"dedicated=gpu:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/not-ready:NoExecute",
			"node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unschedulable:NoSchedule",
			"spot:PreferNoSchedule",
		}},
		{"cleared: removed, others kept", nil, append([]corev1.Taint{
			{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule},
		}, others...), []string{
			"dedicated=gpu:NoSchedule", "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute", "spot:PreferNoSchedule",
		}},
		{"Ready flips Unknown to False: swapped", []func(*corev1.Node){withCondition(corev1.NodeReady, corev1.ConditionFalse)},
			[]corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}},
			[]string{"node.kubernetes.io/not-ready:NoSchedule"}},
		{"already right: nothing", []func(*corev1.Node){withCondition(corev1.NodeReady, corev1.ConditionFalse)},
			append([]corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}, others...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			n := readyNode("n1", "a", h.at(0))
			for _, m := range tc.mutate {
				m(n)
			}
			n.Spec.Taints = tc.taints
			h.addNode(n)
			before := len(h.client.Actions())
			out, err := ReconcileNoSchedule(t.Context(), h.client, h.node("n1"))
			if err != nil {
				t.Fatal(err)
			}
			patches := 0
			for _, a := range h.client.Actions()[before:] {
				if a.GetVerb() == "patch" {
					patches++
				}
			}
			if tc.want == nil {
				if out != nil || patches != 0 {
					t.Fatalf("wrote %v (%d patches), want no write", out, patches)
				}
				return
			}
			if out == nil || patches != 1 {
				t.Fatalf("no write (%d patches), want %v", patches, tc.want)
			}
			wantStrings(t, "returned taints", taintStrings(out.Spec.Taints), tc.want)
			fromAPI, err := h.client.CoreV1().Nodes().Get(t.Context(), "n1", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantStrings(t, "API taints", taintStrings(fromAPI.Spec.Taints), tc.want)
			if fmt.Sprint(fromAPI.Status.Conditions) != fmt.Sprint(n.Status.Conditions) {
				t.Error("status changed by a taint patch")
			}
		})
	}
}

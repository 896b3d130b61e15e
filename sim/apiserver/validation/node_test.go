package validation

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validNode() *corev1.Node {
	resources := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
		"example.com/gpu":     resource.MustParse("2"),
		"hugepages-2Mi":       resource.MustParse("0"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "node-1",
			ResourceVersion: "7",
			Labels:          map[string]string{"kubernetes.io/hostname": "node-1"},
			Annotations:     map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
		},
		Spec: corev1.NodeSpec{
			PodCIDR:    "10.244.1.0/24",
			PodCIDRs:   []string{"10.244.1.0/24", "fd00:10:244:1::/64"},
			ProviderID: "nodesim://node-1",
			Taints: []corev1.Taint{
				{Key: "example.com/dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule},
				{Key: "example.com/dedicated", Value: "infra", Effect: corev1.TaintEffectNoExecute},
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    resources,
			Allocatable: resources.DeepCopy(),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: "10.0.0.1"},
				{Type: corev1.NodeHostName, Address: "node-1"},
			},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func TestValidateNode(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Node)
		want   []want
	}{
		{name: "valid", mutate: func(*corev1.Node) {}},
		{name: "minimal", mutate: func(n *corev1.Node) { *n = corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}} }},
		{name: "name missing", mutate: func(n *corev1.Node) { n.Name = "" },
			want: []want{required("metadata.name")}},
		{name: "name not a DNS subdomain", mutate: func(n *corev1.Node) { n.Name = "Node_1" },
			want: []want{invalid("metadata.name")}},
		{name: "name may contain dots", mutate: func(n *corev1.Node) { n.Name = "node-1.sim.example.com" }},
		{name: "namespace set on cluster-scoped object", mutate: func(n *corev1.Node) { n.Namespace = "default" },
			want: []want{forbidden("metadata.namespace")}},
		{name: "invalid label key", mutate: func(n *corev1.Node) { n.Labels["bad key"] = "v" },
			want: []want{invalid("metadata.labels")}},
		{name: "invalid label value", mutate: func(n *corev1.Node) { n.Labels["k"] = "bad value" },
			want: []want{invalid("metadata.labels")}},
		{name: "invalid annotation key", mutate: func(n *corev1.Node) { n.Annotations["bad key"] = "v" },
			want: []want{invalid("metadata.annotations")}},
		{name: "unprefixed non-standard finalizer", mutate: func(n *corev1.Node) { n.Finalizers = []string{"kubernetes", "mine"} },
			want: []want{invalid("metadata.finalizers[1]").withDetail("neither a standard finalizer name nor is it fully qualified")}},
		{name: "taint key not a qualified name", mutate: func(n *corev1.Node) { n.Spec.Taints[0].Key = "bad key" },
			want: []want{invalid("metadata.taints[0].key")}},
		{name: "taint key empty", mutate: func(n *corev1.Node) { n.Spec.Taints[0].Key = "" },
			want: []want{invalid("metadata.taints[0].key").withDetail("must be non-empty"), invalid("metadata.taints[0].key").withDetail("regex")}},
		{name: "taint value not a label value", mutate: func(n *corev1.Node) { n.Spec.Taints[1].Value = "bad value" },
			want: []want{invalid("metadata.taints[1].value")}},
		{name: "taint effect missing", mutate: func(n *corev1.Node) { n.Spec.Taints[0].Effect = "" },
			want: []want{required("metadata.taints[0].effect")}},
		{name: "taint effect unknown", mutate: func(n *corev1.Node) { n.Spec.Taints[0].Effect = "NoAdmit" },
			want: []want{notSupported("metadata.taints[0].effect")}},
		{name: "duplicate taint key and effect", mutate: func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "example.com/dedicated", Value: "other", Effect: corev1.TaintEffectNoSchedule})
		}, want: []want{duplicate("metadata.taints[2]").withDetail("taints must be unique by key and effect pair")}},
		{name: "podCIDRs entry not a CIDR", mutate: func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "", []string{"10.244.1.0"} },
			want: []want{invalid("spec.podCIDRs[0]")}},
		{name: "podCIDRs entry with leading zeros", mutate: func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "", []string{"010.244.1.0/24"} },
			want: []want{invalid("spec.podCIDRs[0]")}},
		{name: "lone podCIDR not a CIDR", mutate: func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.244.1.0/99", nil },
			want: []want{invalid("spec.podCIDRs[0]")}},
		{name: "podCIDR that disagrees with podCIDRs wins", mutate: func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"not-a-cidr"} }},
		{name: "two IPv4 podCIDRs", mutate: func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.1.0/24", "10.245.1.0/24"} },
			want: []want{invalid("spec.podCIDRs").withDetail("may specify no more than one CIDR for each IP family")}},
		{name: "invalid second podCIDR is not also a family error", mutate: func(n *corev1.Node) { n.Spec.PodCIDRs[1] = "fd00::/129" },
			want: []want{invalid("spec.podCIDRs[1]")}},
		{name: "three podCIDRs", mutate: func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "fd00:10:245:1::/64") },
			want: []want{invalid("spec.podCIDRs")}},
		{name: "negative capacity", mutate: func(n *corev1.Node) { n.Status.Capacity[corev1.ResourceMemory] = resource.MustParse("-1Gi") },
			want: []want{invalid("status.capacity.memory").withDetail("must be greater than or equal to 0")}},
		{name: "negative allocatable", mutate: func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("-100m") },
			want: []want{invalid("status.allocatable.cpu")}},
		{name: "fractional pods", mutate: func(n *corev1.Node) { n.Status.Capacity[corev1.ResourcePods] = resource.MustParse("1500m") },
			want: []want{invalid("status.capacity.pods").withDetail("must be an integer")}},
		{name: "fractional extended resource", mutate: func(n *corev1.Node) { n.Status.Allocatable["example.com/gpu"] = resource.MustParse("0.5") },
			want: []want{invalid("status.allocatable.example.com/gpu").withDetail("must be an integer")}},
		{name: "fractional cpu is fine", mutate: func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("3500m") }},
		{name: "resource name not a qualified name", mutate: func(n *corev1.Node) { n.Status.Capacity["bad name"] = resource.MustParse("1") },
			want: []want{invalid("status.capacity.bad name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := validNode()
			tt.mutate(node)
			expectErrors(t, ValidateNode(node), tt.want...)
		})
	}
}

func TestValidateNodeUpdate(t *testing.T) {
	deleting := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tests := []struct {
		name   string
		old    func(*corev1.Node)
		mutate func(*corev1.Node)
		want   []want
	}{
		{name: "unchanged", mutate: func(*corev1.Node) {}},
		{name: "labels, taints, unschedulable and status may change", mutate: func(n *corev1.Node) {
			n.Labels["role"] = "worker"
			n.Spec.Taints = n.Spec.Taints[:1]
			n.Spec.Unschedulable = true
			n.Status.Capacity[corev1.ResourceCPU] = resource.MustParse("8")
		}},
		{name: "resourceVersion missing", mutate: func(n *corev1.Node) { n.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
		{name: "name changed", mutate: func(n *corev1.Node) { n.Name = "node-2" },
			want: []want{invalid("metadata.name").withDetail("field is immutable")}},
		{name: "uid changed", old: func(n *corev1.Node) { n.UID = "a" }, mutate: func(n *corev1.Node) { n.UID = "b" },
			want: []want{invalid("metadata.uid")}},
		{name: "finalizer added while deleting", old: func(n *corev1.Node) { n.DeletionTimestamp = &deleting },
			mutate: func(n *corev1.Node) { n.Finalizers = []string{"example.com/keep"} },
			want:   []want{forbidden("metadata.finalizers")}},
		{name: "invalid finalizer", mutate: func(n *corev1.Node) { n.Finalizers = []string{"mine"} },
			want: []want{invalid("metadata.finalizers[0]")}},
		{name: "invalid taint", mutate: func(n *corev1.Node) { n.Spec.Taints[0].Effect = "" },
			want: []want{required("metadata.taints[0].effect")}},
		{name: "invalid capacity", mutate: func(n *corev1.Node) { n.Status.Capacity[corev1.ResourcePods] = resource.MustParse("-1") },
			want: []want{invalid("status.capacity.pods")}},
		{name: "podCIDRs assigned to a node without any", old: func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "", nil }},
		{name: "podCIDR changed", mutate: func(n *corev1.Node) {
			n.Spec.PodCIDR, n.Spec.PodCIDRs = "", []string{"10.244.2.0/24", "fd00:10:244:1::/64"}
		},
			want: []want{forbidden("spec.podCIDRs").withDetail(`node updates may not change podCIDR except from "" to valid`)}},
		{name: "singular podCIDR changed", mutate: func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.9.0/24" },
			want: []want{forbidden("spec.podCIDRs")}},
		{name: "podCIDRs removed", mutate: func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "", nil },
			want: []want{forbidden("spec.podCIDRs")}},
		{name: "second podCIDR added", old: func(n *corev1.Node) { n.Spec.PodCIDRs = n.Spec.PodCIDRs[:1] },
			mutate: func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "fd00:10:244:1::/64") },
			want:   []want{forbidden("spec.podCIDRs")}},
		{name: "providerID set on a node without one", old: func(n *corev1.Node) { n.Spec.ProviderID = "" }},
		{name: "providerID changed", mutate: func(n *corev1.Node) { n.Spec.ProviderID = "nodesim://other" },
			want: []want{invalid("spec.providerID").withDetail("field cannot be modified once set")}},
		{name: "providerID cleared", mutate: func(n *corev1.Node) { n.Spec.ProviderID = "" },
			want: []want{invalid("spec.providerID").withDetail("field cannot be cleared once set")}},
		{name: "externalID changed", mutate: func(n *corev1.Node) { n.Spec.DoNotUseExternalID = "x" },
			want: []want{forbidden("spec.externalID")}},
		{name: "duplicate address", mutate: func(n *corev1.Node) {
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"})
		}, want: []want{duplicate("status.addresses[2]")}},
		{name: "same address with another type", mutate: func(n *corev1.Node) {
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "10.0.0.1"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validNode()
			if tt.old != nil {
				tt.old(old)
			}
			node := old.DeepCopy()
			if tt.mutate != nil {
				tt.mutate(node)
			}
			expectErrors(t, ValidateNodeUpdate(node, old), tt.want...)
		})
	}
}

package validation

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validNamespace() *corev1.Namespace {
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "team-a",
			ResourceVersion: "5",
			Labels:          map[string]string{"kubernetes.io/metadata.name": "team-a"},
		},
		Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

func TestValidateNamespace(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Namespace)
		want   []want
	}{
		{name: "valid", mutate: func(*corev1.Namespace) {}},
		{name: "name missing", mutate: func(ns *corev1.Namespace) { ns.Name = "" },
			want: []want{required("metadata.name")}},
		{name: "name not a DNS label", mutate: func(ns *corev1.Namespace) { ns.Name = "team.a" },
			want: []want{invalid("metadata.name")}},
		{name: "name with capitals", mutate: func(ns *corev1.Namespace) { ns.Name = "Team-A" },
			want: []want{invalid("metadata.name")}},
		{name: "generateName not a DNS label", mutate: func(ns *corev1.Namespace) { ns.GenerateName = "team_" },
			want: []want{invalid("metadata.generateName")}},
		{name: "namespace set on cluster-scoped object", mutate: func(ns *corev1.Namespace) { ns.Namespace = "default" },
			want: []want{forbidden("metadata.namespace")}},
		{name: "invalid label", mutate: func(ns *corev1.Namespace) { ns.Labels["team"] = "a/b" },
			want: []want{invalid("metadata.labels")}},
		{name: "prefixed spec finalizer", mutate: func(ns *corev1.Namespace) {
			ns.Spec.Finalizers = append(ns.Spec.Finalizers, "example.com/cleanup")
		}},
		{name: "unprefixed non-standard spec finalizer", mutate: func(ns *corev1.Namespace) { ns.Spec.Finalizers = []corev1.FinalizerName{"cleanup"} },
			want: []want{invalid("spec.finalizers").withDetail("name is neither a standard finalizer name nor is it fully qualified")}},
		{name: "spec finalizer not a qualified name", mutate: func(ns *corev1.Namespace) { ns.Spec.Finalizers = []corev1.FinalizerName{"example.com/bad name"} },
			want: []want{invalid("spec.finalizers")}},
		{name: "unprefixed non-standard metadata finalizer", mutate: func(ns *corev1.Namespace) { ns.Finalizers = []string{"cleanup"} },
			want: []want{invalid("metadata.finalizers[0]")}},
		{name: "orphan and foreground finalizers together", mutate: func(ns *corev1.Namespace) {
			ns.Finalizers = []string{metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents}
		}, want: []want{invalid("metadata.finalizers").withDetail("cannot be both set")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := validNamespace()
			tt.mutate(ns)
			expectErrors(t, ValidateNamespace(ns), tt.want...)
		})
	}
}

func TestValidateNamespaceUpdate(t *testing.T) {
	deleting := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tests := []struct {
		name   string
		old    func(*corev1.Namespace)
		mutate func(*corev1.Namespace)
		want   []want
	}{
		{name: "labels and annotations may change", mutate: func(ns *corev1.Namespace) {
			ns.Labels["team"] = "a"
			ns.Annotations = map[string]string{"example.com/owner": "me"}
		}},
		{name: "resourceVersion missing", mutate: func(ns *corev1.Namespace) { ns.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
		{name: "name changed", mutate: func(ns *corev1.Namespace) { ns.Name = "team-b" },
			want: []want{invalid("metadata.name")}},
		{name: "generation decremented", old: func(ns *corev1.Namespace) { ns.Generation = 3 },
			mutate: func(ns *corev1.Namespace) { ns.Generation = 2 },
			want:   []want{invalid("metadata.generation").withDetail("must not be decremented")}},
		{name: "finalizer removed while deleting", old: func(ns *corev1.Namespace) {
			ns.DeletionTimestamp = &deleting
			ns.Finalizers = []string{"example.com/a"}
		}, mutate: func(ns *corev1.Namespace) { ns.Finalizers = nil }},
		{name: "finalizer added while deleting", old: func(ns *corev1.Namespace) { ns.DeletionTimestamp = &deleting },
			mutate: func(ns *corev1.Namespace) { ns.Finalizers = []string{"example.com/a"} },
			want:   []want{forbidden("metadata.finalizers")}},
		{name: "invalid metadata finalizer", mutate: func(ns *corev1.Namespace) { ns.Finalizers = []string{"bad name"} },
			want: []want{
				invalid("metadata.finalizers"),
				invalid("metadata.finalizers[0]"),
			}},
		{name: "invalid spec finalizer", mutate: func(ns *corev1.Namespace) { ns.Spec.Finalizers = []corev1.FinalizerName{"cleanup"} },
			want: []want{invalid("spec.finalizers")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validNamespace()
			if tt.old != nil {
				tt.old(old)
			}
			ns := old.DeepCopy()
			tt.mutate(ns)
			expectErrors(t, ValidateNamespaceUpdate(ns, old), tt.want...)
		})
	}
}

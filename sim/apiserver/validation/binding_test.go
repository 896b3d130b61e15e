package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidateBinding(t *testing.T) {
	tests := []struct {
		name   string
		target corev1.ObjectReference
		want   []want
	}{
		{name: "node", target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}},
		{name: "empty kind means node", target: corev1.ObjectReference{Name: "node-1.sim.local"}},
		{name: "name missing", target: corev1.ObjectReference{Kind: "Node"},
			want: []want{required("target.name")}},
		{name: "name not a DNS subdomain", target: corev1.ObjectReference{Name: "Node_1"},
			want: []want{invalid("target.name")}},
		{name: "kind not node", target: corev1.ObjectReference{Kind: "Pod", Name: "Web_0"},
			want: []want{notSupported("target.kind").withDetail(`supported values: "Node", "<empty>"`)}},
		{name: "kind not node, name missing", target: corev1.ObjectReference{Kind: "Pod"},
			want: []want{notSupported("target.kind"), required("target.name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			binding := &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default"},
				Target:     tt.target,
			}
			expectErrors(t, ValidateBinding(binding), tt.want...)
		})
	}
}

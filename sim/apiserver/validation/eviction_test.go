package validation

import (
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestValidateEviction(t *testing.T) {
	tests := []struct {
		name    string
		evName  string
		options *metav1.DeleteOptions
		want    []want
	}{
		{name: "valid", evName: "web-0"},
		{name: "with delete options", evName: "web-0", options: &metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			IgnoreStoreReadErrorWithClusterBreakingPotential: ptr.To(false),
		}},
		{name: "name missing", want: []want{required("metadata.name")}},
		{name: "ignoring store read errors", evName: "web-0",
			options: &metav1.DeleteOptions{IgnoreStoreReadErrorWithClusterBreakingPotential: ptr.To(true)},
			want:    []want{invalid("deleteOptions.ignoreStoreReadErrorWithClusterBreakingPotential").withDetail("can not be set for pod eviction")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &policyv1.Eviction{
				ObjectMeta:    metav1.ObjectMeta{Name: tt.evName, Namespace: "default"},
				DeleteOptions: tt.options,
			}
			expectErrors(t, ValidateEviction(ev), tt.want...)
		})
	}
}

package validation

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validLease() *coordinationv1.Lease {
	renew := metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease", ResourceVersion: "9"},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To("node-1"),
			LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime:            &renew,
			LeaseTransitions:     ptr.To[int32](0),
		},
	}
}

func TestValidateLease(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*coordinationv1.Lease)
		want   []want
	}{
		{name: "valid", mutate: func(*coordinationv1.Lease) {}},
		{name: "empty spec", mutate: func(l *coordinationv1.Lease) { l.Spec = coordinationv1.LeaseSpec{} }},
		{name: "any holderIdentity", mutate: func(l *coordinationv1.Lease) { l.Spec.HolderIdentity = ptr.To("Node_1 (pid 42)") }},
		{name: "namespace missing", mutate: func(l *coordinationv1.Lease) { l.Namespace = "" },
			want: []want{required("metadata.namespace")}},
		{name: "name not a DNS subdomain", mutate: func(l *coordinationv1.Lease) { l.Name = "Node_1" },
			want: []want{invalid("metadata.name")}},
		{name: "zero leaseDurationSeconds", mutate: func(l *coordinationv1.Lease) { l.Spec.LeaseDurationSeconds = ptr.To[int32](0) },
			want: []want{invalid("spec.leaseDurationSeconds").withDetail("must be greater than 0")}},
		{name: "negative leaseDurationSeconds", mutate: func(l *coordinationv1.Lease) { l.Spec.LeaseDurationSeconds = ptr.To[int32](-10) },
			want: []want{invalid("spec.leaseDurationSeconds")}},
		{name: "negative leaseTransitions", mutate: func(l *coordinationv1.Lease) { l.Spec.LeaseTransitions = ptr.To[int32](-1) },
			want: []want{invalid("spec.leaseTransitions").withDetail("must be greater than or equal to 0")}},
		{name: "known strategy with preferredHolder", mutate: func(l *coordinationv1.Lease) {
			l.Spec.Strategy = ptr.To(coordinationv1.OldestEmulationVersion)
			l.Spec.PreferredHolder = ptr.To("node-2")
		}},
		{name: "custom prefixed strategy", mutate: func(l *coordinationv1.Lease) {
			l.Spec.Strategy = ptr.To(coordinationv1.CoordinatedLeaseStrategy("example.com/newest"))
		}},
		{name: "unknown unprefixed strategy", mutate: func(l *coordinationv1.Lease) {
			l.Spec.Strategy = ptr.To(coordinationv1.CoordinatedLeaseStrategy("Newest"))
		}, want: []want{notSupported("spec.strategy.strategy")}},
		{name: "empty strategy", mutate: func(l *coordinationv1.Lease) {
			l.Spec.Strategy = ptr.To(coordinationv1.CoordinatedLeaseStrategy(""))
		}, want: []want{notSupported("spec.strategy.strategy")}},
		{name: "prefixed strategy not a qualified name", mutate: func(l *coordinationv1.Lease) {
			l.Spec.Strategy = ptr.To(coordinationv1.CoordinatedLeaseStrategy("example.com/bad name"))
		}, want: []want{invalid("spec.strategy.strategy")}},
		{name: "preferredHolder without strategy", mutate: func(l *coordinationv1.Lease) { l.Spec.PreferredHolder = ptr.To("node-2") },
			want: []want{forbidden("spec.preferredHolder").withDetail("may only be specified if `strategy` is defined")}},
		{name: "empty preferredHolder without strategy", mutate: func(l *coordinationv1.Lease) { l.Spec.PreferredHolder = ptr.To("") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lease := validLease()
			tt.mutate(lease)
			expectErrors(t, ValidateLease(lease), tt.want...)
		})
	}
}

func TestValidateLeaseUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*coordinationv1.Lease)
		want   []want
	}{
		{name: "renewal", mutate: func(l *coordinationv1.Lease) {
			renew := metav1.NewMicroTime(l.Spec.RenewTime.Add(10 * time.Second))
			l.Spec.RenewTime = &renew
		}},
		{name: "holder change", mutate: func(l *coordinationv1.Lease) {
			l.Spec.HolderIdentity = ptr.To("node-2")
			l.Spec.LeaseTransitions = ptr.To[int32](1)
		}},
		{name: "resourceVersion missing", mutate: func(l *coordinationv1.Lease) { l.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
		{name: "namespace changed", mutate: func(l *coordinationv1.Lease) { l.Namespace = "default" },
			want: []want{invalid("metadata.namespace")}},
		{name: "invalid spec", mutate: func(l *coordinationv1.Lease) { l.Spec.LeaseDurationSeconds = ptr.To[int32](0) },
			want: []want{invalid("spec.leaseDurationSeconds")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validLease()
			lease := old.DeepCopy()
			tt.mutate(lease)
			expectErrors(t, ValidateLeaseUpdate(lease, old), tt.want...)
		})
	}
}

package printers

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
)

// LeaseTable prints *coordinationv1.Lease and *coordinationv1.LeaseList the
// way `kubectl get leases` shows them: NAME, HOLDER, AGE.
func LeaseTable(c clock.PassiveClock) rest.TableConvertor {
	return &table[coordinationv1.Lease, coordinationv1.LeaseList]{
		kind:  "Lease",
		clock: c,
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			{Name: "Holder", Type: "string", Description: coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]},
			ageColumn(),
		},
		row:   leaseRow,
		items: func(l *coordinationv1.LeaseList) []coordinationv1.Lease { return l.Items },
	}
}

func leaseRow(l *coordinationv1.Lease, a ages) metav1.TableRow {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return metav1.TableRow{
		Object: runtime.RawExtension{Object: l},
		Cells:  []interface{}{l.Name, holder, a.since(l.CreationTimestamp)},
	}
}

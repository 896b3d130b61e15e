package printers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
)

// NamespaceTable prints *corev1.Namespace and *corev1.NamespaceList the way
// `kubectl get namespaces` shows them: NAME, STATUS, AGE.
func NamespaceTable(c clock.PassiveClock) rest.TableConvertor {
	return &table[corev1.Namespace, corev1.NamespaceList]{
		kind:  "Namespace",
		clock: c,
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			{Name: "Status", Type: "string", Description: "The status of the namespace"},
			ageColumn(),
		},
		row:   namespaceRow,
		items: func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items },
	}
}

func namespaceRow(ns *corev1.Namespace, a ages) metav1.TableRow {
	return metav1.TableRow{
		Object: runtime.RawExtension{Object: ns},
		Cells:  []interface{}{ns.Name, string(ns.Status.Phase), a.since(ns.CreationTimestamp)},
	}
}

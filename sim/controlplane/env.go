package controlplane

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	coordinationv1listers "k8s.io/client-go/listers/coordination/v1"
	corev1listers "k8s.io/client-go/listers/core/v1"

	"github.com/nodesim/nodesim/sim"
)

// Env is what the controllers share: the API, its informers' listers, the
// engine and a way to report writes.
type Env struct {
	Client kubernetes.Interface
	Nodes  corev1listers.NodeLister
	Leases coordinationv1listers.LeaseLister
	Pods   corev1listers.PodLister
	// PodsOnNode lists the pods bound to a node (the pod informer indexed
	// by spec.nodeName).
	PodsOnNode func(node string) []*corev1.Pod
	Engine     *sim.Engine
	// Wrote reports an object a controller wrote, and Gone one it deleted,
	// so that the informers can be waited on before the next barrier.
	Wrote func(resource string, obj metav1.Object)
	Gone  func(resource, namespace, name string)
}

func (e *Env) ctx() context.Context { return context.Background() }

func (e *Env) now() time.Time { return e.Engine.Now() }

func (e *Env) wrote(resource string, obj metav1.Object) {
	if e.Wrote != nil && obj != nil {
		e.Wrote(resource, obj)
	}
}

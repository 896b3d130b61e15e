package registry

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/tools/cache"

	"github.com/nodesim/nodesim/sim/apiserver/printers"
	"github.com/nodesim/nodesim/sim/apiserver/validation"
)

// PodStorage is the storage of pods and their subresources.
type PodStorage struct {
	Pod      *Store
	Status   *StatusREST
	Binding  *BindingREST
	Eviction *EvictionREST
}

// podStrategy: a new pod starts Pending with its QoS class; spec writes
// bump the generation; status belongs to pods/status.
type podStrategy struct {
	base
	resetStatus
}

func (podStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pod := obj.(*corev1.Pod)
	pod.Generation = 1
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOS(pod)}
}

func (podStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newPod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	newPod.Status = oldPod.Status
	if !apiequality.Semantic.DeepEqual(newPod.Spec, oldPod.Spec) {
		newPod.Generation = oldPod.Generation + 1
	}
}

func (podStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidatePod(obj.(*corev1.Pod))
}

func (podStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidatePodUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
}

// CheckGracefulDelete gives a running pod its termination grace period (the
// kubelet then finishes the delete); an unscheduled or finished pod goes at
// once.
func (podStrategy) CheckGracefulDelete(_ context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	pod := obj.(*corev1.Pod)
	var period int64
	switch {
	case options.GracePeriodSeconds != nil:
		period = *options.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	options.GracePeriodSeconds = &period
	return true
}

// podStatusStrategy: pods/status writes change the status only (the kubelet
// may not move a pod or drop its deletion).
type podStatusStrategy struct {
	podStrategy
	resetSpec
}

func (podStatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newPod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	newPod.Spec = oldPod.Spec
	newPod.DeletionTimestamp = nil
	newPod.OwnerReferences = oldPod.OwnerReferences
	if newPod.Status.QOSClass == "" {
		newPod.Status.QOSClass = oldPod.Status.QOSClass
	}
}

func (podStatusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidatePodStatusUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
}

func podNodeName(obj runtime.Object) string { return obj.(*corev1.Pod).Spec.NodeName }

// podIndexers index the watch cache by spec.nodeName, so that a kubelet's
// list and watch of its own pods does not scan every pod.
func podIndexers() *cache.Indexers {
	return &cache.Indexers{
		storage.FieldIndex("spec.nodeName"): func(obj interface{}) ([]string, error) {
			pod, ok := obj.(*corev1.Pod)
			if !ok {
				return nil, fmt.Errorf("not a pod: %T", obj)
			}
			return []string{pod.Spec.NodeName}, nil
		},
	}
}

// NewPodStorage builds the pod storage and its subresources.
func NewPodStorage(o Options) (*PodStorage, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := podStrategy{base: newBase(o.Scheme, true)}
	store, err := newStore(o, resource{
		kind:        "pod",
		newFunc:     func() runtime.Object { return &corev1.Pod{} },
		newListFunc: func() runtime.Object { return &corev1.PodList{} },
		plural:      corev1.Resource("pods"),
		singular:    corev1.Resource("pod"),
		shortNames:  []string{"po"},
		categories:  []string{"all"},
		strategy:    s,
		tables:      printers.PodTable(o.Clock),
		indexByNode: true,
	})
	if err != nil {
		return nil, err
	}
	return &PodStorage{
		Pod:      store,
		Status:   statusStore(store, podStatusStrategy{podStrategy: s}),
		Binding:  &BindingREST{store: store},
		Eviction: &EvictionREST{store: store},
	}, nil
}

// podQOS computes the pod's QoS class as the API server stamps it at
// creation: Guaranteed when every container sets equal cpu and memory
// requests and limits, BestEffort when none sets any, Burstable otherwise.
func podQOS(pod *corev1.Pod) corev1.PodQOSClass {
	containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	any, guaranteed := false, true
	for _, c := range containers {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[name]
			lim, hasLim := c.Resources.Limits[name]
			if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
				any = true
			}
			if !hasLim || lim.IsZero() || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

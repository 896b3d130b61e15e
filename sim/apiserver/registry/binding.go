package registry

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/nodesim/nodesim/sim/apiserver/validation"
)

// BindingREST serves pods/binding: what a scheduler posts to place a pod.
type BindingREST struct {
	store *Store
}

var _ rest.NamedCreater = &BindingREST{}

// New returns an empty Binding.
func (r *BindingREST) New() runtime.Object { return &corev1.Binding{} }

// Destroy does nothing: the pod store owns the storage.
func (r *BindingREST) Destroy() {}

// Create sets the pod's spec.nodeName once, with the binding's annotations
// and a PodScheduled=True condition, as kube-apiserver does.
func (r *BindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	binding, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding object: %T", obj))
	}
	if name != binding.Name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	if errs := validation.ValidateBinding(binding); len(errs) != 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), binding.Name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, binding.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	if err := r.assign(ctx, binding, len(options.DryRun) > 0); err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}

func (r *BindingREST) assign(ctx context.Context, binding *corev1.Binding, dryRun bool) error {
	key, err := r.store.KeyFunc(ctx, binding.Name)
	if err != nil {
		return err
	}
	var preconditions *storage.Preconditions
	if binding.UID != "" || binding.ResourceVersion != "" {
		preconditions = &storage.Preconditions{}
		if binding.UID != "" {
			uid := types.UID(binding.UID)
			preconditions.UID = &uid
		}
		if binding.ResourceVersion != "" {
			rv := binding.ResourceVersion
			preconditions.ResourceVersion = &rv
		}
	}
	err = r.store.Storage.GuaranteedUpdate(ctx, key, &corev1.Pod{}, false, preconditions,
		storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) {
			pod := obj.(*corev1.Pod)
			if pod.DeletionTimestamp != nil {
				return nil, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name)
			}
			if pod.Spec.NodeName != "" {
				return nil, fmt.Errorf("pod %v is already assigned to node %q", pod.Name, pod.Spec.NodeName)
			}
			if len(pod.Spec.SchedulingGates) != 0 {
				return nil, fmt.Errorf("pod %v has non-empty .spec.schedulingGates", pod.Name)
			}
			pod.Spec.NodeName = binding.Target.Name
			pod.Status.NominatedNodeName = ""
			if len(binding.Annotations) > 0 && pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			for k, v := range binding.Annotations {
				pod.Annotations[k] = v
			}
			setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
			return pod, nil
		}), dryRun, nil)
	if err == nil {
		return nil
	}
	if storage.IsNotFound(err) {
		return apierrors.NewNotFound(corev1.Resource("pods"), binding.Name)
	}
	if storage.IsConflict(err) {
		return apierrors.NewConflict(corev1.Resource("pods/binding"), binding.Name, err)
	}
	if _, ok := err.(*apierrors.StatusError); ok {
		return err
	}
	return apierrors.NewConflict(corev1.Resource("pods/binding"), binding.Name, err)
}

// setPodCondition adds or replaces a condition by type, moving its
// transition time only when the status changes (the probe time is left
// alone, as upstream does for PodScheduled).
func setPodCondition(status *corev1.PodStatus, c corev1.PodCondition) {
	now := metav1.Now()
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status != c.Status {
			c.LastTransitionTime = now
		} else {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	c.LastTransitionTime = now
	status.Conditions = append(status.Conditions, c)
}

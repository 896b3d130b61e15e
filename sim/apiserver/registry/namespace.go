package registry

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodesim/nodesim/sim/apiserver/printers"
	"github.com/nodesim/nodesim/sim/apiserver/validation"
)

// NamespaceStorage is the storage of namespaces and namespaces/status.
//
// nodesim runs no namespace controller: deleting a namespace removes the
// object at once and leaves what was in it (the `kubernetes` finalizer is
// shown, as kube-apiserver adds it, but not waited on).
type NamespaceStorage struct {
	Namespace *Store
	Status    *StatusREST
}

// namespaceStrategy: a namespace starts Active with the `kubernetes`
// finalizer and carries its name as the kubernetes.io/metadata.name label.
type namespaceStrategy struct {
	base
	resetStatus
}

func (namespaceStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return
		}
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
}

func (namespaceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newNS, oldNS := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	newNS.Spec.Finalizers = oldNS.Spec.Finalizers
	newNS.Status = oldNS.Status
}

// Canonicalize sets the name label once the name is known (generateName).
func (namespaceStrategy) Canonicalize(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func (namespaceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateNamespace(obj.(*corev1.Namespace))
}

func (namespaceStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateNamespaceUpdate(obj.(*corev1.Namespace), old.(*corev1.Namespace))
}

type namespaceStatusStrategy struct {
	namespaceStrategy
	resetSpec
}

func (namespaceStatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Namespace).Spec = old.(*corev1.Namespace).Spec
}

// NewNamespaceStorage builds the namespace storage.
func NewNamespaceStorage(o Options) (*NamespaceStorage, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := namespaceStrategy{base: newBase(o.Scheme, false)}
	store, err := newStore(o, resource{
		kind:        "namespace",
		newFunc:     func() runtime.Object { return &corev1.Namespace{} },
		newListFunc: func() runtime.Object { return &corev1.NamespaceList{} },
		plural:      corev1.Resource("namespaces"),
		singular:    corev1.Resource("namespace"),
		shortNames:  []string{"ns"},
		strategy:    s,
		tables:      printers.NamespaceTable(o.Clock),
	})
	if err != nil {
		return nil, err
	}
	return &NamespaceStorage{Namespace: store, Status: statusStore(store, namespaceStatusStrategy{namespaceStrategy: s})}, nil
}

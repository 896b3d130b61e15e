package defaults

import (
	corev1 "k8s.io/api/core/v1"
)

// DefaultNode fills in what kube-apiserver's v1 defaulting fills in for a
// Node: status.allocatable copied from status.capacity when unset, and both
// rounded up to milli precision. Nothing else about a node is defaulted (no
// phase, no conditions).
func DefaultNode(node *corev1.Node) {
	if node == nil {
		return
	}
	s := &node.Status
	if s.Allocatable == nil && s.Capacity != nil {
		// Upstream shares the capacity map here; a copy prints and
		// serializes the same and keeps later edits to one from
		// changing the other.
		s.Allocatable = s.Capacity.DeepCopy()
	}
	roundResources(s.Capacity)
	roundResources(s.Allocatable)
}

// DefaultNodeList defaults every node of the list.
func DefaultNodeList(list *corev1.NodeList) {
	if list == nil {
		return
	}
	for i := range list.Items {
		DefaultNode(&list.Items[i])
	}
}

// DefaultNamespace fills in what kube-apiserver's v1 defaulting fills in for
// a Namespace: the kubernetes.io/metadata.name label carrying its name (when
// it has one; a generateName-only namespace gets it later) and status.phase
// Active. The "kubernetes" finalizer is added by the namespace strategy on
// create, not by defaulting, so it is not added here.
func DefaultNamespace(ns *corev1.Namespace) {
	if ns == nil {
		return
	}
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// DefaultNamespaceList defaults every namespace of the list.
func DefaultNamespaceList(list *corev1.NamespaceList) {
	if list == nil {
		return
	}
	for i := range list.Items {
		DefaultNamespace(&list.Items[i])
	}
}

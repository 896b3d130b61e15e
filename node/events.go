package node

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// event records an Event about obj (a Pod or the Node) as the kubelet's
// event recorder does: source kubelet on this host, first and last seen
// now, named after the object and the time in hex (client-go's
// recorder), which on the virtual clock is the same on every run. A
// failed write is dropped, as the recorder drops it after its retries.
func (k *Kubelet) event(obj runtime.Object, eventType, reason, message string) {
	var ref corev1.ObjectReference
	switch o := obj.(type) {
	case *corev1.Pod:
		ref = corev1.ObjectReference{Kind: "Pod", Namespace: o.Namespace, Name: o.Name, UID: o.UID, APIVersion: "v1"}
	case *corev1.Node:
		// The kubelet's node reference carries the node's name as UID.
		ref = corev1.ObjectReference{Kind: "Node", Name: o.Name, UID: types.UID(o.Name), APIVersion: "v1"}
	default:
		return
	}
	now := k.en.Now()
	t := metav1.NewTime(now)
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	ev := &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()), Namespace: namespace},
		InvolvedObject:      ref,
		Reason:              reason,
		Message:             message,
		Type:                eventType,
		Source:              corev1.EventSource{Component: "kubelet", Host: k.cfg.Name},
		FirstTimestamp:      t,
		LastTimestamp:       t,
		Count:               1,
		ReportingController: "kubelet",
		ReportingInstance:   k.cfg.Name,
	}
	created, err := k.clients.Core.Events(namespace).Create(k.ctx(), ev, metav1.CreateOptions{})
	if err == nil {
		k.wrote("events", created)
	}
}

package node

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Reasons of the events the kubelet records about its own Node
// (k8s.io/kubernetes pkg/kubelet/events and pkg/kubelet/nodestatus).
const (
	EventStartingKubelet         = "Starting"
	EventNodeReady               = "NodeReady"
	EventNodeNotReady            = "NodeNotReady"
	EventNodeRebooted            = "Rebooted"
	EventNodeHasSufficientMemory = "NodeHasSufficientMemory"
	EventNodeHasInsufficientMem  = "NodeHasInsufficientMemory"
	EventNodeHasNoDiskPressure   = "NodeHasNoDiskPressure"
	EventNodeHasDiskPressure     = "NodeHasDiskPressure"
	EventNodeHasSufficientPID    = "NodeHasSufficientPID"
	EventNodeHasInsufficientPID  = "NodeHasInsufficientPID"
)

// eventLog is what the kubelet's event recorder remembers of an event it
// wrote (client-go's EventCorrelator cache): a repeat of the same event
// becomes a PATCH of its count instead of a new object.
type eventLog struct {
	name, namespace string
	count           int32
}

// nodeRef is the kubelet's reference to its Node for events. Since v1.37
// (kubernetes#138524) it carries the Node's UID once the kubelet has seen
// its Node in this boot; before that (the Starting event of a first boot)
// kind and name only.
func (k *Kubelet) nodeRef() corev1.ObjectReference {
	ref := corev1.ObjectReference{Kind: "Node", Name: k.cfg.Name, APIVersion: "v1"}
	if k.registered && k.node != nil {
		ref.UID = k.node.UID
	}
	return ref
}

// recordNodeStatusEvent is the kubelet's recordNodeStatusEvent: an event
// on the Node whose message says the node's new status.
func (k *Kubelet) recordNodeStatusEvent(eventType, reason string) {
	k.recordNodeEvent(eventType, reason, fmt.Sprintf("Node %s status is now: %s", k.cfg.Name, reason))
}

// recordNodeEvent is the kubelet's recordEvent: an event on the Node.
func (k *Kubelet) recordNodeEvent(eventType, reason, message string) {
	ref := k.nodeRef()
	k.recordEvent(ref, eventType, reason, message)
}

// event records an Event about obj (a Pod or the Node) as the kubelet's
// event recorder does.
func (k *Kubelet) event(obj runtime.Object, eventType, reason, message string) {
	switch o := obj.(type) {
	case *corev1.Pod:
		k.recordEvent(corev1.ObjectReference{Kind: "Pod", Namespace: o.Namespace, Name: o.Name, UID: o.UID, APIVersion: "v1"},
			eventType, reason, message)
	case *corev1.Node:
		k.recordNodeEvent(eventType, reason, message)
	}
}

// recordEvent writes an event as client-go's recorder does: source kubelet
// on this host, first and last seen now, named after the object and the
// time in hex (unique per kubelet: two events of one instant get
// consecutive nanoseconds, which on the virtual clock are the same on
// every run). The same event again (same object, type, reason and
// message) is a strategic-merge PATCH of the first one's count and
// lastTimestamp, as the recorder's correlator does. A failed write is
// dropped, as the recorder drops it after its retries.
func (k *Kubelet) recordEvent(ref corev1.ObjectReference, eventType, reason, message string) {
	if k.en == nil {
		return
	}
	now := k.en.Now()
	t := metav1.NewTime(now)
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	key := strings.Join([]string{"kubelet", k.cfg.Name, ref.Kind, ref.Namespace, ref.Name, ref.FieldPath,
		string(ref.UID), ref.APIVersion, eventType, reason, message}, "\x00")
	if k.eventLogs == nil {
		k.eventLogs = map[string]*eventLog{}
	}
	if last, ok := k.eventLogs[key]; ok {
		count := last.count + 1
		patch, err := json.Marshal(map[string]any{"count": count, "lastTimestamp": t, "message": message})
		if err != nil {
			return
		}
		patched, err := k.clients.Core.Events(last.namespace).Patch(k.ctx(), last.name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err == nil {
			last.count = count
			k.wrote("events", patched)
		}
		return
	}
	nano := now.UnixNano()
	if nano <= k.lastEventNano {
		nano = k.lastEventNano + 1
	}
	k.lastEventNano = nano
	ev := &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, nano), Namespace: namespace},
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
		k.eventLogs[key] = &eventLog{name: created.Name, namespace: namespace, count: 1}
		k.wrote("events", created)
	}
}

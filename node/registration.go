package node

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/sim"
)

// annotationControllerManagedAttachDetach is set by every kubelet that lets
// the attach/detach controller handle its volumes (the default).
const annotationControllerManagedAttachDetach = "volumes.kubernetes.io/controller-managed-attach-detach"

// AnnotationListenAddress is the address a virtual node's kubelet API
// listens at (its port is status.daemonEndpoints.kubeletEndpoint.Port)
// when that is not its InternalIP: the InternalIP is on the simulated node
// network, which the embedded API server reaches through its egress
// dialer; this address is on the host's loopback.
const AnnotationListenAddress = "nodesim.dev/kubelet-listen-address"

// defaultLabels are the labels the kubelet owns on its Node and reconciles
// when it finds its Node already registered.
var defaultLabels = []string{
	corev1.LabelHostname,
	corev1.LabelTopologyZone, corev1.LabelTopologyRegion,
	corev1.LabelFailureDomainBetaZone, corev1.LabelFailureDomainBetaRegion,
	corev1.LabelInstanceTypeStable, corev1.LabelInstanceType,
	corev1.LabelOSStable, corev1.LabelArchStable, corev1.LabelWindowsBuild,
	"beta.kubernetes.io/os", "beta.kubernetes.io/arch",
}

// registerWithAPIServer tries to register the node until it succeeds,
// sleeping 100 ms before the first try and doubling up to 7 s.
func (k *Kubelet) registerWithAPIServer(p *sim.Proc) {
	step := registrationFirstWait
	for {
		p.Sleep(step)
		step = min(2*step, registrationMaxWait)
		if k.tryRegisterWithAPIServer(p, k.initialNode(p.Now())) {
			k.registered = true
			return
		}
	}
}

// tryRegisterWithAPIServer creates the Node; if it exists already (a
// restarted kubelet), it reconciles the labels and annotations it owns.
func (k *Kubelet) tryRegisterWithAPIServer(p *sim.Proc, node *corev1.Node) bool {
	ctx := k.ctx()
	created, err := k.clients.Core.Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		k.setNode(created)
		k.en.Trace(sim.Record{Event: sim.EventNodeRegistered, Node: k.cfg.Name})
		if k.observer != nil {
			k.observer.NodeWritten(k.en, created)
		}
		return true
	}
	if !apierrors.IsAlreadyExists(err) {
		return false
	}
	existing, err := k.clients.Core.Nodes().Get(ctx, k.cfg.Name, metav1.GetOptions{})
	if err != nil || existing == nil {
		return false
	}
	original := existing.DeepCopy()
	requiresUpdate := reconcileCMADAnnotation(node, existing)
	requiresUpdate = updateDefaultLabels(node, existing) || requiresUpdate
	if !requiresUpdate {
		k.setNode(existing)
		return true
	}
	updated, err := k.patchStatus(original, existing)
	if err != nil {
		return false
	}
	k.setNode(updated)
	if k.observer != nil {
		k.observer.NodeWritten(k.en, updated)
	}
	return true
}

// initialNode is the Node the kubelet registers: its labels, taints and a
// full first status.
func (k *Kubelet) initialNode(now time.Time) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:      k.cfg.Name,
		corev1.LabelOSStable:      k.cfg.OperatingSystem,
		corev1.LabelArchStable:    k.cfg.Architecture,
		"beta.kubernetes.io/os":   k.cfg.OperatingSystem,
		"beta.kubernetes.io/arch": k.cfg.Architecture,
	}
	for key, value := range k.cfg.Labels {
		labels[key] = value
	}
	annotations := map[string]string{annotationControllerManagedAttachDetach: "true"}
	if k.cfg.ListenAddress != nil {
		annotations[AnnotationListenAddress] = k.cfg.ListenAddress.String()
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        k.cfg.Name,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: corev1.NodeSpec{Taints: append([]corev1.Taint(nil), k.cfg.RegisterWithTaints...)},
	}
	k.setNodeStatus(now, node)
	return node
}

// reconcileCMADAnnotation makes the existing node's attach/detach
// annotation match the kubelet's.
func reconcileCMADAnnotation(initial, existing *corev1.Node) bool {
	want, wantSet := initial.Annotations[annotationControllerManagedAttachDetach]
	have, haveSet := existing.Annotations[annotationControllerManagedAttachDetach]
	if want == have && wantSet == haveSet {
		return false
	}
	if existing.Annotations == nil {
		existing.Annotations = map[string]string{}
	}
	if wantSet {
		existing.Annotations[annotationControllerManagedAttachDetach] = want
	} else {
		delete(existing.Annotations, annotationControllerManagedAttachDetach)
	}
	return true
}

// updateDefaultLabels sets the kubelet-owned labels the initial node has on
// the existing one.
func updateDefaultLabels(initial, existing *corev1.Node) bool {
	needsUpdate := false
	if existing.Labels == nil {
		existing.Labels = map[string]string{}
	}
	for _, label := range defaultLabels {
		value, ok := initial.Labels[label]
		if !ok {
			continue
		}
		if existing.Labels[label] != value {
			existing.Labels[label] = value
			needsUpdate = true
		}
		if existing.Labels[label] == "" {
			delete(existing.Labels, label)
		}
	}
	return needsUpdate
}

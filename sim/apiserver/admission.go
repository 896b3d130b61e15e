package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
)

// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
// are kube-apiserver's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds.
const (
	DefaultNotReadyTolerationSeconds    int64 = 300
	DefaultUnreachableTolerationSeconds int64 = 300
)

// taintNodesByCondition is the TaintNodesByCondition admission plugin: a
// node is created with node.kubernetes.io/not-ready:NoSchedule, so nothing is
// scheduled on it before the node lifecycle controller has seen it Ready.
type taintNodesByCondition struct {
	*admission.Handler
}

func newTaintNodesByCondition() *taintNodesByCondition {
	return &taintNodesByCondition{Handler: admission.NewHandler(admission.Create)}
}

func (p *taintNodesByCondition) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != corev1.Resource("nodes") || a.GetSubresource() != "" {
		return nil
	}
	node, ok := a.GetObject().(*corev1.Node)
	if !ok {
		return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetObject()))
	}
	for _, t := range node.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady && t.Effect == corev1.TaintEffectNoSchedule {
			return nil
		}
	}
	node.Spec.Taints = append(node.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule})
	return nil
}

// defaultTolerationSeconds is the DefaultTolerationSeconds admission plugin:
// a pod that does not tolerate the not-ready and unreachable NoExecute taints
// itself gets tolerations for them, so taint eviction waits 300 s.
type defaultTolerationSeconds struct {
	*admission.Handler
	notReady, unreachable corev1.Toleration
}

func newDefaultTolerationSeconds(notReadySeconds, unreachableSeconds int64) *defaultTolerationSeconds {
	return &defaultTolerationSeconds{
		Handler: admission.NewHandler(admission.Create, admission.Update),
		notReady: corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &notReadySeconds},
		unreachable: corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &unreachableSeconds},
	}
}

func (p *defaultTolerationSeconds) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != corev1.Resource("pods") || a.GetSubresource() != "" {
		return nil
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("expected *v1.Pod but got %T", a.GetObject()))
	}
	if !tolerates(pod.Spec.Tolerations, corev1.TaintNodeNotReady) {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, *p.notReady.DeepCopy())
	}
	if !tolerates(pod.Spec.Tolerations, corev1.TaintNodeUnreachable) {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, *p.unreachable.DeepCopy())
	}
	return nil
}

// tolerates says whether some toleration already covers key:NoExecute (an
// empty key or effect matches any, as upstream counts it).
func tolerates(tolerations []corev1.Toleration, key string) bool {
	for _, t := range tolerations {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}

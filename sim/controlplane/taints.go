package controlplane

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
)

// The taints the node lifecycle controller manages.
var (
	notReadyNoExecute    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	unreachableNoExecute = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
)

// noScheduleTaints are the NoSchedule taints a node's conditions call for,
// as the lifecycle controller's TaintNodesByCondition pass computes them.
func noScheduleTaints(node *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	add := func(key string) {
		out = append(out, corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule})
	}
	for _, c := range node.Status.Conditions {
		switch {
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionFalse:
			add(corev1.TaintNodeNotReady)
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionUnknown:
			add(corev1.TaintNodeUnreachable)
		case c.Type == corev1.NodeMemoryPressure && c.Status == corev1.ConditionTrue:
			add(corev1.TaintNodeMemoryPressure)
		case c.Type == corev1.NodeDiskPressure && c.Status == corev1.ConditionTrue:
			add(corev1.TaintNodeDiskPressure)
		case c.Type == corev1.NodePIDPressure && c.Status == corev1.ConditionTrue:
			add(corev1.TaintNodePIDPressure)
		case c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue:
			add(corev1.TaintNodeNetworkUnavailable)
		}
	}
	if node.Spec.Unschedulable {
		add(corev1.TaintNodeUnschedulable)
	}
	return out
}

// conditionTaintKeys are the NoSchedule taint keys the controller owns.
var conditionTaintKeys = map[string]bool{
	corev1.TaintNodeNotReady: true, corev1.TaintNodeUnreachable: true, corev1.TaintNodeMemoryPressure: true,
	corev1.TaintNodeDiskPressure: true, corev1.TaintNodePIDPressure: true, corev1.TaintNodeNetworkUnavailable: true,
	corev1.TaintNodeUnschedulable: true,
}

// ReconcileNoSchedule makes the node's controller-owned NoSchedule taints
// match its conditions, as the lifecycle controller does on every node
// update. It returns the node written, or nil if nothing changed.
func ReconcileNoSchedule(ctx context.Context, client kubernetes.Interface, node *corev1.Node) (*corev1.Node, error) {
	return updateTaints(ctx, client, node, func(node *corev1.Node) []corev1.Taint {
		var keep []corev1.Taint
		for _, t := range node.Spec.Taints {
			if t.Effect == corev1.TaintEffectNoSchedule && conditionTaintKeys[t.Key] {
				continue
			}
			keep = append(keep, t)
		}
		return append(keep, noScheduleTaints(node)...)
	})
}

// swapTaints adds taint and removes the opposite ones (SwapNodeControllerTaint).
func swapTaints(ctx context.Context, client kubernetes.Interface, node *corev1.Node, add *corev1.Taint, remove ...corev1.Taint) (*corev1.Node, error) {
	return updateTaints(ctx, client, node, func(node *corev1.Node) []corev1.Taint {
		var desired []corev1.Taint
		for _, t := range node.Spec.Taints {
			drop := false
			for _, r := range remove {
				drop = drop || (t.Key == r.Key && t.Effect == r.Effect)
			}
			if add != nil && t.Key == add.Key && t.Effect == add.Effect {
				drop = true
			}
			if !drop {
				desired = append(desired, t)
			}
		}
		if add != nil {
			desired = append(desired, *add)
		}
		return desired
	})
}

// updateTaintRetries is how many times a taint write is tried (upstream's
// UpdateTaintBackoff steps).
const updateTaintRetries = 5

// updateTaints writes the taints desired says the node should have, unless
// it has them. A write that conflicts with another writer of the node
// (kube-controller-manager's ttl-controller annotates nodes) is tried again
// on the node read afresh, as upstream's AddOrUpdateTaintOnNode does. It
// returns the node written, or nil if nothing changed.
func updateTaints(ctx context.Context, client kubernetes.Interface, node *corev1.Node, desired func(*corev1.Node) []corev1.Taint) (*corev1.Node, error) {
	for try := 1; ; try++ {
		want := desired(node)
		if sameTaints(node.Spec.Taints, want) {
			return nil, nil
		}
		updated, err := patchTaints(ctx, client, node, want)
		if !apierrors.IsConflict(err) || try == updateTaintRetries {
			return updated, err
		}
		if node, err = client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{}); err != nil {
			return nil, err
		}
	}
}

func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, x := range taints {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

func sameTaints(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if !hasTaint(b, t) {
			return false
		}
	}
	return true
}

// patchTaints writes spec.taints as a strategic-merge patch guarded by the
// node's resourceVersion, as the controller's PatchNodeTaints does.
func patchTaints(ctx context.Context, client kubernetes.Interface, node *corev1.Node, taints []corev1.Taint) (*corev1.Node, error) {
	oldData, err := json.Marshal(map[string]any{"spec": map[string]any{"taints": node.Spec.Taints}})
	if err != nil {
		return nil, err
	}
	newData, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": node.ResourceVersion},
		"spec":     map[string]any{"taints": taints},
	})
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Node{})
	if err != nil {
		return nil, fmt.Errorf("taint patch for %s: %w", node.Name, err)
	}
	return client.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
}

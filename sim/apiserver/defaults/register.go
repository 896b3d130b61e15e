package defaults

import (
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// RegisterDefaults registers on scheme the defaulting functions
// kube-apiserver has for the types nodesim serves, so that scheme.Default
// applies them: Pod, Node and Namespace and their lists (a list defaults
// each item). core/v1 Event and coordination/v1 Lease have no defaults
// upstream, so nothing is registered for them.
func RegisterDefaults(scheme *runtime.Scheme) error {
	if scheme == nil {
		return errors.New("defaults: nil scheme")
	}
	scheme.AddTypeDefaultingFunc(&corev1.Pod{}, func(obj interface{}) { DefaultPod(obj.(*corev1.Pod)) })
	scheme.AddTypeDefaultingFunc(&corev1.PodList{}, func(obj interface{}) { DefaultPodList(obj.(*corev1.PodList)) })
	scheme.AddTypeDefaultingFunc(&corev1.Node{}, func(obj interface{}) { DefaultNode(obj.(*corev1.Node)) })
	scheme.AddTypeDefaultingFunc(&corev1.NodeList{}, func(obj interface{}) { DefaultNodeList(obj.(*corev1.NodeList)) })
	scheme.AddTypeDefaultingFunc(&corev1.Namespace{}, func(obj interface{}) { DefaultNamespace(obj.(*corev1.Namespace)) })
	scheme.AddTypeDefaultingFunc(&corev1.NamespaceList{}, func(obj interface{}) { DefaultNamespaceList(obj.(*corev1.NamespaceList)) })
	return nil
}

package apiserver

import (
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/nodesim/nodesim/sim/apiserver/defaults"
	"github.com/nodesim/nodesim/sim/apiserver/registry"
)

// newScheme builds the scheme the embedded server serves.
//
// kube-apiserver keeps hand-written internal types and converts to and from
// the versioned ones. nodesim serves one version per group, so the versioned
// k8s.io/api types are registered a second time as the group's internal
// version: the scheme then finds the target kind among the object's own kinds
// and "converts" without copying (runtime.Scheme.convertToVersion).
func newScheme() (*runtime.Scheme, serializer.CodecFactory, error) {
	scheme := runtime.NewScheme()
	builders := []func(*runtime.Scheme) error{
		corev1.AddToScheme,
		coordinationv1.AddToScheme,
		policyv1.AddToScheme,
		defaults.RegisterDefaults,
		registry.AddFieldLabelConversions,
	}
	for _, add := range builders {
		if err := add(scheme); err != nil {
			return nil, serializer.CodecFactory{}, fmt.Errorf("build scheme: %w", err)
		}
	}
	internal := map[schema.GroupVersion][]runtime.Object{
		{Group: corev1.GroupName, Version: runtime.APIVersionInternal}: {
			&corev1.Node{}, &corev1.NodeList{},
			&corev1.Pod{}, &corev1.PodList{}, &corev1.Binding{},
			&corev1.Namespace{}, &corev1.NamespaceList{},
			&corev1.Event{}, &corev1.EventList{},
			&corev1.NodeProxyOptions{}, &corev1.PodLogOptions{}, &corev1.PodProxyOptions{},
		},
		{Group: coordinationv1.GroupName, Version: runtime.APIVersionInternal}: {
			&coordinationv1.Lease{}, &coordinationv1.LeaseList{},
		},
		{Group: policyv1.GroupName, Version: runtime.APIVersionInternal}: {
			&policyv1.Eviction{},
		},
	}
	for gv, types := range internal {
		scheme.AddKnownTypes(gv, types...)
	}
	// The unversioned meta types every API server answers with.
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{},
		&metav1.APIGroup{}, &metav1.APIResourceList{})
	if err := scheme.SetVersionPriority(corev1.SchemeGroupVersion); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	if err := scheme.SetVersionPriority(coordinationv1.SchemeGroupVersion); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	if err := scheme.SetVersionPriority(policyv1.SchemeGroupVersion); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	return scheme, serializer.NewCodecFactory(scheme), nil
}

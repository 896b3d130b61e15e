package registry

import (
	"fmt"
	"strconv"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
)

// selectableFields returns the field set a field selector matches against,
// the same fields kube-apiserver offers for each kind.
func selectableFields(obj runtime.Object) (fields.Set, error) {
	switch o := obj.(type) {
	case *corev1.Node:
		return generic.AddObjectMetaFieldsSet(fields.Set{
			"spec.unschedulable": strconv.FormatBool(o.Spec.Unschedulable),
		}, &o.ObjectMeta, false), nil
	case *corev1.Pod:
		podIP := ""
		if len(o.Status.PodIPs) > 0 {
			podIP = o.Status.PodIPs[0].IP
		}
		return generic.AddObjectMetaFieldsSet(fields.Set{
			"spec.nodeName":            o.Spec.NodeName,
			"spec.restartPolicy":       string(o.Spec.RestartPolicy),
			"spec.schedulerName":       o.Spec.SchedulerName,
			"spec.serviceAccountName":  o.Spec.ServiceAccountName,
			"spec.hostNetwork":         strconv.FormatBool(o.Spec.HostNetwork),
			"status.phase":             string(o.Status.Phase),
			"status.podIP":             podIP,
			"status.nominatedNodeName": o.Status.NominatedNodeName,
		}, &o.ObjectMeta, true), nil
	case *corev1.Namespace:
		return generic.AddObjectMetaFieldsSet(fields.Set{
			"status.phase": string(o.Status.Phase),
		}, &o.ObjectMeta, false), nil
	case *corev1.Event:
		source := o.Source.Component
		if source == "" {
			source = o.ReportingController
		}
		return generic.AddObjectMetaFieldsSet(fields.Set{
			"involvedObject.kind":            o.InvolvedObject.Kind,
			"involvedObject.namespace":       o.InvolvedObject.Namespace,
			"involvedObject.name":            o.InvolvedObject.Name,
			"involvedObject.uid":             string(o.InvolvedObject.UID),
			"involvedObject.apiVersion":      o.InvolvedObject.APIVersion,
			"involvedObject.resourceVersion": o.InvolvedObject.ResourceVersion,
			"involvedObject.fieldPath":       o.InvolvedObject.FieldPath,
			"reason":                         o.Reason,
			"reportingComponent":             o.ReportingController,
			"source":                         source,
			"type":                           o.Type,
		}, &o.ObjectMeta, true), nil
	case *coordinationv1.Lease:
		return generic.ObjectMetaFieldsSet(&o.ObjectMeta, true), nil
	}
	return nil, fmt.Errorf("no selectable fields for %T", obj)
}

// getAttrs is the storage.AttrFunc shared by every store here.
func getAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	f, err := selectableFields(obj)
	if err != nil {
		return nil, nil, err
	}
	accessor, ok := obj.(interface{ GetLabels() map[string]string })
	if !ok {
		return nil, nil, fmt.Errorf("%T has no labels", obj)
	}
	return labels.Set(accessor.GetLabels()), f, nil
}

// matcher is the PredicateFunc of every store here.
func matcher(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: getAttrs}
}

// fieldLabels lists, by kind, the field selector keys the API accepts
// (anything else is rejected with "field label not supported").
var fieldLabels = map[string][]string{
	"Node": {"spec.unschedulable"},
	"Pod": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
		"spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
	"Namespace": {"status.phase"},
	"Event": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
		"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
		"reason", "reportingComponent", "source", "type"},
}

// AddFieldLabelConversions registers the field selector keys each served kind
// accepts, so that `?fieldSelector=spec.nodeName=n1` reaches the storage.
func AddFieldLabelConversions(scheme *runtime.Scheme) error {
	for kind, keys := range fieldLabels {
		allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
		for _, k := range keys {
			allowed[k] = true
		}
		gvk := corev1.SchemeGroupVersion.WithKind(kind)
		err := scheme.AddFieldLabelConversionFunc(gvk, func(label, value string) (string, string, error) {
			if !allowed[label] {
				return "", "", fmt.Errorf("field label not supported: %s", label)
			}
			return label, value, nil
		})
		if err != nil {
			return fmt.Errorf("field labels of %s: %w", kind, err)
		}
	}
	return nil
}

package validation

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateNamespace checks a Namespace on create: a cluster-scoped object
// whose name is a DNS label, with valid spec.finalizers.
func ValidateNamespace(ns *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMeta(&ns.ObjectMeta, false, apimachineryvalidation.ValidateNamespaceName)
	return append(allErrs, validateNamespaceFinalizers(ns.Spec.Finalizers)...)
}

// ValidateNamespaceUpdate checks a Namespace update: valid metadata that keeps
// its immutable fields, and valid spec.finalizers.
func ValidateNamespaceUpdate(ns, old *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&ns.ObjectMeta, &old.ObjectMeta)
	return append(allErrs, validateNamespaceFinalizers(ns.Spec.Finalizers)...)
}

// validateNamespaceFinalizers requires each finalizer to be a qualified name,
// and a standard one if it has no domain prefix. Errors are reported at
// "spec.finalizers" without an index, as upstream does.
func validateNamespaceFinalizers(finalizers []corev1.FinalizerName) field.ErrorList {
	var allErrs field.ErrorList
	fldPath := specPath.Child("finalizers")
	for _, finalizer := range finalizers {
		allErrs = append(allErrs, apimachineryvalidation.ValidateFinalizerName(string(finalizer), fldPath)...)
		allErrs = append(allErrs, validateKubeFinalizerName(string(finalizer), fldPath)...)
	}
	return allErrs
}

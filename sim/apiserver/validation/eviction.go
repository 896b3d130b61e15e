package validation

import (
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// ValidateEviction checks an Eviction posted to a pod's eviction subresource:
// it must name the pod, and may not ask to ignore store read errors.
//
// kube-apiserver answers an Eviction whose name differs from the pod's in the
// URL, including an empty one, with 400 Bad Request; that comparison needs the
// URL and is left to the handler, which should run it first.
func ValidateEviction(ev *policyv1.Eviction) field.ErrorList {
	var allErrs field.ErrorList
	if ev.Name == "" {
		allErrs = append(allErrs, field.Required(metadataPath.Child("name"), ""))
	}
	if ev.DeleteOptions != nil && ptr.Deref(ev.DeleteOptions.IgnoreStoreReadErrorWithClusterBreakingPotential, false) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("deleteOptions", "ignoreStoreReadErrorWithClusterBreakingPotential"), true,
			"can not be set for pod eviction, try after removing the option"))
	}
	return allErrs
}

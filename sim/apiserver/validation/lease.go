package validation

import (
	"slices"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedLeaseStrategies = []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}

// ValidateLease checks a Lease on create: a namespaced object whose name is a
// DNS subdomain, with a valid spec.
func ValidateLease(lease *coordinationv1.Lease) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&lease.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metadataPath)
	return append(allErrs, validateLeaseSpec(&lease.Spec)...)
}

// ValidateLeaseUpdate checks a Lease update: valid metadata that keeps its
// immutable fields, and a valid spec. Every spec field may change.
func ValidateLeaseUpdate(lease, old *coordinationv1.Lease) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&lease.ObjectMeta, &old.ObjectMeta, metadataPath)
	return append(allErrs, validateLeaseSpec(&lease.Spec)...)
}

// validateLeaseSpec checks the durations and counters, and the coordinated
// leader election fields. holderIdentity and the times are free-form.
func validateLeaseSpec(spec *coordinationv1.LeaseSpec) field.ErrorList {
	var allErrs field.ErrorList
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		allErrs = append(allErrs, field.Invalid(specPath.Child("leaseDurationSeconds"), *spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		allErrs = append(allErrs, field.Invalid(specPath.Child("leaseTransitions"), *spec.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		allErrs = append(allErrs, validateLeaseStrategy(*spec.Strategy)...)
	}
	if spec.PreferredHolder != nil && *spec.PreferredHolder != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return allErrs
}

// validateLeaseStrategy accepts a strategy Kubernetes defines, or any
// domain-prefixed qualified name. Errors are reported at
// "spec.strategy.strategy", as upstream does.
func validateLeaseStrategy(strategy coordinationv1.CoordinatedLeaseStrategy) field.ErrorList {
	fldPath := specPath.Child("strategy", "strategy")
	if strings.Contains(string(strategy), "/") {
		return invalidEach(fldPath, strategy, validation.IsQualifiedName(string(strategy)))
	}
	if !slices.Contains(supportedLeaseStrategies, strategy) {
		return field.ErrorList{field.NotSupported(fldPath, strategy, supportedLeaseStrategies)}
	}
	return nil
}

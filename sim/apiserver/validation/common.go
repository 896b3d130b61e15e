package validation

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
	statusPath   = field.NewPath("status")
)

// invalidEach turns the messages of a k8s.io/apimachinery/pkg/util/validation
// check into one Invalid error each.
func invalidEach(fldPath *field.Path, value any, msgs []string) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range msgs {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validateObjectMeta checks metadata on create the way kube-apiserver does for
// core objects: the generic ObjectMeta rules plus its finalizer-name rule.
func validateObjectMeta(meta *metav1.ObjectMeta, namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(meta, namespaced, nameFn, metadataPath)
	return append(allErrs, validateKubeFinalizerNames(meta.Finalizers)...)
}

// validateObjectMetaUpdate checks metadata on update: what may not change,
// plus the label, annotation and finalizer rules that apply to any object.
func validateObjectMetaUpdate(meta, old *metav1.ObjectMeta) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(meta, old, metadataPath)
	allErrs = append(allErrs, apimachineryvalidation.ValidateFinalizers(meta.Finalizers, metadataPath.Child("finalizers"))...)
	return append(allErrs, validateKubeFinalizerNames(meta.Finalizers)...)
}

func validateKubeFinalizerNames(finalizers []string) field.ErrorList {
	var allErrs field.ErrorList
	for i, name := range finalizers {
		allErrs = append(allErrs, validateKubeFinalizerName(name, metadataPath.Child("finalizers").Index(i))...)
	}
	return allErrs
}

// standardFinalizers are the only finalizer names allowed without a domain
// prefix.
var standardFinalizers = sets.New(
	string(corev1.FinalizerKubernetes),
	metav1.FinalizerOrphanDependents,
	metav1.FinalizerDeleteDependents,
)

func validateKubeFinalizerName(name string, fldPath *field.Path) field.ErrorList {
	if !strings.Contains(name, "/") && !standardFinalizers.Has(name) {
		return field.ErrorList{field.Invalid(fldPath, name, "name is neither a standard finalizer name nor is it fully qualified")}
	}
	return nil
}

// Taints and tolerations.

var supportedTaintEffects = []corev1.TaintEffect{
	corev1.TaintEffectNoSchedule,
	corev1.TaintEffectPreferNoSchedule,
	corev1.TaintEffectNoExecute,
}

func validateTaintEffect(effect corev1.TaintEffect, fldPath *field.Path) field.ErrorList {
	switch {
	case effect == "":
		return field.ErrorList{field.Required(fldPath, "")}
	case !slices.Contains(supportedTaintEffects, effect):
		return field.ErrorList{field.NotSupported(fldPath, effect, supportedTaintEffects)}
	}
	return nil
}

func validateTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	type keyEffect struct {
		key    string
		effect corev1.TaintEffect
	}
	seen := sets.New[keyEffect]()
	for i, taint := range taints {
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, metav1validation.ValidateLabelName(taint.Key, idxPath.Child("key"))...)
		if msgs := validation.IsValidLabelValue(taint.Value); len(msgs) != 0 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("value"), taint.Value, strings.Join(msgs, ";")))
		}
		allErrs = append(allErrs, validateTaintEffect(taint.Effect, idxPath.Child("effect"))...)

		ke := keyEffect{taint.Key, taint.Effect}
		if seen.Has(ke) {
			dup := field.Duplicate(idxPath, taint)
			dup.Detail = "taints must be unique by key and effect pair"
			allErrs = append(allErrs, dup)
			continue
		}
		seen.Insert(ke)
	}
	return allErrs
}

func validateTolerations(tolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, tol := range tolerations {
		idxPath := fldPath.Index(i)
		if tol.Key != "" {
			allErrs = append(allErrs, metav1validation.ValidateLabelName(tol.Key, idxPath.Child("key"))...)
		}
		if tol.Key == "" && tol.Operator != corev1.TolerationOpExists {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("operator"), tol.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if tol.TolerationSeconds != nil && tol.Effect != corev1.TaintEffectNoExecute {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("effect"), tol.Effect,
				"effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}

		// Value errors are reported on the operator field, as upstream does.
		switch tol.Operator {
		case corev1.TolerationOpEqual, "": // empty means Equal
			if msgs := validation.IsValidLabelValue(tol.Value); len(msgs) != 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("operator"), tol.Value, strings.Join(msgs, ";")))
			}
		case corev1.TolerationOpExists:
			if tol.Value != "" {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("operator"), tol.Value, "value must be empty when `operator` is 'Exists'"))
			}
		case corev1.TolerationOpLt, corev1.TolerationOpGt:
			// Behind the alpha gate TaintTolerationComparisonOperators, off
			// in v1.37; upstream still lists them as supported values.
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("operator"), tol.Operator, []corev1.TolerationOperator{
				corev1.TolerationOpEqual, corev1.TolerationOpExists, corev1.TolerationOpLt, corev1.TolerationOpGt,
			}))
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("operator"), tol.Operator, []corev1.TolerationOperator{
				corev1.TolerationOpEqual, corev1.TolerationOpExists,
			}))
		}

		// An empty effect matches every taint effect.
		if tol.Effect != "" {
			allErrs = append(allErrs, validateTaintEffect(tol.Effect, idxPath.Child("effect"))...)
		}
	}
	return allErrs
}

// Resources.

// standardResources are the resource names allowed without a domain prefix.
var standardResources = sets.New(
	corev1.ResourceCPU,
	corev1.ResourceMemory,
	corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU,
	corev1.ResourceRequestsMemory,
	corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU,
	corev1.ResourceLimitsMemory,
	corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods,
	corev1.ResourceQuotas,
	corev1.ResourceServices,
	corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets,
	corev1.ResourceConfigMaps,
	corev1.ResourcePersistentVolumeClaims,
	corev1.ResourceStorage,
	corev1.ResourceRequestsStorage,
	corev1.ResourceServicesNodePorts,
	corev1.ResourceServicesLoadBalancers,
)

// standardContainerResources are the unprefixed names a container may request
// besides hugepages-<size>.
var standardContainerResources = sets.New(
	corev1.ResourceCPU,
	corev1.ResourceMemory,
	corev1.ResourceEphemeralStorage,
)

// integerResources are counted in whole units.
var integerResources = sets.New(
	corev1.ResourcePods,
	corev1.ResourceQuotas,
	corev1.ResourceServices,
	corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets,
	corev1.ResourceConfigMaps,
	corev1.ResourcePersistentVolumeClaims,
	corev1.ResourceServicesNodePorts,
	corev1.ResourceServicesLoadBalancers,
)

const requestsHugePagesPrefix = corev1.DefaultResourceRequestsPrefix + corev1.ResourceHugePagesPrefix

func isHugePageResourceName(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func isStandardResourceName(name corev1.ResourceName) bool {
	return standardResources.Has(name) || isHugePageResourceName(name) ||
		strings.HasPrefix(string(name), requestsHugePagesPrefix)
}

// isNativeResource reports whether name is in the kubernetes.io/ domain;
// unprefixed names implicitly are.
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") ||
		strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResourceName reports whether name is a vendor resource such as
// example.com/gpu that would also be a valid quota name once prefixed with
// "requests.".
func isExtendedResourceName(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// isOvercommitAllowed reports whether a request may be lower than its limit.
func isOvercommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePageResourceName(name)
}

func isIntegerResourceName(name corev1.ResourceName) bool {
	return integerResources.Has(name) || isExtendedResourceName(name)
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	return slices.Sorted(maps.Keys(list))
}

// validateResourceQuantity checks that a quantity is not negative, and whole
// for resources counted in units.
func validateResourceQuantity(name corev1.ResourceName, quantity resource.Quantity, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if quantity.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath, quantity.String(), apimachineryvalidation.IsNegativeErrorMsg))
	}
	if isIntegerResourceName(name) && quantity.MilliValue()%1000 != 0 {
		allErrs = append(allErrs, field.Invalid(fldPath, quantity, "must be an integer"))
	}
	return allErrs
}

func validateResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	allErrs := invalidEach(fldPath, name, validation.IsQualifiedName(string(name)))
	if len(allErrs) == 0 && !strings.Contains(string(name), "/") && !isStandardResourceName(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, "must be a standard resource type or fully qualified"))
	}
	return allErrs
}

func validateContainerResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	allErrs := validateResourceName(name, fldPath)
	if !strings.Contains(string(name), "/") {
		if !standardContainerResources.Has(name) && !isHugePageResourceName(name) {
			allErrs = append(allErrs, field.Invalid(fldPath, name, "must be a standard resource for containers"))
		}
	} else if !isNativeResource(name) && !isExtendedResourceName(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, "doesn't follow extended resource name standard"))
	}
	return allErrs
}

// validateResourceRequirements checks a container's requests and limits:
// valid names, valid quantities, requests no greater than limits, and equal
// to them for resources that cannot be overcommitted (hugepages, extended
// resources).
func validateResourceRequirements(req *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	limPath := fldPath.Child("limits")
	reqPath := fldPath.Child("requests")
	for _, name := range sortedResourceNames(req.Limits) {
		keyPath := limPath.Key(string(name))
		allErrs = append(allErrs, validateContainerResourceName(name, keyPath)...)
		allErrs = append(allErrs, validateResourceQuantity(name, req.Limits[name], keyPath)...)
	}
	for _, name := range sortedResourceNames(req.Requests) {
		quantity := req.Requests[name]
		keyPath := reqPath.Key(string(name))
		allErrs = append(allErrs, validateContainerResourceName(name, keyPath)...)
		allErrs = append(allErrs, validateResourceQuantity(name, quantity, keyPath)...)

		limit, hasLimit := req.Limits[name]
		switch {
		case hasLimit && quantity.Cmp(limit) != 0 && !isOvercommitAllowed(name):
			allErrs = append(allErrs, field.Invalid(reqPath, quantity.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case hasLimit && quantity.Cmp(limit) > 0:
			allErrs = append(allErrs, field.Invalid(reqPath, quantity.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !hasLimit && !isOvercommitAllowed(name):
			allErrs = append(allErrs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	return allErrs
}

package validation

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// ValidateNode checks a Node on create: a cluster-scoped object whose name is
// a DNS subdomain, valid taints, pod CIDRs and resource quantities.
func ValidateNode(node *corev1.Node) field.ErrorList {
	allErrs := validateObjectMeta(&node.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	return append(allErrs, validateNodeFields(node)...)
}

// ValidateNodeUpdate checks a Node update, spec or status: the new node must
// be valid, spec.podCIDRs and spec.providerID may be set once but not changed
// afterwards, spec.externalID may not change, and status.addresses may not
// repeat an address.
func ValidateNodeUpdate(node, old *corev1.Node) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&node.ObjectMeta, &old.ObjectMeta)
	allErrs = append(allErrs, validateNodeFields(node)...)

	seen := make(map[corev1.NodeAddress]bool, len(node.Status.Addresses))
	for i, address := range node.Status.Addresses {
		if seen[address] {
			allErrs = append(allErrs, field.Duplicate(statusPath.Child("addresses").Index(i), address))
		}
		seen[address] = true
	}

	// A controller may assign pod CIDRs to a node that has none.
	if oldCIDRs, newCIDRs := nodePodCIDRs(&old.Spec), nodePodCIDRs(&node.Spec); len(oldCIDRs) > 0 {
		podCIDRsPath := specPath.Child("podCIDRs")
		const msg = `node updates may not change podCIDR except from "" to valid`
		if len(oldCIDRs) != len(newCIDRs) {
			allErrs = append(allErrs, field.Forbidden(podCIDRsPath, msg))
		} else {
			for i := range oldCIDRs {
				if oldCIDRs[i] != newCIDRs[i] {
					allErrs = append(allErrs, field.Forbidden(podCIDRsPath, msg))
				}
			}
		}
	}

	// A controller may set the provider ID of a node that has none.
	if old.Spec.ProviderID != "" {
		providerIDPath := specPath.Child("providerID")
		switch node.Spec.ProviderID {
		case old.Spec.ProviderID:
		case "":
			allErrs = append(allErrs, field.Invalid(providerIDPath, nil, "field cannot be cleared once set"))
		default:
			allErrs = append(allErrs, field.Invalid(providerIDPath, nil, "field cannot be modified once set"))
		}
	}

	if node.Spec.DoNotUseExternalID != old.Spec.DoNotUseExternalID {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("externalID"), "may not be updated"))
	}
	return allErrs
}

// validateNodeFields holds the checks shared by create and update.
func validateNodeFields(node *corev1.Node) field.ErrorList {
	// kube-apiserver reports node taint errors under "metadata.taints", not
	// "spec.taints"; clients see that path, so it is kept.
	allErrs := validateTaints(node.Spec.Taints, metadataPath.Child("taints"))

	podCIDRsPath := specPath.Child("podCIDRs")
	cidrs := nodePodCIDRs(&node.Spec)
	for i, cidr := range cidrs {
		allErrs = append(allErrs, validation.IsValidCIDRForLegacyField(podCIDRsPath.Index(i), cidr, true, nil)...)
	}
	// The families of unparsable CIDRs are not compared: those have their own
	// errors.
	if len(cidrs) > 1 {
		dualStack, err := netutils.IsDualStackCIDRStrings(cidrs)
		if len(cidrs) > 2 || (err == nil && !dualStack) {
			allErrs = append(allErrs, field.Invalid(podCIDRsPath, cidrs, "may specify no more than one CIDR for each IP family"))
		}
	}

	allErrs = append(allErrs, validateNodeResourceList(node.Status.Capacity, statusPath.Child("capacity"))...)
	return append(allErrs, validateNodeResourceList(node.Status.Allocatable, statusPath.Child("allocatable"))...)
}

// validateNodeResourceList checks status.capacity or status.allocatable.
// kube-apiserver checks only the quantities; the names are also checked here
// to be qualified names, which every kubelet-reported resource is. Errors are
// reported at "status.capacity.<name>", as upstream does.
func validateNodeResourceList(list corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, name := range sortedResourceNames(list) {
		resPath := fldPath.Child(string(name))
		allErrs = append(allErrs, invalidEach(resPath, name, validation.IsQualifiedName(string(name)))...)
		allErrs = append(allErrs, validateResourceQuantity(name, list[name], resPath)...)
	}
	return allErrs
}

// nodePodCIDRs folds spec.podCIDR into spec.podCIDRs the way kube-apiserver
// does when it converts a v1 Node: a set podCIDR that stands alone or
// disagrees with podCIDRs[0] wins.
func nodePodCIDRs(spec *corev1.NodeSpec) []string {
	if spec.PodCIDR != "" && (len(spec.PodCIDRs) == 0 || spec.PodCIDRs[0] != spec.PodCIDR) {
		return []string{spec.PodCIDR}
	}
	return spec.PodCIDRs
}

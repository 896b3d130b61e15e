package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateBinding checks a pod Binding: the target must be a Node (an empty
// kind means Node) and name one, as a DNS subdomain.
func ValidateBinding(binding *corev1.Binding) field.ErrorList {
	var allErrs field.ErrorList
	kind, name := binding.Target.Kind, binding.Target.Name
	if kind != "" && kind != "Node" {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("target", "kind"), kind, []string{"Node", "<empty>"}))
	}
	namePath := field.NewPath("target", "name")
	switch {
	case name == "":
		allErrs = append(allErrs, field.Required(namePath, ""))
	case kind == "" || kind == "Node":
		allErrs = append(allErrs, invalidEach(namePath, name, validation.IsDNS1123Subdomain(name))...)
	}
	return allErrs
}

package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Length limits of new-style event fields.
const (
	eventReportingInstanceLengthLimit = 128
	eventActionLengthLimit            = 128
	eventReasonLengthLimit            = 128
	eventMessageLengthLimit           = 1024
)

// ValidateEvent checks a core/v1 Event, on create and on update, with the
// rules kube-apiserver applies to that API version.
//
// An event without eventTime (as written by client-go's legacy recorder) must
// live in its involved object's namespace, or in "" or "default" when the
// object is cluster-scoped; nothing else is checked, not even metadata, as
// upstream. An event with eventTime set (as written by the events.k8s.io
// recorder through core/v1) may refer to a cluster-scoped object only from
// "default" or "kube-system", and needs reportingComponent,
// reportingInstance, action and reason, within length limits. The type is
// not checked by either rule.
func ValidateEvent(event *corev1.Event) field.ErrorList {
	var allErrs field.ErrorList
	involvedNamespace := event.InvolvedObject.Namespace
	mismatch := field.Invalid(field.NewPath("involvedObject", "namespace"), involvedNamespace, "does not match event.namespace")

	if event.EventTime.IsZero() {
		switch {
		case involvedNamespace == "" && event.Namespace != metav1.NamespaceNone && event.Namespace != metav1.NamespaceDefault:
			allErrs = append(allErrs, mismatch)
		case involvedNamespace != "" && event.Namespace != involvedNamespace:
			allErrs = append(allErrs, mismatch)
		}
		return allErrs
	}

	if involvedNamespace == "" && event.Namespace != metav1.NamespaceDefault && event.Namespace != metav1.NamespaceSystem {
		allErrs = append(allErrs, mismatch)
	}
	// core/v1 calls reportingController "reportingComponent".
	componentPath := field.NewPath("reportingComponent")
	if event.ReportingController == "" {
		allErrs = append(allErrs, field.Required(componentPath, ""))
	}
	allErrs = append(allErrs, invalidEach(componentPath, event.ReportingController, validation.IsQualifiedName(event.ReportingController))...)

	for _, f := range []struct {
		name     string
		value    string
		required bool
		limit    int
	}{
		{"reportingInstance", event.ReportingInstance, true, eventReportingInstanceLengthLimit},
		{"action", event.Action, true, eventActionLengthLimit},
		{"reason", event.Reason, true, eventReasonLengthLimit},
		{"message", event.Message, false, eventMessageLengthLimit},
	} {
		fldPath := field.NewPath(f.name)
		if f.required && f.value == "" {
			allErrs = append(allErrs, field.Required(fldPath, ""))
		}
		if len(f.value) > f.limit {
			allErrs = append(allErrs, field.Invalid(fldPath, "", fmt.Sprintf("can have at most %v characters", f.limit)))
		}
	}
	return allErrs
}

package validation

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

var (
	supportedRestartPolicies = []corev1.RestartPolicy{
		corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever,
	}
	supportedDNSPolicies = []corev1.DNSPolicy{
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone,
	}
	supportedPreemptionPolicies = []corev1.PreemptionPolicy{
		corev1.PreemptLowerPriority, corev1.PreemptNever,
	}
	supportedContainerRestartPolicies = []corev1.ContainerRestartPolicy{
		corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicyNever, corev1.ContainerRestartPolicyOnFailure,
	}
	supportedPullPolicies = []corev1.PullPolicy{
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever,
	}
	supportedTerminationMessagePolicies = []corev1.TerminationMessagePolicy{
		corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError,
	}
	supportedPortProtocols = []corev1.Protocol{
		corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP,
	}
	supportedPodPhases = []corev1.PodPhase{
		corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown,
	}
	// systemPodConditions may have any type; other condition types must be
	// qualified names.
	systemPodConditions = sets.New(corev1.PodScheduled, corev1.PodReady, corev1.PodInitialized)
)

// updatablePodSpecFields is quoted verbatim in kube-apiserver's message.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

const sysctlMaxLength = 253

// sysctlNameRegexp matches sysctl names in dotted or slashed form,
// e.g. net.ipv4.ip_forward or net/ipv4/ip_forward.
var sysctlNameRegexp = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

// ValidatePod checks a Pod on create: a namespaced object whose name is a DNS
// subdomain, with at least one container and a valid spec. Ephemeral
// containers may not be set on create, nor spec.nodeName while scheduling
// gates remain.
func ValidatePod(pod *corev1.Pod) field.ErrorList {
	allErrs := validateObjectMeta(&pod.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	allErrs = append(allErrs, validateMirrorPodAnnotation(pod)...)
	allErrs = append(allErrs, validatePodSpec(&pod.Spec)...)
	if len(pod.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if pod.Spec.NodeName != "" && len(pod.Spec.SchedulingGates) > 0 {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
	}
	return allErrs
}

// ValidatePodUpdate checks an update of a Pod's metadata and spec. The new
// pod must be valid, and its spec may differ from the old one only in
// container and init container images, activeDeadlineSeconds (set, or
// lowered), added tolerations (or changed tolerationSeconds), removed
// scheduling gates, and a negative terminationGracePeriodSeconds raised to 1.
// spec.nodeName is not among them: as in kube-apiserver, a pod is bound
// through the binding subresource, not by an update.
func ValidatePodUpdate(pod, old *corev1.Pod) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&pod.ObjectMeta, &old.ObjectMeta)
	allErrs = append(allErrs, validateMirrorPodAnnotationUpdate(pod, old)...)
	allErrs = append(allErrs, validatePodSpec(&pod.Spec)...)
	return append(allErrs, validatePodSpecUpdate(&pod.Spec, &old.Spec)...)
}

// ValidatePodStatusUpdate checks an update through the status subresource:
// valid metadata, phase and conditions, pod and host IPs, spec.nodeName and
// status.qosClass unchanged, and no container leaving the terminated state
// unless it may be restarted.
func ValidatePodStatusUpdate(pod, old *corev1.Pod) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&pod.ObjectMeta, &old.ObjectMeta)
	allErrs = append(allErrs, validateMirrorPodAnnotationUpdate(pod, old)...)

	status := &pod.Status
	// kube-apiserver does not check the phase; nodesim does, as every value
	// outside this list is a bug in whatever reported it.
	if status.Phase != "" && !slices.Contains(supportedPodPhases, status.Phase) {
		allErrs = append(allErrs, field.NotSupported(statusPath.Child("phase"), status.Phase, supportedPodPhases))
	}
	allErrs = append(allErrs, validatePodConditions(status.Conditions, statusPath.Child("conditions"))...)

	// The path says status although the field is spec.nodeName, as upstream.
	if pod.Spec.NodeName != old.Spec.NodeName {
		allErrs = append(allErrs, field.Forbidden(statusPath.Child("nodeName"), "may not be changed directly"))
	}
	if nominated := status.NominatedNodeName; nominated != "" && nominated != old.Status.NominatedNodeName {
		nominatedPath := statusPath.Child("nominatedNodeName")
		allErrs = append(allErrs, invalidEach(nominatedPath, nominated, apimachineryvalidation.NameIsDNSSubdomain(nominated, false))...)
		if old.Spec.NodeName != "" {
			allErrs = append(allErrs, field.Forbidden(nominatedPath, "may not be set on pods that are already bound to a node"))
		}
	}
	if status.ObservedGeneration < 0 {
		allErrs = append(allErrs, field.Invalid(statusPath.Child("observedGeneration"), status.ObservedGeneration, "must be a non-negative integer"))
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(status.QOSClass, old.Status.QOSClass, statusPath.Child("qosClass"))...)

	if !anyContainerRestartsAll(&old.Spec) {
		allErrs = append(allErrs, validateContainerStateTransitions(status.ContainerStatuses, old.Status.ContainerStatuses,
			old.Spec.Containers, old.Spec.RestartPolicy, statusPath.Child("containerStatuses"))...)
		allErrs = append(allErrs, validateContainerStateTransitions(status.InitContainerStatuses, old.Status.InitContainerStatuses,
			old.Spec.InitContainers, old.Spec.RestartPolicy, statusPath.Child("initContainerStatuses"))...)
	}

	allErrs = append(allErrs, validatePodIPs(status, &old.Status)...)
	return append(allErrs, validateHostIPs(status, &old.Status)...)
}

// validatePodSpec holds the spec checks shared by create and update.
func validatePodSpec(spec *corev1.PodSpec) field.ErrorList {
	allErrs := validateContainers(spec)

	if spec.RestartPolicy != "" && !slices.Contains(supportedRestartPolicies, spec.RestartPolicy) {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("restartPolicy"), spec.RestartPolicy, supportedRestartPolicies))
	}
	if spec.DNSPolicy != "" && !slices.Contains(supportedDNSPolicies, spec.DNSPolicy) {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("dnsPolicy"), spec.DNSPolicy, supportedDNSPolicies))
	}
	if spec.PreemptionPolicy != nil {
		preemptionPath := specPath.Child("preemptionPolicy")
		switch policy := *spec.PreemptionPolicy; {
		case policy == "":
			allErrs = append(allErrs, field.Required(preemptionPath, ""))
		case !slices.Contains(supportedPreemptionPolicies, policy):
			allErrs = append(allErrs, field.NotSupported(preemptionPath, policy, supportedPreemptionPolicies))
		}
	}
	if spec.TerminationGracePeriodSeconds != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*spec.TerminationGracePeriodSeconds, specPath.Child("terminationGracePeriodSeconds"))...)
	}
	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			allErrs = append(allErrs, field.Invalid(specPath.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}

	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.NodeSelector, specPath.Child("nodeSelector"))...)
	allErrs = append(allErrs, validateTolerations(spec.Tolerations, specPath.Child("tolerations"))...)
	if spec.SecurityContext != nil {
		allErrs = append(allErrs, validateSysctls(spec.SecurityContext.Sysctls, specPath.Child("securityContext", "sysctls"))...)
	}
	allErrs = append(allErrs, validateSchedulingGates(spec.SchedulingGates, specPath.Child("schedulingGates"))...)

	// Optional names of other objects, and the pod's own DNS names.
	for _, name := range []struct {
		field string
		value string
		check func(string) []string
	}{
		{"nodeName", spec.NodeName, validation.IsDNS1123Subdomain},
		{"serviceAccountName", spec.ServiceAccountName, validation.IsDNS1123Subdomain},
		{"priorityClassName", spec.PriorityClassName, validation.IsDNS1123Subdomain},
		{"hostname", spec.Hostname, validation.IsDNS1123Label},
		{"subdomain", spec.Subdomain, validation.IsDNS1123Label},
	} {
		if name.value != "" {
			allErrs = append(allErrs, invalidEach(specPath.Child(name.field), name.value, name.check(name.value))...)
		}
	}
	if spec.RuntimeClassName != nil {
		allErrs = append(allErrs, invalidEach(specPath.Child("runtimeClassName"), *spec.RuntimeClassName, validation.IsDNS1123Subdomain(*spec.RuntimeClassName))...)
	}
	return allErrs
}

// validateContainers checks init and regular containers. Names must be unique
// across both lists; a clash is reported on the init container.
func validateContainers(spec *corev1.PodSpec) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()

	containersPath := specPath.Child("containers")
	if len(spec.Containers) == 0 {
		allErrs = append(allErrs, field.Required(containersPath, ""))
	}
	// Regular containers run together, so their host ports must not clash.
	hostPorts := sets.New[string]()
	for i := range spec.Containers {
		ctr := &spec.Containers[i]
		idxPath := containersPath.Index(i)
		allErrs = append(allErrs, validateContainer(ctr, idxPath)...)
		if names.Has(ctr.Name) {
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), ctr.Name))
		}
		names.Insert(ctr.Name)
		allErrs = append(allErrs, validateHostPorts(ctr, hostPorts, idxPath)...)
	}

	initPath := specPath.Child("initContainers")
	for i := range spec.InitContainers {
		ctr := &spec.InitContainers[i]
		idxPath := initPath.Index(i)
		allErrs = append(allErrs, validateContainer(ctr, idxPath)...)
		if names.Has(ctr.Name) {
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), ctr.Name))
		} else if ctr.Name != "" {
			names.Insert(ctr.Name)
		}
		// Init containers run one by one: only clashes within one count.
		allErrs = append(allErrs, validateHostPorts(ctr, sets.New[string](), idxPath)...)
	}
	return allErrs
}

func validateContainer(ctr *corev1.Container, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	namePath := fldPath.Child("name")
	if ctr.Name == "" {
		allErrs = append(allErrs, field.Required(namePath, ""))
	} else {
		allErrs = append(allErrs, invalidEach(namePath, ctr.Name, validation.IsDNS1123Label(ctr.Name))...)
	}

	imagePath := fldPath.Child("image")
	if ctr.Image == "" {
		allErrs = append(allErrs, field.Required(imagePath, ""))
	} else if strings.TrimSpace(ctr.Image) != ctr.Image {
		allErrs = append(allErrs, field.Invalid(imagePath, ctr.Image, "must not have leading or trailing whitespace"))
	}

	if p := ctr.ImagePullPolicy; p != "" && !slices.Contains(supportedPullPolicies, p) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("imagePullPolicy"), p, supportedPullPolicies))
	}
	if p := ctr.TerminationMessagePolicy; p != "" && !slices.Contains(supportedTerminationMessagePolicies, p) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("terminationMessagePolicy"), p, supportedTerminationMessagePolicies))
	}
	if ctr.RestartPolicy == nil {
		if len(ctr.RestartPolicyRules) > 0 {
			allErrs = append(allErrs, field.Required(fldPath.Child("restartPolicy"), "must specify restartPolicy when restart rules are used"))
		}
	} else if !slices.Contains(supportedContainerRestartPolicies, *ctr.RestartPolicy) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("restartPolicy"), *ctr.RestartPolicy, supportedContainerRestartPolicies))
	}

	allErrs = append(allErrs, validateContainerPorts(ctr.Ports, fldPath.Child("ports"))...)
	for i, env := range ctr.Env {
		envNamePath := fldPath.Child("env").Index(i).Child("name")
		if env.Name == "" {
			allErrs = append(allErrs, field.Required(envNamePath, ""))
		} else {
			allErrs = append(allErrs, invalidEach(envNamePath, env.Name, validation.IsRelaxedEnvVarName(env.Name))...)
		}
	}
	return append(allErrs, validateResourceRequirements(&ctr.Resources, fldPath.Child("resources"))...)
}

func validateContainerPorts(ports []corev1.ContainerPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		idxPath := fldPath.Index(i)
		if port.Name != "" {
			namePath := idxPath.Child("name")
			if msgs := validation.IsValidPortName(port.Name); len(msgs) != 0 {
				allErrs = append(allErrs, invalidEach(namePath, port.Name, msgs)...)
			} else if names.Has(port.Name) {
				allErrs = append(allErrs, field.Duplicate(namePath, port.Name))
			} else {
				names.Insert(port.Name)
			}
		}
		if port.ContainerPort == 0 {
			allErrs = append(allErrs, field.Required(idxPath.Child("containerPort"), ""))
		} else {
			allErrs = append(allErrs, invalidEach(idxPath.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		}
		if port.HostPort != 0 {
			allErrs = append(allErrs, invalidEach(idxPath.Child("hostPort"), port.HostPort, validation.IsValidPortNum(int(port.HostPort)))...)
		}
		if port.Protocol != "" && !slices.Contains(supportedPortProtocols, port.Protocol) {
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("protocol"), port.Protocol, supportedPortProtocols))
		}
	}
	return allErrs
}

// validateHostPorts reports each host port of ctr that is already in use,
// by ctr or by a container recorded in inUse, with the same protocol and host
// IP, and records ctr's host ports in inUse.
func validateHostPorts(ctr *corev1.Container, inUse sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, port := range ctr.Ports {
		if port.HostPort == 0 {
			continue
		}
		protocol := port.Protocol
		if protocol == "" {
			protocol = corev1.ProtocolTCP // the default kube-apiserver would have set
		}
		key := fmt.Sprintf("%s/%s/%d", protocol, port.HostIP, port.HostPort)
		if inUse.Has(key) {
			allErrs = append(allErrs, field.Duplicate(fldPath.Child("ports").Index(i).Child("hostPort"), key))
		}
		inUse.Insert(key)
	}
	return allErrs
}

func validateSysctls(sysctls []corev1.Sysctl, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, sysctl := range sysctls {
		namePath := fldPath.Index(i).Child("name")
		switch {
		case sysctl.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
		case len(sysctl.Name) > sysctlMaxLength || !sysctlNameRegexp.MatchString(sysctl.Name):
			allErrs = append(allErrs, field.Invalid(namePath, sysctl.Name,
				fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlNameRegexp)))
		case seen.Has(sysctl.Name):
			allErrs = append(allErrs, field.Duplicate(namePath, sysctl.Name))
		}
		seen.Insert(sysctl.Name)
	}
	return allErrs
}

func validateSchedulingGates(gates []corev1.PodSchedulingGate, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, gate := range gates {
		allErrs = append(allErrs, invalidEach(fldPath.Index(i), gate.Name, validation.IsQualifiedName(gate.Name))...)
		if seen.Has(gate.Name) {
			allErrs = append(allErrs, field.Duplicate(fldPath.Index(i), gate.Name))
		}
		seen.Insert(gate.Name)
	}
	return allErrs
}

// validateMirrorPodAnnotation checks that a mirror pod, which a kubelet
// creates for a static pod, names the node it runs on.
func validateMirrorPodAnnotation(pod *corev1.Pod) field.ErrorList {
	if value, isMirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; isMirror && pod.Spec.NodeName == "" {
		return field.ErrorList{field.Invalid(metadataPath.Child("annotations").Key(corev1.MirrorPodAnnotationKey), value,
			"must set spec.nodeName if mirror pod annotation is set")}
	}
	return nil
}

// validateMirrorPodAnnotationUpdate forbids turning a pod into a mirror pod or
// back, and validates the annotation of the new pod.
func validateMirrorPodAnnotationUpdate(pod, old *corev1.Pod) field.ErrorList {
	annotationPath := metadataPath.Child("annotations").Key(corev1.MirrorPodAnnotationKey)
	newValue, newIsMirror := pod.Annotations[corev1.MirrorPodAnnotationKey]
	oldValue, oldIsMirror := old.Annotations[corev1.MirrorPodAnnotationKey]
	var allErrs field.ErrorList
	switch {
	case oldIsMirror && (!newIsMirror || newValue != oldValue):
		allErrs = append(allErrs, field.Forbidden(annotationPath, "may not remove or update mirror pod annotation"))
	case !oldIsMirror && newIsMirror:
		allErrs = append(allErrs, field.Forbidden(annotationPath, "may not add mirror pod annotation"))
	}
	return append(allErrs, validateMirrorPodAnnotation(pod)...)
}

// validatePodSpecUpdate enforces which spec fields an update may change.
func validatePodSpecUpdate(spec, old *corev1.PodSpec) field.ErrorList {
	if len(spec.Containers) != len(old.Containers) {
		return field.ErrorList{field.Forbidden(specPath.Child("containers"), "pod updates may not add or remove containers")}
	}
	if len(spec.InitContainers) != len(old.InitContainers) {
		return field.ErrorList{field.Forbidden(specPath.Child("initContainers"), "pod updates may not add or remove containers")}
	}

	// activeDeadlineSeconds may be set, or lowered, but not raised or unset.
	var allErrs field.ErrorList
	deadlinePath := specPath.Child("activeDeadlineSeconds")
	switch {
	case spec.ActiveDeadlineSeconds != nil:
		deadline := *spec.ActiveDeadlineSeconds
		if deadline < 0 || deadline > math.MaxInt32 {
			return field.ErrorList{field.Invalid(deadlinePath, deadline, validation.InclusiveRangeError(0, math.MaxInt32))}
		}
		if old.ActiveDeadlineSeconds != nil && *old.ActiveDeadlineSeconds < deadline {
			return field.ErrorList{field.Invalid(deadlinePath, deadline, "must be less than or equal to previous value")}
		}
	case old.ActiveDeadlineSeconds != nil:
		allErrs = append(allErrs, field.Invalid(deadlinePath, spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	}

	allErrs = append(allErrs, validateOnlyAddedTolerations(spec.Tolerations, old.Tolerations, specPath.Child("tolerations"))...)
	allErrs = append(allErrs, validateOnlyDeletedSchedulingGates(spec.SchedulingGates, old.SchedulingGates, specPath.Child("schedulingGates"))...)

	if apiequality.Semantic.DeepEqual(*spec, *old) {
		return allErrs
	}
	// Undo the changes that are allowed; anything left is forbidden.
	munged := spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = old.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = old.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = old.ActiveDeadlineSeconds
	munged.Tolerations = old.Tolerations
	munged.SchedulingGates = old.SchedulingGates
	if old.TerminationGracePeriodSeconds != nil && *old.TerminationGracePeriodSeconds < 0 &&
		munged.TerminationGracePeriodSeconds != nil && *munged.TerminationGracePeriodSeconds == 1 {
		munged.TerminationGracePeriodSeconds = old.TerminationGracePeriodSeconds
	}
	if !apiequality.Semantic.DeepEqual(*munged, *old) {
		allErrs = append(allErrs, field.Forbidden(specPath, fmt.Sprintf("pod updates may not change fields other than %s\n%v",
			strings.Join(updatablePodSpecFields, ","), diff.Diff(*old, *munged))))
	}
	return allErrs
}

// validateOnlyAddedTolerations requires every old toleration to be present in
// the new list, allowing only its tolerationSeconds to change.
func validateOnlyAddedTolerations(tolerations, old []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	for _, oldTol := range old {
		kept := slices.ContainsFunc(tolerations, func(tol corev1.Toleration) bool {
			tol.TolerationSeconds = oldTol.TolerationSeconds
			return apiequality.Semantic.DeepEqual(tol, oldTol)
		})
		if !kept {
			return field.ErrorList{field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

func validateOnlyDeletedSchedulingGates(gates, old []corev1.PodSchedulingGate, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, gate := range gates {
		if !slices.ContainsFunc(old, func(o corev1.PodSchedulingGate) bool { return o.Name == gate.Name }) {
			allErrs = append(allErrs, field.Forbidden(fldPath.Index(i).Child("name"),
				fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", gate.Name)))
		}
	}
	return allErrs
}

func validatePodConditions(conditions []corev1.PodCondition, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, condition := range conditions {
		idxPath := fldPath.Index(i)
		if condition.ObservedGeneration < 0 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("observedGeneration"), condition.ObservedGeneration, "must be a non-negative integer"))
		}
		if !systemPodConditions.Has(condition.Type) {
			// Upstream capitalises "Type" in this path.
			allErrs = append(allErrs, invalidEach(idxPath.Child("Type"), string(condition.Type), validation.IsQualifiedName(string(condition.Type)))...)
		}
	}
	return allErrs
}

// validateContainerStateTransitions forbids a terminated container from
// becoming non-terminated unless it may be restarted.
func validateContainerStateTransitions(statuses, oldStatuses []corev1.ContainerStatus, containers []corev1.Container, podPolicy corev1.RestartPolicy, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, oldStatus := range oldStatuses {
		terminated := oldStatus.State.Terminated
		if terminated == nil {
			continue
		}
		for _, status := range statuses {
			if status.Name != oldStatus.Name || status.State.Terminated != nil {
				continue
			}
			if !containerMayRestart(containers, oldStatus.Name, podPolicy, terminated.ExitCode) {
				allErrs = append(allErrs, field.Forbidden(fldPath.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
			break
		}
	}
	return allErrs
}

// containerMayRestart reports whether the kubelet may restart the named
// container after it exited with exitCode: a matching restart rule decides
// first, then the container's restart policy, then the pod's. A container the
// spec does not name may not restart.
func containerMayRestart(containers []corev1.Container, name string, podPolicy corev1.RestartPolicy, exitCode int32) bool {
	i := slices.IndexFunc(containers, func(c corev1.Container) bool { return c.Name == name })
	if i < 0 {
		return false
	}
	ctr := &containers[i]
	if ctr.RestartPolicy != nil {
		if restartRuleMatches(ctr.RestartPolicyRules, exitCode) {
			return true
		}
		switch *ctr.RestartPolicy {
		case corev1.ContainerRestartPolicyAlways:
			return true
		case corev1.ContainerRestartPolicyOnFailure:
			return exitCode != 0
		case corev1.ContainerRestartPolicyNever:
			return false
		}
	}
	switch podPolicy {
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	case corev1.RestartPolicyNever:
		return false
	default: // Always, or unset and so defaulted to Always
		return true
	}
}

// restartRuleMatches reports whether the first rule whose exit codes match
// exitCode asks for a restart.
func restartRuleMatches(rules []corev1.ContainerRestartRule, exitCode int32) bool {
	for _, rule := range rules {
		if rule.ExitCodes == nil {
			continue
		}
		listed := slices.Contains(rule.ExitCodes.Values, exitCode)
		op := rule.ExitCodes.Operator
		if (op == corev1.ContainerRestartRuleOnExitCodesOpIn && listed) || (op == corev1.ContainerRestartRuleOnExitCodesOpNotIn && !listed) {
			return rule.Action == corev1.ContainerRestartRuleActionRestart ||
				rule.Action == corev1.ContainerRestartRuleActionRestartAllContainers
		}
	}
	return false
}

// anyContainerRestartsAll reports whether some container has a rule that
// restarts every container, which lets any container leave the terminated
// state.
func anyContainerRestartsAll(spec *corev1.PodSpec) bool {
	for _, ctrs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, ctr := range ctrs {
			for _, rule := range ctr.RestartPolicyRules {
				if rule.Action == corev1.ContainerRestartRuleActionRestartAllContainers {
					return true
				}
			}
		}
	}
	return false
}

// podIPs folds status.podIP into status.podIPs the way kube-apiserver's
// defaulting does: a set podIP that stands alone or disagrees with
// podIPs[0] wins.
func podIPs(status *corev1.PodStatus) []string {
	if status.PodIP != "" && (len(status.PodIPs) == 0 || status.PodIPs[0].IP != status.PodIP) {
		return []string{status.PodIP}
	}
	ips := make([]string, len(status.PodIPs))
	for i, ip := range status.PodIPs {
		ips[i] = ip.IP
	}
	return ips
}

func hostIPs(status *corev1.PodStatus) []string {
	ips := make([]string, len(status.HostIPs))
	for i, ip := range status.HostIPs {
		ips[i] = ip.IP
	}
	return ips
}

func validatePodIPs(status, old *corev1.PodStatus) field.ErrorList {
	return validateIPList(podIPs(status), podIPs(old), status.PodIPs, statusPath.Child("podIPs"))
}

func validateHostIPs(status, old *corev1.PodStatus) field.ErrorList {
	if len(status.HostIPs) == 0 {
		return nil
	}
	var allErrs field.ErrorList
	hostIPsPath := statusPath.Child("hostIPs")
	if status.HostIP != status.HostIPs[0].IP {
		allErrs = append(allErrs, field.Invalid(hostIPsPath.Index(0).Child("ip"), status.HostIPs[0].IP, "must be equal to `hostIP`"))
	}
	return append(allErrs, validateIPList(hostIPs(status), hostIPs(old), status.HostIPs, hostIPsPath)...)
}

// validateIPList checks that every IP is valid (an invalid IP already stored
// may stay) and that there is at most one IP per family; list is the field's
// value, shown in that error. The families of unparsable IPs are not
// compared: those IPs have their own errors.
func validateIPList(ips, oldIPs []string, list any, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ip := range ips {
		allErrs = append(allErrs, validation.IsValidIPForLegacyField(fldPath.Index(i), ip, true, oldIPs)...)
	}
	if len(ips) > 1 {
		dualStack, err := netutils.IsDualStackIPStrings(ips)
		if len(ips) > 2 || (err == nil && !dualStack) {
			allErrs = append(allErrs, field.Invalid(fldPath, list, "may specify no more than one IP for each IP family"))
		}
	}
	return allErrs
}

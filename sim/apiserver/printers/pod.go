package printers

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
)

// nodeLostReason is the pod status reason the node lifecycle controller sets
// on pods of an unreachable node; such a pod being deleted prints "Unknown".
const nodeLostReason = "NodeLost"

// Row conditions kube-apiserver attaches to finished pods.
var (
	podSucceededConditions = []metav1.TableRowCondition{{
		Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully.",
	}}
	podFailedConditions = []metav1.TableRowCondition{{
		Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(corev1.PodFailed), Message: "The pod failed.",
	}}
)

// PodTable prints *corev1.Pod and *corev1.PodList the way `kubectl get pods`
// shows them: NAME, READY, STATUS, RESTARTS, AGE and, for -o wide, IP, NODE,
// NOMINATED NODE, READINESS GATES.
func PodTable(c clock.PassiveClock) rest.TableConvertor {
	spec := corev1.PodSpec{}.SwaggerDoc()
	status := corev1.PodStatus{}.SwaggerDoc()
	return &table[corev1.Pod, corev1.PodList]{
		kind:  "Pod",
		clock: c,
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
			{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
			{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
			ageColumn(),
			{Name: "IP", Type: "string", Priority: 1, Description: status["podIP"]},
			{Name: "Node", Type: "string", Priority: 1, Description: spec["nodeName"]},
			{Name: "Nominated Node", Type: "string", Priority: 1, Description: status["nominatedNodeName"]},
			{Name: "Readiness Gates", Type: "string", Priority: 1, Description: spec["readinessGates"]},
		},
		row:   podRow,
		items: func(l *corev1.PodList) []corev1.Pod { return l.Items },
	}
}

// restartTally adds up container restarts and remembers the latest time a
// container last terminated.
type restartTally struct {
	count int
	last  time.Time
}

func (r *restartTally) add(s *corev1.ContainerStatus) {
	r.count += int(s.RestartCount)
	if t := s.LastTerminationState.Terminated; t != nil && t.FinishedAt.Time.After(r.last) {
		r.last = t.FinishedAt.Time
	}
}

func podRow(pod *corev1.Pod, a ages) metav1.TableRow {
	row := metav1.TableRow{Object: runtime.RawExtension{Object: pod}}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		row.Conditions = podSucceededConditions
	case corev1.PodFailed:
		row.Conditions = podFailedConditions
	}

	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	// Sidecars (init containers with restartPolicy Always) count as
	// containers of the pod.
	sidecars := map[string]bool{}
	total := len(pod.Spec.Containers)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			total++
		}
	}
	ready := 0

	// Init containers: the first one that has not finished decides the
	// status while the pod initializes.
	var allInit, sidecarInit restartTally
	initializing := false
	for i := range pod.Status.InitContainerStatuses {
		s := &pod.Status.InitContainerStatuses[i]
		allInit.add(s)
		sidecar := sidecars[s.Name]
		if sidecar {
			sidecarInit.add(s)
		}
		if t := s.State.Terminated; t != nil && t.ExitCode == 0 {
			continue
		}
		if sidecar && s.Started != nil && *s.Started {
			if s.Ready {
				ready++
			}
			continue
		}
		initializing = true
		switch {
		case s.State.Terminated != nil:
			reason = "Init:" + terminationReason(s.State.Terminated)
		case s.State.Waiting != nil && s.State.Waiting.Reason != "" && s.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + s.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		break
	}

	restarts := allInit
	if !initializing || podConditionTrue(pod, corev1.PodInitialized) {
		// Only sidecars' restarts count once the pod is initialized.
		restarts = sidecarInit
		running := false
		failedReason := ""
		// Walk backwards so that the first container's state wins.
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			s := &pod.Status.ContainerStatuses[i]
			restarts.add(s)
			switch {
			case s.State.Waiting != nil && s.State.Waiting.Reason != "":
				reason = s.State.Waiting.Reason
			case s.State.Terminated != nil:
				reason = terminationReason(s.State.Terminated)
				if s.State.Terminated.ExitCode != 0 {
					failedReason = reason
				}
			case s.Ready && s.State.Running != nil:
				running = true
				ready++
			}
		}
		// A pod whose first container completed but with others still
		// running is not "Completed".
		if reason == "Completed" {
			switch {
			case running && anyPodConditionTrue(pod, corev1.PodReady):
				reason = "Running"
			case failedReason != "":
				reason = failedReason
			case running:
				reason = "NotReady"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == nodeLostReason:
			reason = "Unknown"
		case pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
			reason = "Terminating"
		}
	}

	restartCell := strconv.Itoa(restarts.count)
	if restarts.count != 0 && !restarts.last.IsZero() {
		restartCell = fmt.Sprintf("%d (%s ago)", restarts.count, a.since(metav1.NewTime(restarts.last)))
	}

	row.Cells = []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", ready, total),
		reason,
		restartCell,
		a.since(pod.CreationTimestamp),
		orNone(podIP(pod)),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		readinessGates(pod),
	}
	return row
}

// terminationReason is the reason a container terminated, or
// "Signal:N" / "ExitCode:N" when it gave none.
func terminationReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	default:
		return fmt.Sprintf("ExitCode:%d", t.ExitCode)
	}
}

// podConditionTrue reports whether the first condition of type t is True.
func podConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// anyPodConditionTrue reports whether some condition of type t is True.
func anyPodConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// podIP is the pod's primary IP. kube-apiserver's defaulting keeps
// status.podIP and status.podIPs[0] in step, podIP winning; nodesim stores
// objects as they come, so the same precedence is applied here.
func podIP(pod *corev1.Pod) string {
	if pod.Status.PodIP != "" {
		return pod.Status.PodIP
	}
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs[0].IP
	}
	return ""
}

// readinessGates is "<true gates>/<gates>", or "<none>" without gates. A
// gate counts when the first condition of its type is True.
func readinessGates(pod *corev1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	met := 0
	for _, g := range pod.Spec.ReadinessGates {
		if podConditionTrue(pod, g.ConditionType) {
			met++
		}
	}
	return fmt.Sprintf("%d/%d", met, len(pod.Spec.ReadinessGates))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

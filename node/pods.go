package node

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/sim"
)

// podStopDelay is how long a container takes to exit after SIGTERM,
// within the pod's grace period.
const podStopDelay = time.Second

// Admission failure reasons, as the kubelet names them.
const (
	reasonOutOfPods = "OutOfpods"
)

// podRecord is what the kubelet tracks of a pod it admitted.
type podRecord struct {
	pod      *corev1.Pod
	requests corev1.ResourceList
	stopping bool
	// sandboxID and containers (by name) are the runtime's IDs.
	sandboxID  string
	containers map[string]string
}

// HandlePod is the kubelet's pod config source: a pod bound to this node
// was added or changed. It runs on the kubelet's timeline.
func (k *Kubelet) HandlePod(pod *corev1.Pod) {
	if k.en == nil || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return
	}
	rec, known := k.pods[pod.UID]
	if !known {
		if pod.DeletionTimestamp != nil {
			k.en.Go(k.en.Now(), "pod-delete", func(p *sim.Proc) { k.deletePod(pod) })
			return
		}
		if reason, message, ok := k.admit(pod); !ok {
			k.en.Go(k.en.Now(), "pod-reject", func(p *sim.Proc) { k.rejectPod(pod, reason, message) })
			return
		}
		rec = &podRecord{pod: pod, requests: podRequests(pod)}
		k.pods[pod.UID] = rec
		k.en.Go(k.en.Now(), "pod-start", func(p *sim.Proc) { k.startPod(p, rec) })
		return
	}
	rec.pod = pod
	if pod.DeletionTimestamp != nil && !rec.stopping {
		rec.stopping = true
		grace := int64(0)
		if pod.DeletionGracePeriodSeconds != nil {
			grace = *pod.DeletionGracePeriodSeconds
		}
		stop := min(podStopDelay, time.Duration(grace)*time.Second)
		k.en.Go(k.en.Now(), "pod-stop", func(p *sim.Proc) {
			p.Sleep(stop)
			k.killPod(rec, grace)
			k.deletePod(rec.pod)
		})
	}
}

// HandlePodDeleted forgets a pod that is gone from the API server.
func (k *Kubelet) HandlePodDeleted(pod *corev1.Pod) {
	k.forgetPod(pod.UID)
}

// forgetPod drops a pod and frees its devices.
func (k *Kubelet) forgetPod(uid types.UID) {
	delete(k.pods, uid)
	if k.cfg.Devices != nil {
		k.cfg.Devices.Release(string(uid))
	}
}

// admit runs the kubelet's pod admission handlers in the kubelet's order:
// the sysctl allowlist, the device manager's allocation, then the
// resource fit (GeneralPredicates).
func (k *Kubelet) admit(pod *corev1.Pod) (reason, message string, ok bool) {
	if ok, reason, message := k.set.sysctls.Admit(pod); !ok {
		return reason, message, false
	}
	if k.cfg.Devices != nil {
		if reason, message, ok := k.cfg.Devices.Admit(k.ctx(), pod); !ok {
			return reason, message, false
		}
	}
	reason, message, ok = k.fits(pod)
	if !ok && k.cfg.Devices != nil {
		k.cfg.Devices.Release(string(pod.UID))
	}
	return reason, message, ok
}

// fits is the resource part of GeneralPredicates: the pod must fit in what
// the admitted pods leave of allocatable, resource by resource.
func (k *Kubelet) fits(pod *corev1.Pod) (reason, message string, ok bool) {
	allocatable := k.allocatable()
	used := corev1.ResourceList{}
	count := int64(0)
	for _, rec := range k.pods {
		count++
		for name, q := range rec.requests {
			v := used[name]
			v.Add(q)
			used[name] = v
		}
	}
	if allowed := allocatable.Pods().Value(); count+1 > allowed {
		return reasonOutOfPods, insufficient(corev1.ResourcePods, 1, count, allowed), false
	}
	requests := podRequests(pod)
	names := make([]corev1.ResourceName, 0, len(requests))
	for name := range requests {
		names = append(names, name)
	}
	// cpu and memory first, as the scheduler's fit plugin checks them,
	// then the rest in name order.
	slices.SortFunc(names, func(a, b corev1.ResourceName) int {
		return cmp.Or(cmp.Compare(resourceRank(a), resourceRank(b)), cmp.Compare(a, b))
	})
	for _, name := range names {
		req := requests[name]
		if req.IsZero() || name == corev1.ResourcePods {
			continue
		}
		value := (*resource.Quantity).Value
		if name == corev1.ResourceCPU {
			value = (*resource.Quantity).MilliValue
		}
		capacity, u := allocatable[name], used[name]
		if value(&req)+value(&u) > value(&capacity) {
			return "OutOf" + string(name), insufficient(name, value(&req), value(&u), value(&capacity)), false
		}
	}
	return "", "", true
}

func resourceRank(name corev1.ResourceName) int {
	switch name {
	case corev1.ResourceCPU:
		return 0
	case corev1.ResourceMemory:
		return 1
	}
	return 2
}

func insufficient(name corev1.ResourceName, requested, used, capacity int64) string {
	return fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d", name, requested, used, capacity)
}

// podRequests is what a pod asks for: the sum of its containers' requests,
// or its largest init container's where that is more.
func podRequests(pod *corev1.Pod) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		for name, q := range c.Resources.Requests {
			v := out[name]
			v.Add(q)
			out[name] = v
		}
	}
	for _, c := range pod.Spec.InitContainers {
		for name, q := range c.Resources.Requests {
			if v, ok := out[name]; !ok || q.Cmp(v) > 0 {
				out[name] = q.DeepCopy()
			}
		}
	}
	return out
}

// rejectPod fails a pod the node cannot run, as the kubelet does.
func (k *Kubelet) rejectPod(pod *corev1.Pod, reason, message string) {
	k.event(pod, corev1.EventTypeWarning, reason, message)
	status := corev1.PodStatus{Phase: corev1.PodFailed, Reason: reason, Message: "Pod was rejected: " + message, QOSClass: pod.Status.QOSClass}
	if err := k.patchPodStatus(pod, status); err != nil {
		return
	}
	k.en.Trace(sim.Record{Event: sim.EventPodRejected, Pod: pod.Namespace + "/" + pod.Name, Node: k.cfg.Name, Reason: reason})
}

// deletePod finishes a graceful delete once the containers stopped: the
// kubelet deletes the pod with grace period 0.
func (k *Kubelet) deletePod(pod *corev1.Pod) {
	uid := pod.UID
	err := k.clients.Core.Pods(pod.Namespace).Delete(k.ctx(), pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err == nil && k.observer != nil {
		k.observer.Gone(k.en, "pods", pod.Namespace, pod.Name)
	}
	k.forgetPod(uid)
}

// patchPodStatus posts status as a strategic-merge patch of pods/status
// with the pod's UID as precondition, as the kubelet's status manager does.
func (k *Kubelet) patchPodStatus(pod *corev1.Pod, status corev1.PodStatus) error {
	oldData, err := json.Marshal(corev1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newData, err := json.Marshal(corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: pod.UID}, Status: status})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Pod{})
	if err != nil {
		return err
	}
	updated, err := k.clients.Core.Pods(pod.Namespace).Patch(k.ctx(), pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return err
	}
	if rec, ok := k.pods[pod.UID]; ok {
		rec.pod = updated
	}
	k.wrote("pods", updated)
	return nil
}

func setPodCondition(status *corev1.PodStatus, c corev1.PodCondition) {
	for i := range status.Conditions {
		if status.Conditions[i].Type == c.Type {
			if status.Conditions[i].Status == c.Status {
				c.LastTransitionTime = status.Conditions[i].LastTransitionTime
			}
			status.Conditions[i] = c
			return
		}
	}
	status.Conditions = append(status.Conditions, c)
}

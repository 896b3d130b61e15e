package controlplane

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/util/pod"

	"github.com/nodesim/nodesim/sim"
)

// Taint eviction's condition on the pods it deletes.
const (
	reasonDeletionByTaintManager = "DeletionByTaintManager"
	messageTaintManager          = "Taint manager: deleting due to NoExecute taint"
)

// TaintEviction is the taint eviction controller: it deletes the pods of a
// node with a NoExecute taint they do not tolerate at once, and those that
// tolerate it for a while after the shortest tolerationSeconds, counted
// from when it saw the taint; a timer is cancelled when the taint goes.
type TaintEviction struct {
	env    *Env
	taints map[string][]corev1.Taint // the NoExecute taints last seen, by node
	timers map[string]*evictionTimer // by pod namespace/name
}

type evictionTimer struct {
	created, trigger time.Time
	cancelled        bool
}

// NewTaintEviction returns the controller.
func NewTaintEviction(env *Env) *TaintEviction {
	return &TaintEviction{env: env, taints: map[string][]corev1.Taint{}, timers: map[string]*evictionTimer{}}
}

// Reset forgets the taints seen and cancels every timer, as a new
// controller instance starts.
func (c *TaintEviction) Reset() {
	for key := range c.timers {
		c.cancel(key)
	}
	c.taints = map[string][]corev1.Taint{}
}

// NodeChanged looks at a node whose taints may have changed.
func (c *TaintEviction) NodeChanged(now time.Time, node *corev1.Node) {
	var noExecute []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			noExecute = append(noExecute, t)
		}
	}
	if sameTaints(c.taints[node.Name], noExecute) {
		return
	}
	c.taints[node.Name] = noExecute
	pods := c.env.PodsOnNode(node.Name)
	sort.Slice(pods, func(i, j int) bool { return podKey(pods[i]) < podKey(pods[j]) })
	for _, pod := range pods {
		c.process(now, pod, noExecute)
	}
}

// PodChanged looks at a pod that was bound or changed.
func (c *TaintEviction) PodChanged(now time.Time, pod *corev1.Pod) {
	if pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
		c.cancel(podKey(pod))
		return
	}
	c.process(now, pod, c.taints[pod.Spec.NodeName])
}

func (c *TaintEviction) process(now time.Time, pod *corev1.Pod, taints []corev1.Taint) {
	key := podKey(pod)
	if len(taints) == 0 || pod.DeletionTimestamp != nil {
		c.cancel(key)
		return
	}
	wait, tolerated := minTolerationTime(taints, pod.Spec.Tolerations)
	if !tolerated {
		c.cancel(key)
		c.evict(now, pod)
		return
	}
	if wait < 0 {
		c.cancel(key)
		return
	}
	trigger := now.Add(wait)
	if t, ok := c.timers[key]; ok && !t.cancelled {
		if t.created.Add(wait).Before(trigger) {
			return
		}
		c.cancel(key)
	}
	if !trigger.After(now) {
		c.evict(now, pod)
		return
	}
	timer := &evictionTimer{created: now, trigger: trigger}
	c.timers[key] = timer
	ns, name := pod.Namespace, pod.Name
	c.env.Engine.At(trigger, func(at time.Time) {
		if timer.cancelled {
			return
		}
		delete(c.timers, key)
		if current, err := c.env.Pods.Pods(ns).Get(name); err == nil && current.DeletionTimestamp == nil {
			c.evict(at, current)
		}
	})
}

func (c *TaintEviction) cancel(key string) {
	if t, ok := c.timers[key]; ok {
		t.cancelled = true
		delete(c.timers, key)
	}
}

// evict marks the pod a disruption target and deletes it (gracefully: its
// kubelet finishes the delete).
func (c *TaintEviction) evict(now time.Time, pod *corev1.Pod) {
	p := pod.DeepCopy()
	cond := findPodCondition(p.Status.Conditions, corev1.DisruptionTarget)
	if cond == nil {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget})
		cond = &p.Status.Conditions[len(p.Status.Conditions)-1]
	}
	cond.Status, cond.Reason, cond.Message = corev1.ConditionTrue, reasonDeletionByTaintManager, messageTaintManager
	cond.LastTransitionTime = metav1.NewTime(now)
	// A patch of pods/status, as upstream's (the bootstrap role of the
	// taint eviction controller may patch pod status, not update it).
	if updated, _, _, err := podutil.PatchPodStatus(c.env.ctx(), c.env.Client, p.Namespace, p.Name, p.UID, pod.Status, p.Status); err == nil {
		c.env.wrote("pods", updated)
	}
	if err := c.env.Client.CoreV1().Pods(p.Namespace).Delete(c.env.ctx(), p.Name, metav1.DeleteOptions{}); err != nil {
		return
	}
	if terminating, err := c.env.Client.CoreV1().Pods(p.Namespace).Get(c.env.ctx(), p.Name, metav1.GetOptions{}); err == nil {
		c.env.wrote("pods", terminating)
	} else if c.env.Gone != nil {
		c.env.Gone("pods", p.Namespace, p.Name)
	}
	c.env.Engine.Trace(sim.Record{Event: sim.EventPodEvicted, Pod: podKey(pod), Node: pod.Spec.NodeName, Reason: reasonDeletionByTaintManager})
}

// minTolerationTime is the shortest tolerationSeconds among the
// tolerations used for the taints (-1: forever), and whether every taint is
// tolerated. As upstream, each taint is tolerated by the first toleration
// that matches it; later ones do not count.
func minTolerationTime(taints []corev1.Taint, tolerations []corev1.Toleration) (time.Duration, bool) {
	min := time.Duration(-1)
	for _, taint := range taints {
		var used *corev1.Toleration
		for i := range tolerations {
			if tolerates(tolerations[i], taint) {
				used = &tolerations[i]
				break
			}
		}
		if used == nil {
			return 0, false
		}
		if used.TolerationSeconds == nil {
			continue
		}
		d := time.Duration(max(*used.TolerationSeconds, 0)) * time.Second
		if min < 0 || d < min {
			min = d
		}
	}
	return min, true
}

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

// tolerates is corev1.Toleration.ToleratesTaint without comparison
// operators (an alpha feature, off by default).
func tolerates(tol corev1.Toleration, taint corev1.Taint) bool {
	return tol.ToleratesTaint(klog.Background(), &taint, false)
}

package controlplane

import (
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodesim/nodesim/sim"
)

// DefaultSchedulerName is the scheduler pods name by default.
const DefaultSchedulerName = "default-scheduler"

// Scheduler binds pending pods to nodes, honouring what the default
// scheduler's filters check for these pods: spec.unschedulable, taints and
// tolerations (NoSchedule and NoExecute), nodeSelector, and the requests
// and pod count that fit in allocatable. Among the nodes that fit it
// prefers the least allocated (NodeResourcesFit's default score), then the
// one with fewer pods, then the first by name: deterministic.
type Scheduler struct {
	env *Env
}

// NewScheduler returns the scheduler.
func NewScheduler(env *Env) *Scheduler { return &Scheduler{env: env} }

type nodeUse struct {
	node               *corev1.Node
	cpu, mem, podCount int64
	allocCPU, allocMem int64
	allocPods          int64
}

// Schedule binds every pending pod that fits somewhere.
func (s *Scheduler) Schedule() {
	all, err := s.env.Pods.List(labels.Everything())
	if err != nil {
		return
	}
	if !slices.ContainsFunc(all, isPending) {
		return // the usual barrier: nothing to place, no need to tally nodes
	}
	nodes, err := s.env.Nodes.List(labels.Everything())
	if err != nil || len(nodes) == 0 {
		return
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	use := make(map[string]*nodeUse, len(nodes))
	order := make([]*nodeUse, 0, len(nodes))
	for _, n := range nodes {
		u := &nodeUse{node: n,
			allocCPU:  n.Status.Allocatable.Cpu().MilliValue(),
			allocMem:  n.Status.Allocatable.Memory().Value(),
			allocPods: n.Status.Allocatable.Pods().Value(),
		}
		use[n.Name] = u
		order = append(order, u)
	}
	var pending []*corev1.Pod
	for _, p := range all {
		if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
			continue
		}
		if p.Spec.NodeName == "" {
			if isPending(p) {
				pending = append(pending, p)
			}
			continue
		}
		if u, ok := use[p.Spec.NodeName]; ok {
			cpu, mem := requests(p)
			u.cpu, u.mem, u.podCount = u.cpu+cpu, u.mem+mem, u.podCount+1
		}
	}
	sortPods(pending)
	type binding struct {
		pod  *corev1.Pod
		node string
	}
	var bindings []binding
	for _, p := range pending {
		cpu, mem := requests(p)
		var best *nodeUse
		bestScore := -1.0
		for _, u := range order {
			if !fits(p, u, cpu, mem) {
				continue
			}
			score := leastAllocated(u, cpu, mem)
			if best == nil || score > bestScore || (score == bestScore && u.podCount < best.podCount) {
				best, bestScore = u, score
			}
		}
		if best == nil {
			continue
		}
		best.cpu, best.mem, best.podCount = best.cpu+cpu, best.mem+mem, best.podCount+1
		bindings = append(bindings, binding{pod: p, node: best.node.Name})
	}
	ok := make([]*corev1.Pod, len(bindings))
	parallel(len(bindings), func(i int) {
		b := bindings[i]
		err := s.env.Client.CoreV1().Pods(b.pod.Namespace).Bind(s.env.ctx(), &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: b.pod.Name, UID: b.pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: b.node},
		}, metav1.CreateOptions{})
		if err != nil {
			return
		}
		if bound, err := s.env.Client.CoreV1().Pods(b.pod.Namespace).Get(s.env.ctx(), b.pod.Name, metav1.GetOptions{}); err == nil {
			ok[i] = bound
		}
	})
	for i, b := range bindings {
		if ok[i] == nil {
			continue
		}
		s.env.wrote("pods", ok[i])
		s.env.Engine.Trace(sim.Record{Event: sim.EventPodBound, Pod: podKey(b.pod), Node: b.node})
	}
}

// requests is what the pod needs on a node: its containers' requests, or
// an init container's where that is more, plus the pod overhead.
// isPending says whether the pod waits for this scheduler to place it.
func isPending(p *corev1.Pod) bool {
	return p.Spec.NodeName == "" && p.DeletionTimestamp == nil &&
		p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded &&
		(p.Spec.SchedulerName == "" || p.Spec.SchedulerName == DefaultSchedulerName)
}

func requests(p *corev1.Pod) (cpu, mem int64) {
	for _, c := range p.Spec.Containers {
		cpu += c.Resources.Requests.Cpu().MilliValue()
		mem += c.Resources.Requests.Memory().Value()
	}
	for _, c := range p.Spec.InitContainers {
		cpu = max(cpu, c.Resources.Requests.Cpu().MilliValue())
		mem = max(mem, c.Resources.Requests.Memory().Value())
	}
	cpu += p.Spec.Overhead.Cpu().MilliValue()
	mem += p.Spec.Overhead.Memory().Value()
	return cpu, mem
}

// fits is the scheduler's filters for one node.
func fits(p *corev1.Pod, u *nodeUse, cpu, mem int64) bool {
	n := u.node
	if u.podCount+1 > u.allocPods || u.cpu+cpu > u.allocCPU || u.mem+mem > u.allocMem {
		return false
	}
	for k, v := range p.Spec.NodeSelector {
		if n.Labels[k] != v {
			return false
		}
	}
	if n.Spec.Unschedulable && !toleratesAny(p.Spec.Tolerations, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !toleratesAny(p.Spec.Tolerations, t) {
			return false
		}
	}
	return true
}

func toleratesAny(tolerations []corev1.Toleration, t corev1.Taint) bool {
	for _, tol := range tolerations {
		if tolerates(tol, t) {
			return true
		}
	}
	return false
}

// leastAllocated is the share of cpu and memory left after placing the pod.
func leastAllocated(u *nodeUse, cpu, mem int64) float64 {
	share := func(used, alloc int64) float64 {
		if alloc <= 0 {
			return 0
		}
		return float64(alloc-used) / float64(alloc)
	}
	return (share(u.cpu+cpu, u.allocCPU) + share(u.mem+mem, u.allocMem)) / 2
}

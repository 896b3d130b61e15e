package controlplane

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// WorkloadLabel marks the pods of a scenario workload with its name.
const WorkloadLabel = "nodesim.dev/workload"

// writers is how many API writes a controller makes at once.
const writers = 32

// Workload is a scenario workload: replicas pods from a template.
type Workload struct {
	Name      string
	Namespace string
	Replicas  int
	Template  corev1.PodTemplateSpec
}

// Workloads keeps each workload at its replica count, as a ReplicaSet
// does: pods that are terminating, failed or gone are replaced. Pods are
// named <name>-<index>; a replacement takes the lowest index not in use.
type Workloads struct {
	env  *Env
	list []Workload
}

// NewWorkloads returns the controller for the scenario's workloads.
func NewWorkloads(env *Env, list []Workload) *Workloads {
	return &Workloads{env: env, list: list}
}

// Sync creates the pods missing from each workload.
func (c *Workloads) Sync() {
	var toCreate []*corev1.Pod
	for _, w := range c.list {
		pods, err := c.env.Pods.Pods(w.Namespace).List(labels.SelectorFromSet(labels.Set{WorkloadLabel: w.Name}))
		if err != nil {
			continue
		}
		used := map[int]bool{}
		active := 0
		for _, p := range pods {
			if i, ok := podIndex(w.Name, p.Name); ok {
				used[i] = true
			}
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
				active++
			}
		}
		for i := 0; active < w.Replicas; i++ {
			if used[i] {
				continue
			}
			toCreate = append(toCreate, c.newPod(w, i))
			active++
		}
	}
	created := make([]*corev1.Pod, len(toCreate))
	parallel(len(toCreate), func(i int) {
		p := toCreate[i]
		if out, err := c.env.Client.CoreV1().Pods(p.Namespace).Create(c.env.ctx(), p, metav1.CreateOptions{}); err == nil {
			created[i] = out
		}
	})
	for _, p := range created {
		if p != nil {
			c.env.wrote("pods", p)
		}
	}
}

func (c *Workloads) newPod(w Workload, index int) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: *w.Template.ObjectMeta.DeepCopy(),
		Spec:       *w.Template.Spec.DeepCopy(),
	}
	pod.Name = fmt.Sprintf("%s-%d", w.Name, index)
	pod.Namespace = w.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[WorkloadLabel] = w.Name
	return pod
}

func podIndex(workload, pod string) (int, bool) {
	rest, ok := strings.CutPrefix(pod, workload+"-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil
}

// parallel runs fn for 0..n-1 on a few workers; callers order any traced
// results themselves.
func parallel(n int, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(writers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// sortPods orders pods by namespace, then workload name and index, then
// name, so that web-2 comes before web-10.
func sortPods(pods []*corev1.Pod) {
	sort.Slice(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		wa, wb := a.Labels[WorkloadLabel], b.Labels[WorkloadLabel]
		if wa != wb {
			return wa < wb
		}
		ia, oka := podIndex(wa, a.Name)
		ib, okb := podIndex(wb, b.Name)
		if oka && okb && ia != ib {
			return ia < ib
		}
		return a.Name < b.Name
	})
}

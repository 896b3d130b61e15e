package controlplane

import (
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func webTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
		}}},
	}
}

// podNames are the names of the workload's pods in the informer, sorted.
func (h *harness) podNames(namespace, workload string) []string {
	var out []string
	for _, o := range h.pods.List() {
		p := o.(*corev1.Pod)
		if p.Namespace == namespace && p.Labels[WorkloadLabel] == workload {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}

func (h *harness) podCreates() int {
	n := 0
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource == "pods" && a.GetSubresource() == "" {
			n++
		}
	}
	return n
}

func TestWorkloadsCreatesReplicas(t *testing.T) {
	h := newHarness(t)
	tmpl := webTemplate()
	w := NewWorkloads(h.env, []Workload{
		{Name: "web", Namespace: "shop", Replicas: 12, Template: tmpl},
		{Name: "web-api", Namespace: "shop", Replicas: 2, Template: webTemplate()},
		{Name: "web", Namespace: "other", Replicas: 1, Template: webTemplate()},
	})
	w.Sync()
	var want []string
	for i := range 12 {
		want = append(want, fmt.Sprintf("web-%d", i))
	}
	sort.Strings(want)
	wantStrings(t, "shop/web", h.podNames("shop", "web"), want)
	wantStrings(t, "shop/web-api", h.podNames("shop", "web-api"), []string{"web-api-0", "web-api-1"})
	wantStrings(t, "other/web", h.podNames("other", "web"), []string{"web-0"})
	p, _ := h.pod("shop", "web-3")
	if p.Labels[WorkloadLabel] != "web" || p.Labels["app"] != "web" {
		t.Errorf("labels %v, want the template's and %s=web", p.Labels, WorkloadLabel)
	}
	if p.Spec.Containers[0].Image != "registry.k8s.io/pause:3.10" || p.Spec.NodeName != "" {
		t.Errorf("spec %+v, want the template's, unbound", p.Spec)
	}
	if _, ok := tmpl.Labels[WorkloadLabel]; ok {
		t.Error("the template was modified")
	}
	fromAPI, err := h.client.CoreV1().Pods("shop").Get(t.Context(), "web-11", metav1.GetOptions{})
	if err != nil || fromAPI.Labels[WorkloadLabel] != "web" {
		t.Errorf("API pod %v (%v)", fromAPI, err)
	}
	creates := h.podCreates()
	w.Sync()
	if got := h.podCreates(); got != creates {
		t.Errorf("a second sync created %d pods, want none", got-creates)
	}
}

// Pods deleted, terminating, failed or succeeded are replaced, each
// replacement taking the lowest index not in use by any pod still there.
func TestWorkloadsReplacesPods(t *testing.T) {
	h := newHarness(t)
	w := NewWorkloads(h.env, []Workload{{Name: "web", Namespace: "shop", Replicas: 4, Template: webTemplate()}})
	w.Sync()

	mutate := func(name string, fn func(p *corev1.Pod)) {
		p, ok := h.pod("shop", name)
		if !ok {
			t.Fatalf("pod %s missing", name)
		}
		p = p.DeepCopy()
		fn(p)
		h.wrote("pods", p)
	}
	remove := func(name string) {
		if err := h.client.CoreV1().Pods("shop").Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		h.gone("pods", "shop", name)
	}
	// web-1 deleted: its index is free again.
	remove("web-1")
	w.Sync()
	wantStrings(t, "after a delete", h.podNames("shop", "web"), []string{"web-0", "web-1", "web-2", "web-3"})

	// web-0 terminating: still there, so index 0 is in use.
	mutate("web-0", func(p *corev1.Pod) { p.DeletionTimestamp = ptr(metav1.NewTime(h.at(time.Minute))) })
	w.Sync()
	wantStrings(t, "after terminating", h.podNames("shop", "web"), []string{"web-0", "web-1", "web-2", "web-3", "web-4"})

	// web-2 failed, web-3 succeeded.
	mutate("web-2", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })
	mutate("web-3", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })
	w.Sync()
	wantStrings(t, "after failed and succeeded", h.podNames("shop", "web"),
		[]string{"web-0", "web-1", "web-2", "web-3", "web-4", "web-5", "web-6"})

	// The terminating pod goes: index 0 is free, but 4 replicas are active.
	remove("web-0")
	w.Sync()
	wantStrings(t, "after the terminating pod went", h.podNames("shop", "web"),
		[]string{"web-1", "web-2", "web-3", "web-4", "web-5", "web-6"})

	// A running pod goes: the lowest free index, 0, is taken.
	remove("web-5")
	w.Sync()
	wantStrings(t, "after web-5 went", h.podNames("shop", "web"),
		[]string{"web-0", "web-1", "web-2", "web-3", "web-4", "web-6"})
}

func TestPodIndexAndSortPods(t *testing.T) {
	for _, tc := range []struct {
		workload, pod string
		i             int
		ok            bool
	}{
		{"web", "web-0", 0, true},
		{"web", "web-12", 12, true},
		{"web", "web-api-0", 0, false},
		{"web", "webx-1", 0, false},
		{"web", "web", 0, false},
	} {
		i, ok := podIndex(tc.workload, tc.pod)
		if i != tc.i || ok != tc.ok {
			t.Errorf("podIndex(%q, %q) = %d %v, want %d %v", tc.workload, tc.pod, i, ok, tc.i, tc.ok)
		}
	}
	pod := func(ns, workload, name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{WorkloadLabel: workload}}}
	}
	pods := []*corev1.Pod{
		pod("b", "web", "web-0"), pod("a", "web", "web-10"), pod("a", "web", "web-2"),
		pod("a", "api", "api-1"), pod("a", "", "loose"), pod("a", "web", "web-1"),
	}
	sortPods(pods)
	var got []string
	for _, p := range pods {
		got = append(got, p.Namespace+"/"+p.Name)
	}
	wantStrings(t, "order", got, []string{"a/loose", "a/api-1", "a/web-1", "a/web-2", "a/web-10", "b/web-0"})
}

func TestParallelRunsEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, writers, 3*writers + 5} {
		seen := make([]int, n)
		parallel(n, func(i int) { seen[i]++ })
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, c)
			}
		}
	}
}

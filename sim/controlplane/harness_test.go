package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	coordinationv1listers "k8s.io/client-go/listers/coordination/v1"
	corev1listers "k8s.io/client-go/listers/core/v1"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/nodesim/nodesim/sim"
)

// The harness stands in for a run's world: a fake clientset takes the
// controllers' writes, and indexers play the informers, kept in step with
// every write (Env.Wrote / Env.Gone) as the run's watches are before the
// next barrier. Kubelets are simulated by barrier functions that renew
// leases and post node status at chosen virtual times.

const podNodeNameIndex = "spec.nodeName"

var (
	podsGVR = corev1.SchemeGroupVersion.WithResource("pods")
	podGVK  = corev1.SchemeGroupVersion.WithKind("Pod")
)

// taintChange is a taint that appeared on or left a node with a write, at
// the virtual time (since the start) of the write.
type taintChange struct {
	T      time.Duration
	Node   string
	Key    string
	Effect corev1.TaintEffect
	Added  bool
}

type harness struct {
	t      *testing.T
	engine *sim.Engine
	client *fake.Clientset
	nodes  cache.Indexer
	leases cache.Indexer
	pods   cache.Indexer
	env    *Env
	trace  *bytes.Buffer

	mu       sync.Mutex
	taintLog []taintChange
	// onNode hears every node write, as the run's observer hands them to
	// the taint eviction controller.
	onNode func(now time.Time, n *corev1.Node)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	trace := &bytes.Buffer{}
	e, err := sim.New(sim.Config{Seed: 1, Trace: trace})
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	client := fake.NewClientset()
	tracker := client.Tracker()
	// The fake replaces the whole object on a status update; the API server
	// keeps spec and metadata. Model the status subresource.
	client.PrependReactor("update", "*", func(action clienttesting.Action) (bool, runtime.Object, error) {
		upd, ok := action.(clienttesting.UpdateAction)
		if !ok || upd.GetSubresource() != "status" {
			return false, nil, nil
		}
		m, err := meta.Accessor(upd.GetObject())
		if err != nil {
			return true, nil, err
		}
		gvr, ns := action.GetResource(), action.GetNamespace()
		stored, err := tracker.Get(gvr, ns, m.GetName())
		if err != nil {
			return true, nil, err
		}
		switch s := stored.(type) {
		case *corev1.Node:
			s.Status = *upd.GetObject().(*corev1.Node).Status.DeepCopy()
		case *corev1.Pod:
			s.Status = *upd.GetObject().(*corev1.Pod).Status.DeepCopy()
		default:
			return false, nil, nil
		}
		if err := tracker.Update(gvr, stored, ns); err != nil {
			return true, nil, err
		}
		out, err := tracker.Get(gvr, ns, m.GetName())
		return true, out, err
	})
	// The fake does not implement pods/binding (and takes the namespace
	// from the Binding object, which the real client takes from the URL).
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		create, ok := action.(clienttesting.CreateAction)
		if !ok || action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := create.GetObject().(*corev1.Binding)
		ns := action.GetNamespace()
		if ns == "" {
			ns = b.Namespace
		}
		var pod *corev1.Pod
		if ns != "" {
			obj, err := tracker.Get(podsGVR, ns, b.Name)
			if err != nil {
				return true, nil, err
			}
			pod = obj.(*corev1.Pod)
		} else {
			list, err := tracker.List(podsGVR, podGVK, "")
			if err != nil {
				return true, nil, err
			}
			for i := range list.(*corev1.PodList).Items {
				p := &list.(*corev1.PodList).Items[i]
				if p.Name == b.Name && (b.UID == "" || p.UID == b.UID) {
					if pod != nil {
						return true, nil, fmt.Errorf("harness: binding %s matches pods in several namespaces", b.Name)
					}
					pod = p.DeepCopy()
				}
			}
			if pod == nil {
				return true, nil, apierrors.NewNotFound(podsGVR.GroupResource(), b.Name)
			}
		}
		if pod.Spec.NodeName != "" {
			return true, nil, apierrors.NewConflict(podsGVR.GroupResource(), b.Name, fmt.Errorf("pod is already assigned to node %q", pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		if err := tracker.Update(podsGVR, pod, pod.Namespace); err != nil {
			return true, nil, err
		}
		return true, b, nil
	})

	h := &harness{
		t: t, engine: e, client: client, trace: trace,
		nodes:  cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		leases: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		pods: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{
			cache.NamespaceIndex: cache.MetaNamespaceIndexFunc,
			podNodeNameIndex: func(obj any) ([]string, error) {
				if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
					return []string{p.Spec.NodeName}, nil
				}
				return nil, nil
			},
		}),
	}
	h.env = &Env{
		Client:     client,
		Nodes:      corev1listers.NewNodeLister(h.nodes),
		Leases:     coordinationv1listers.NewLeaseLister(h.leases),
		Pods:       corev1listers.NewPodLister(h.pods),
		PodsOnNode: h.podsOnNode,
		Engine:     e,
		Wrote:      h.wrote,
		Gone:       h.gone,
	}
	return h
}

// at is the virtual time d after the start.
func (h *harness) at(d time.Duration) time.Time { return h.engine.Start().Add(d) }

// since is the virtual time since the start.
func (h *harness) since(t time.Time) time.Duration { return t.Sub(h.engine.Start()) }

// runTo runs the engine to d after the start (barriers at d included).
func (h *harness) runTo(d time.Duration) {
	h.t.Helper()
	if err := h.engine.Run(context.Background(), h.at(d)); err != nil {
		h.t.Fatalf("run to %v: %v", d, err)
	}
}

// barrier runs fn at the barrier d after the start.
func (h *harness) barrier(d time.Duration, fn func(now time.Time)) { h.engine.At(h.at(d), fn) }

func (h *harness) podsOnNode(node string) []*corev1.Pod {
	objs, err := h.pods.ByIndex(podNodeNameIndex, node)
	if err != nil {
		h.t.Errorf("pods on %s: %v", node, err)
		return nil
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	sort.Slice(out, func(i, j int) bool { return podKey(out[i]) < podKey(out[j]) })
	return out
}

// wrote is Env.Wrote: the watch delivering a write before the next barrier.
func (h *harness) wrote(resource string, obj metav1.Object) {
	switch resource {
	case "nodes":
		n := obj.(*corev1.Node).DeepCopy()
		h.logTaints(n)
		if err := h.nodes.Update(n); err != nil {
			h.t.Errorf("indexer: %v", err)
		}
		if h.onNode != nil {
			h.onNode(h.engine.Now(), n)
		}
	case "pods":
		if err := h.pods.Update(obj.(*corev1.Pod).DeepCopy()); err != nil {
			h.t.Errorf("indexer: %v", err)
		}
	case "leases":
		if err := h.leases.Update(obj.(*coordinationv1.Lease).DeepCopy()); err != nil {
			h.t.Errorf("indexer: %v", err)
		}
	default:
		h.t.Errorf("Wrote(%q): unexpected resource", resource)
	}
}

// gone is Env.Gone.
func (h *harness) gone(resource, namespace, name string) {
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	var idx cache.Indexer
	switch resource {
	case "nodes":
		idx = h.nodes
	case "pods":
		idx = h.pods
	case "leases":
		idx = h.leases
	default:
		h.t.Errorf("Gone(%q): unexpected resource", resource)
		return
	}
	obj, ok, err := idx.GetByKey(key)
	if err != nil || !ok {
		return
	}
	if err := idx.Delete(obj); err != nil {
		h.t.Errorf("indexer: %v", err)
	}
}

func (h *harness) logTaints(n *corev1.Node) {
	var before []corev1.Taint
	if old, ok, _ := h.nodes.GetByKey(n.Name); ok {
		before = old.(*corev1.Node).Spec.Taints
	}
	now := h.since(h.engine.Now())
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range n.Spec.Taints {
		if !hasTaint(before, t) {
			h.taintLog = append(h.taintLog, taintChange{T: now, Node: n.Name, Key: t.Key, Effect: t.Effect, Added: true})
		}
	}
	for _, t := range before {
		if !hasTaint(n.Spec.Taints, t) {
			h.taintLog = append(h.taintLog, taintChange{T: now, Node: n.Name, Key: t.Key, Effect: t.Effect})
		}
	}
}

// taintTimes is when the taint was added (or removed) on the node.
func (h *harness) taintTimes(node, key string, effect corev1.TaintEffect, added bool) []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Duration
	for _, c := range h.taintLog {
		if c.Node == node && c.Key == key && c.Effect == effect && c.Added == added {
			out = append(out, c.T)
		}
	}
	return out
}

// taintsAdded are the additions of the taint with key and effect, in order.
func (h *harness) taintsAdded(key string, effect corev1.TaintEffect) []taintChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []taintChange
	for _, c := range h.taintLog {
		if c.Key == key && c.Effect == effect && c.Added {
			out = append(out, c)
		}
	}
	return out
}

// records are the trace records of the event, in order.
func (h *harness) records(event string) []sim.Record {
	var out []sim.Record
	for _, r := range h.engine.Tracer().Records() {
		if r.Event == event {
			out = append(out, r)
		}
	}
	return out
}

// traceLines are the JSON trace lines mentioning event.
func (h *harness) traceLines(event string) []string {
	var out []string
	for _, l := range strings.Split(h.trace.String(), "\n") {
		if strings.Contains(l, `"event":"`+event+`"`) {
			out = append(out, l)
		}
	}
	return out
}

// --- objects ---

func (h *harness) node(name string) *corev1.Node {
	h.t.Helper()
	obj, ok, err := h.nodes.GetByKey(name)
	if err != nil || !ok {
		h.t.Fatalf("node %s not in the informer (%v)", name, err)
	}
	return obj.(*corev1.Node)
}

func (h *harness) pod(namespace, name string) (*corev1.Pod, bool) {
	obj, ok, _ := h.pods.GetByKey(namespace + "/" + name)
	if !ok {
		return nil, false
	}
	return obj.(*corev1.Pod), true
}

// addNode creates the node in the API and the informer.
func (h *harness) addNode(n *corev1.Node) {
	h.t.Helper()
	out, err := h.client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatalf("create node %s: %v", n.Name, err)
	}
	if err := h.nodes.Add(out); err != nil {
		h.t.Fatal(err)
	}
}

// addPod creates the pod in the API and the informer.
func (h *harness) addPod(p *corev1.Pod) {
	h.t.Helper()
	out, err := h.client.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatalf("create pod %s: %v", p.Name, err)
	}
	if err := h.pods.Add(out); err != nil {
		h.t.Fatal(err)
	}
}

// addLease creates the node's lease renewed at renew.
func (h *harness) addLease(node string, renew time.Time) {
	h.t.Helper()
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: corev1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr(node), LeaseDurationSeconds: ptr(int32(40)),
			RenewTime: &metav1.MicroTime{Time: renew},
		},
	}
	out, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(context.Background(), l, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatalf("create lease %s: %v", node, err)
	}
	if err := h.leases.Add(out); err != nil {
		h.t.Fatal(err)
	}
}

// renewLease is the kubelet renewing its lease at d after the start. The
// controllers read leases only through the informer, so the renewal goes
// to the informer alone: the fake clientset's field-managed updates are
// slow enough to dominate a test with many nodes.
func (h *harness) renewLease(node string, d time.Duration) {
	h.barrier(d, func(now time.Time) {
		obj, ok, _ := h.leases.GetByKey(corev1.NamespaceNodeLease + "/" + node)
		if !ok {
			h.t.Errorf("lease %s missing at %v", node, h.since(now))
			return
		}
		l := obj.(*coordinationv1.Lease).DeepCopy()
		l.Spec.RenewTime = &metav1.MicroTime{Time: now}
		h.wrote("leases", l)
	})
}

// renewLeases renews the lease every period from first to last, inclusive.
func (h *harness) renewLeases(node string, first, period, last time.Duration) {
	for d := first; d <= last; d += period {
		h.renewLease(node, d)
	}
}

// postStatus is the kubelet posting its node status at d after the start:
// mutate changes a copy of the node as the informer has it. Like the
// run's observer, the lifecycle controller's NoSchedule reconciliation
// follows the write.
func (h *harness) postStatus(node string, d time.Duration, mutate func(n *corev1.Node, now metav1.Time)) {
	h.barrier(d, func(now time.Time) {
		n := h.node(node).DeepCopy()
		mutate(n, metav1.NewTime(now))
		out, err := h.client.CoreV1().Nodes().UpdateStatus(context.Background(), n, metav1.UpdateOptions{})
		if err != nil {
			h.t.Errorf("post status of %s: %v", node, err)
			return
		}
		h.wrote("nodes", out)
		if r, err := ReconcileNoSchedule(context.Background(), h.client, out); err != nil {
			h.t.Errorf("reconcile %s: %v", node, err)
		} else if r != nil {
			h.wrote("nodes", r)
		}
	})
}

// heartbeat is a kubelet status post: every condition's heartbeat is now;
// Ready takes status (with the kubelet's reason), transitioning if it
// changed.
func heartbeat(ready corev1.ConditionStatus) func(n *corev1.Node, now metav1.Time) {
	return func(n *corev1.Node, now metav1.Time) {
		found := false
		for i := range n.Status.Conditions {
			c := &n.Status.Conditions[i]
			c.LastHeartbeatTime = now
			if c.Type != corev1.NodeReady {
				if c.Status == corev1.ConditionUnknown {
					c.Status, c.LastTransitionTime = corev1.ConditionFalse, now
				}
				continue
			}
			found = true
			if c.Status != ready {
				c.LastTransitionTime = now
			}
			c.Status = ready
			c.Reason, c.Message = kubeletReason(ready)
		}
		if !found {
			reason, msg := kubeletReason(ready)
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeReady, Status: ready,
				Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now})
		}
	}
}

func kubeletReason(s corev1.ConditionStatus) (string, string) {
	if s == corev1.ConditionTrue {
		return "KubeletReady", "kubelet is posting ready status"
	}
	return "KubeletNotReady", "container runtime is down"
}

// readyNode is a Ready node in zone, its conditions last heard at hb.
func readyNode(name, zone string, hb time.Time) *corev1.Node {
	t := metav1.NewTime(hb)
	cond := func(typ corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: typ, Status: s, Reason: reason, LastHeartbeatTime: t, LastTransitionTime: t}
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
				cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("4"),
				corev1.ResourceMemory: resource.MustParse("8Gi"),
				corev1.ResourcePods:   resource.MustParse("110"),
			},
		},
	}
	if zone != "" {
		n.Labels[corev1.LabelTopologyZone] = zone
	}
	return n
}

func boundPod(namespace, name, node string, tolerations ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.PodSpec{
			NodeName:    node,
			Containers:  []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
			Tolerations: tolerations,
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func condition(n *corev1.Node, typ corev1.NodeConditionType) *corev1.NodeCondition {
	return findCondition(n.Status.Conditions, typ)
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

func durations(ds ...float64) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = secs(d)
	}
	return out
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

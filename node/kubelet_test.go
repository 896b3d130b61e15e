package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	criruntime "github.com/nodesim/nodesim/runtime"
	"github.com/nodesim/nodesim/sim"
)

type traceLine struct {
	T      float64 `json:"t"`
	Event  string  `json:"event"`
	Node   string  `json:"node"`
	Type   string  `json:"type"`
	Status string  `json:"status"`
	Reason string  `json:"reason"`
	Error  string  `json:"error"`
}

// harness runs one kubelet on a fake API server for a virtual duration.
type harness struct {
	t      *testing.T
	client *fake.Clientset
	engine *sim.Engine
	trace  bytes.Buffer
	k      *Kubelet
	rt     *criruntime.Runtime
}

func newHarness(t *testing.T, networkReadyAfter time.Duration) *harness {
	t.Helper()
	h := &harness{t: t, client: fake.NewClientset()}
	e, err := sim.New(sim.Config{Seed: 3, Trace: &h.trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	h.engine = e
	cfg := Config{
		Name: "n-1", InternalIP: net.ParseIP("127.1.0.1"),
		PodCIDR:       &net.IPNet{IP: net.IPv4(10, 0, 0, 0).To4(), Mask: net.CIDRMask(24, 32)},
		Labels:        map[string]string{corev1.LabelTopologyZone: "zone-a"},
		Capacity:      corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi")},
		KernelVersion: "6.8.0-60-generic", OSImage: "Ubuntu 24.04.2 LTS",
		ContainerRuntimeVersion: "containerd://2.1.4", KubeletVersion: "v1.37.2",
		TraceAllHeartbeats: true,
	}
	rt, err := criruntime.New(criruntime.Config{Node: cfg.Name, RootDir: t.TempDir(), PodCIDR: cfg.PodCIDR.String(), Clock: e.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	k, err := New(cfg, Clients{Core: h.client.CoreV1(), Coordination: h.client.CoordinationV1()}, rt, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.k, h.rt = k, rt
	en := e.NewEntity(cfg.Name)
	// The pod network's plugin is ready networkReadyAfter the start.
	rt.SetNetworkReady(false)
	en.At(e.Start().Add(networkReadyAfter), func() { rt.SetNetworkReady(true) })
	k.Start(en)
	return h
}

func (h *harness) run(d time.Duration) []traceLine {
	h.t.Helper()
	if err := h.engine.Run(context.Background(), h.engine.Start().Add(d)); err != nil {
		h.t.Fatal(err)
	}
	var out []traceLine
	for _, l := range strings.Split(strings.TrimSpace(h.trace.String()), "\n") {
		var tl traceLine
		if err := json.Unmarshal([]byte(l), &tl); err != nil {
			h.t.Fatalf("%q: %v", l, err)
		}
		out = append(out, tl)
	}
	return out
}

func times(lines []traceLine, event string) []float64 {
	var ts []float64
	for _, l := range lines {
		if l.Event == event {
			ts = append(ts, l.T)
		}
	}
	return ts
}

func TestRegistrationAndFirstReady(t *testing.T) {
	h := newHarness(t, 3*time.Second)
	lines := h.run(time.Minute)
	if reg := times(lines, sim.EventNodeRegistered); len(reg) != 1 || reg[0] != 0.1 {
		t.Fatalf("registered at %v, want once at 0.1s (after the kubelet's first 100 ms wait)", reg)
	}
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), "n-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "topology.kubernetes.io/zone"} {
		if node.Labels[label] == "" {
			t.Errorf("label %s missing: %v", label, node.Labels)
		}
	}
	ready := findCondition(node.Status.Conditions, corev1.NodeReady)
	if ready == nil || ready.Status != corev1.ConditionTrue || ready.Reason != "KubeletReady" {
		t.Fatalf("ready condition %+v", ready)
	}
	// The first Ready post comes within 100 ms of the network being ready,
	// from the fast status update, not at the next 10 s period.
	var readyPosts []float64
	for i, l := range lines {
		if l.Event == sim.EventNodeStatusPosted && i > 0 && l.T >= 3 && l.T <= 3.1 {
			readyPosts = append(readyPosts, l.T)
		}
	}
	if len(readyPosts) != 1 {
		t.Fatalf("status posts near 3s: %v (trace %v)", readyPosts, times(lines, sim.EventNodeStatusPosted))
	}
	if got := node.Status.Allocatable.Memory().String(); got != "32668Mi" {
		t.Errorf("allocatable memory %s, want 32Gi - 100Mi", got)
	}
	if got := node.Status.Allocatable.StorageEphemeral().Value(); got != resource.NewQuantity(90<<30, resource.BinarySI).Value() {
		t.Errorf("allocatable ephemeral-storage %d, want 90%% of 100Gi", got)
	}
}

func TestNotReadyMessageBeforeNetwork(t *testing.T) {
	h := newHarness(t, time.Hour)
	h.run(30 * time.Second)
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), "n-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := findCondition(node.Status.Conditions, corev1.NodeReady)
	want := "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
	if ready.Status != corev1.ConditionFalse || ready.Reason != "KubeletNotReady" || ready.Message != want {
		t.Fatalf("ready %+v", ready)
	}
	types := []corev1.NodeConditionType{}
	for _, c := range node.Status.Conditions {
		types = append(types, c.Type)
	}
	if len(types) != 4 || types[0] != corev1.NodeMemoryPressure || types[3] != corev1.NodeReady {
		t.Fatalf("condition order %v", types)
	}
}

func TestLeaseCadence(t *testing.T) {
	h := newHarness(t, time.Second)
	lines := h.run(10 * time.Minute)
	renewals := times(lines, sim.EventLeaseRenewed)
	if len(renewals) < 55 {
		t.Fatalf("%d renewals in 10 minutes", len(renewals))
	}
	// The first sync at 0 s finds no Node to own the lease and creates
	// nothing; the lease appears at the second sync, 10-10.4 s in.
	if renewals[0] < 10 || renewals[0] > 10.4 {
		t.Fatalf("lease created at %v", renewals[0])
	}
	for i := 1; i < len(renewals); i++ {
		if gap := renewals[i] - renewals[i-1]; gap < 10 || gap > 10.4+1e-9 {
			t.Fatalf("lease gap %.3fs between %v and %v", gap, renewals[i-1], renewals[i])
		}
	}
	lease, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), "n-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *lease.Spec.HolderIdentity != "n-1" || *lease.Spec.LeaseDurationSeconds != 40 ||
		len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].Kind != "Node" {
		t.Fatalf("lease %+v", lease)
	}
}

func TestStatusReportCadenceWhenNothingChanges(t *testing.T) {
	h := newHarness(t, time.Second)
	lines := h.run(40 * time.Minute)
	posts := times(lines, sim.EventNodeStatusPosted)
	// After the last change (Ready at ~1 s) the next post comes after the
	// report period plus a random -50 %..+50 % offset, then every 5 m (at
	// the first 10 s status sync past it).
	var quiet []float64
	for _, p := range posts {
		if p > 2 {
			quiet = append(quiet, p)
		}
	}
	if len(quiet) < 5 {
		t.Fatalf("posts %v", posts)
	}
	if first := quiet[0]; first < 150 || first > 450+10.4 {
		t.Fatalf("first report at %vs, want 2.5-7.5 min after the change", first)
	}
	for i := 1; i < len(quiet); i++ {
		if gap := quiet[i] - quiet[i-1]; gap < 300 || gap > 310.4+1e-9 {
			t.Fatalf("report gap %.3fs (posts %v)", gap, quiet)
		}
	}
}

func TestChangedConditionPostedWithinOnePeriod(t *testing.T) {
	h := newHarness(t, time.Second)
	changeAt := h.engine.Start().Add(3 * time.Minute)
	h.engine.At(changeAt, func(now time.Time) { h.k.SetPressure(now, Pressure{Memory: true}) })
	lines := h.run(4 * time.Minute)
	var post float64
	for _, l := range lines {
		if l.Event == sim.EventNodeStatusPosted && l.T >= 180 {
			post = l.T
			break
		}
	}
	if post == 0 || post-180 > 10.4 {
		t.Fatalf("memory pressure posted at %v, want within one update period of 180s", post)
	}
	node, _ := h.client.CoreV1().Nodes().Get(context.Background(), "n-1", metav1.GetOptions{})
	c := findCondition(node.Status.Conditions, corev1.NodeMemoryPressure)
	if c.Status != corev1.ConditionTrue || c.Reason != "KubeletHasInsufficientMemory" {
		t.Fatalf("memory pressure %+v", c)
	}
}

func TestLeaseBackoffWhileWritesAreRefused(t *testing.T) {
	h := newHarness(t, time.Second)
	var refuse atomic.Bool
	var attempts []float64
	h.client.PrependReactor("*", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if !refuse.Load() {
			return false, nil, nil
		}
		attempts = append(attempts, h.k.en.Since().Seconds())
		return true, nil, apierrors.NewServiceUnavailable("refused")
	})
	h.engine.At(h.engine.Start().Add(60*time.Second), func(time.Time) { refuse.Store(true) })
	h.engine.At(h.engine.Start().Add(120*time.Second), func(time.Time) { refuse.Store(false) })
	lines := h.run(3 * time.Minute)
	if len(attempts) < 10 {
		t.Fatalf("attempts %v", attempts)
	}
	// After the five immediate update tries, GETs back off 200 ms, 400 ms,
	// ... doubling to 7 s.
	var gaps []time.Duration
	for i := 1; i < len(attempts); i++ {
		if g := time.Duration((attempts[i] - attempts[i-1]) * float64(time.Second)).Round(time.Millisecond); g > 0 {
			gaps = append(gaps, g)
		}
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 7 * time.Second, 7 * time.Second}
	for i, w := range want {
		if i >= len(gaps) || gaps[i] != w {
			t.Fatalf("backoff gaps %v, want to start %v", gaps, want)
		}
	}
	failed := times(lines, sim.EventLeaseRenewFailed)
	if len(failed) < 5 || failed[0] < 60 {
		t.Fatalf("failures traced at %v", failed)
	}
	renewed := times(lines, sim.EventLeaseRenewed)
	if last := renewed[len(renewed)-1]; last < 120 {
		t.Fatalf("lease not renewed after the API server came back (last %v)", last)
	}
}

func TestTraceErrorHasNoAddresses(t *testing.T) {
	err := errors.New(`Put "https://127.0.0.1:41234/apis": dial tcp: connection refused`)
	if got := TraceError(err); got != "request failed" {
		t.Fatalf("%q", got)
	}
	if got := TraceError(apierrors.NewServiceUnavailable("refused")); got != "refused" {
		t.Fatalf("%q", got)
	}
}

func testPod(name, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: "n-1", Containers: []corev1.Container{{
			Name: "c", Image: "nginx:1.27",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func TestPodsRunAndAreRejectedWhenTheyDoNotFit(t *testing.T) {
	h := newHarness(t, time.Second)
	ctx := context.Background()
	fits, tooBig := testPod("fits", "6"), testPod("too-big", "3")
	for _, p := range []*corev1.Pod{fits, tooBig} {
		if _, err := h.client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	at := h.engine.Start().Add(10 * time.Second)
	h.engine.At(at, func(time.Time) {
		h.k.Entity().At(at, func() { h.k.HandlePod(fits) })
		h.k.Entity().At(at, func() { h.k.HandlePod(tooBig) })
	})
	lines := h.run(20 * time.Second)
	var events []string
	for _, l := range lines {
		if strings.HasPrefix(l.Event, "Pod") {
			events = append(events, fmt.Sprintf("%v %s %s", l.T, l.Event, l.Reason))
		}
	}
	// Running once the image is pulled, at the runtime's pull rate.
	pulled := 10 + criruntime.PullDuration(criruntime.ImageSize("nginx:1.27")).Truncate(time.Millisecond).Seconds()
	if got, want := strings.Join(events, "; "), fmt.Sprintf("10 PodRejected OutOfcpu; %v PodRunning ", pulled); got != want {
		t.Fatalf("pod events: %s", got)
	}
	rejected, _ := h.client.CoreV1().Pods("default").Get(ctx, "too-big", metav1.GetOptions{})
	if rejected.Status.Phase != corev1.PodFailed || rejected.Status.Message != "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 6000, capacity: 8000" {
		t.Fatalf("rejected pod status %+v", rejected.Status)
	}
	running, _ := h.client.CoreV1().Pods("default").Get(ctx, "fits", metav1.GetOptions{})
	if running.Status.Phase != corev1.PodRunning || running.Status.PodIP != "10.0.0.2" || running.Status.HostIP != "127.1.0.1" ||
		len(running.Status.ContainerStatuses) != 1 || !running.Status.ContainerStatuses[0].Ready {
		t.Fatalf("running pod status %+v", running.Status)
	}
}

func TestPressureHeldForTheTransitionPeriod(t *testing.T) {
	h := newHarness(t, time.Second)
	start := h.engine.Start()
	h.engine.At(start.Add(time.Minute), func(now time.Time) { h.k.SetPressure(now, Pressure{Disk: true}) })
	h.engine.At(start.Add(2*time.Minute), func(now time.Time) { h.k.SetPressure(now, Pressure{}) })
	lines := h.run(10 * time.Minute)
	var changes []string
	for _, l := range lines {
		if l.Event == sim.EventNodeStatusPosted && l.T > 2 {
			changes = append(changes, fmt.Sprint(l.T))
		}
	}
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), "n-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := findCondition(node.Status.Conditions, corev1.NodeDiskPressure)
	if c.Status != corev1.ConditionFalse {
		t.Fatalf("disk pressure at 10m: %+v", c)
	}
	// The signal cleared at 2m; the condition flips back at the first
	// status sync at or after 7m (2m + 5m), within one update period.
	cleared := c.LastTransitionTime.Sub(start)
	if cleared < 7*time.Minute || cleared > 7*time.Minute+10400*time.Millisecond {
		t.Fatalf("disk pressure cleared at %v, want 7m..7m10.4s (posts %v)", cleared, changes)
	}
}

// TestKubeletViewHasNoManagedFields: the kubelet keeps its Node without the
// managed fields the API server returns, and never sends them: its status
// patches are the same without them.
func TestKubeletViewHasNoManagedFields(t *testing.T) {
	h := newHarness(t, 0)
	var patches []string
	tracker := k8stesting.ObjectReaction(h.client.Tracker())
	h.client.PrependReactor("*", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if p, ok := a.(k8stesting.PatchAction); ok {
			patches = append(patches, string(p.GetPatch()))
		}
		handled, obj, err := tracker(a)
		if n, ok := obj.(*corev1.Node); ok && err == nil {
			n = n.DeepCopy()
			n.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}}
			obj = n
		}
		return handled, obj, err
	})
	h.run(time.Minute)
	if n := h.k.Node(); n == nil || n.ManagedFields != nil || findCondition(n.Status.Conditions, corev1.NodeReady) == nil {
		t.Fatalf("the kubelet's view of its node: %+v", n)
	}
	if len(patches) == 0 {
		t.Fatal("no status patch in a minute")
	}
	for _, p := range patches {
		if strings.Contains(p, "managedFields") {
			t.Errorf("a status patch carries managed fields: %s", p)
		}
	}
}

package run

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// The kubelet's messages the kernel tests expect (upstream v1.37:
// pkg/kubelet/sysctl allowlist.go and the kubelet's rejectPod;
// pkg/kubelet/userns/userns_manager.go and kuberuntime_manager.go).
const (
	sysctlForbiddenMessage = `forbidden sysctl: "net.ipv4.tcp_rmem" not allowlisted`
	usernsSandboxMessage   = "Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces"
)

// kernelScenario is the example scenarios/sysctl-kernels.yaml, with each
// pool's kubelet on a port of its own so that example runs elsewhere on
// this machine (on 10250 at the same addresses) do not collide with it.
func kernelScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	const file = "../../scenarios/sysctl-kernels.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.NodePools {
		sc.NodePools[i].KubeletConfig.Port = int32(10361 + i)
	}
	return sc
}

// traceLine is a line of trace.jsonl.
type traceLine struct {
	Event, Node, Pod, Reason, Type, Path, Error string
}

func readTrace(t *testing.T, path string) []traceLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []traceLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l traceLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("trace line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKernelScenarioRun runs the sysctl-kernels example through Run and
// reads the outcome from its trace: the sysctl pod is rejected on 4.4 and
// runs on 6.8; the user-namespace pod never starts on 5.15 and runs on 6.8.
func TestKernelScenarioRun(t *testing.T) {
	sc := kernelScenario(t)
	out := t.TempDir()
	stateDir, err := os.MkdirTemp("", "ns")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(stateDir)
	s, err := Run(context.Background(), sc, Options{OutDir: out, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Passed() {
		t.Errorf("expectations failed: %+v", s.Expectations)
	}
	trace := readTrace(t, filepath.Join(out, TraceFile))
	has := func(event, pod, node, reason string) bool {
		return slices.ContainsFunc(trace, func(l traceLine) bool {
			return l.Event == event && l.Pod == pod && l.Node == node && (reason == "" || l.Reason == reason)
		})
	}
	ofWorkload := func(event, workload string) []traceLine {
		var ls []traceLine
		for _, l := range trace {
			if l.Event == event && strings.HasPrefix(l.Pod, "default/"+workload+"-") {
				ls = append(ls, l)
			}
		}
		return ls
	}

	if !has(sim.EventPodRejected, "default/sysctl-old-0", "k44-0", "SysctlForbidden") {
		t.Errorf("no PodRejected SysctlForbidden of default/sysctl-old-0 on k44-0; PodRejected records: %+v", ofWorkload(sim.EventPodRejected, "sysctl-old"))
	}
	for _, l := range ofWorkload(sim.EventPodRejected, "sysctl-old") {
		if l.Node != "k44-0" || l.Reason != "SysctlForbidden" {
			t.Errorf("rejection %+v, want SysctlForbidden on k44-0", l)
		}
	}
	if len(ofWorkload(sim.EventPodRejected, "sysctl-old")) < 2 {
		t.Errorf("the workload's replacement pods should be rejected too: %+v", ofWorkload(sim.EventPodRejected, "sysctl-old"))
	}
	if r := ofWorkload(sim.EventPodRunning, "sysctl-old"); len(r) != 0 {
		t.Errorf("a sysctl-old pod ran on kernel 4.4: %+v", r)
	}
	if !has(sim.EventPodRunning, "default/sysctl-new-0", "k68-0", "") {
		t.Errorf("sysctl-new-0 did not run on k68-0: %+v", ofWorkload(sim.EventPodRunning, "sysctl-new"))
	}
	if !has(sim.EventPodBound, "default/userns-old-0", "k515-0", "") {
		t.Errorf("userns-old-0 was not bound to k515-0: %+v", ofWorkload(sim.EventPodBound, "userns-old"))
	}
	if r := append(ofWorkload(sim.EventPodRunning, "userns-old"), ofWorkload(sim.EventPodRejected, "userns-old")...); len(r) != 0 {
		t.Errorf("userns-old on kernel 5.15 should stay Pending, neither run nor be rejected: %+v", r)
	}
	if !has(sim.EventPodRunning, "default/userns-new-0", "k68-0", "") {
		t.Errorf("userns-new-0 did not run on k68-0: %+v", ofWorkload(sim.EventPodRunning, "userns-new"))
	}
	for _, w := range []string{"sysctl-new", "userns-old", "userns-new"} {
		if r := ofWorkload(sim.EventPodBound, w); len(r) != 1 {
			t.Errorf("workload %s: %d pods bound, want 1: %+v", w, len(r), r)
		}
	}
	if s.Events[sim.EventPodRejected] != len(ofWorkload(sim.EventPodRejected, "sysctl-old")) {
		t.Errorf("summary counts %d PodRejected, the trace %d", s.Events[sim.EventPodRejected], len(ofWorkload(sim.EventPodRejected, "sysctl-old")))
	}
}

// simulation is a scenario on an engine against an embedded API server,
// as Run builds it, kept open after the virtual time ran out so that the
// test can read the API objects.
type simulation struct {
	w        *world
	records  []sim.Record
	stateDir string
}

// simulate runs sc for its duration with the control plane; pods are
// created before the first window. Everything is released when the test
// ends.
func simulate(t *testing.T, sc *scenarios.Scenario, pods ...*corev1.Pod) *simulation {
	t.Helper()
	ctx := context.Background()
	srv, err := apiserver.Start(ctx, apiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop API server: %v", err)
		}
	})
	// Unix socket paths (device plugins) hold at most 107 bytes.
	stateDir, err := os.MkdirTemp("", "ns")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	w, err := newWorld(ctx, sc, srv, sim.Config{Seed: sc.Seed, Trace: io.Discard},
		worldOptions{controllers: runControllers(t), stateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	for _, p := range pods {
		if _, err := w.client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.engine.Run(w.ctx, w.engine.Start().Add(sc.Duration)); err != nil {
		t.Fatalf("run: %v (world: %v)", err, w.err)
	}
	if w.err != nil {
		t.Fatal(w.err)
	}
	return &simulation{w: w, records: w.engine.Tracer().Records(), stateDir: stateDir}
}

func (s *simulation) pod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p, err := s.w.client.CoreV1().Pods(metav1.NamespaceDefault).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// events are the Events about a pod, oldest first.
func (s *simulation) events(t *testing.T, pod string) []corev1.Event {
	t.Helper()
	list, err := s.w.client.CoreV1().Events(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func (s *simulation) traced(event, pod, node, reason string) bool {
	return slices.ContainsFunc(s.records, func(r sim.Record) bool {
		return r.Event == event && r.Pod == pod && r.Node == node && (reason == "" || r.Reason == reason)
	})
}

// testPod is a pod with one container, pinned by nodeSelector to a node
// with the kernel label of the sysctl-kernels example.
func testPod(name, kernel string, mutate func(*corev1.PodSpec)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"example.com/kernel": kernel},
			Containers:   []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
		},
	}
	if mutate != nil {
		mutate(&p.Spec)
	}
	return p
}

func withSysctl(s *corev1.PodSpec) {
	s.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.ipv4.tcp_rmem", Value: "4096 87380 6291456"}}}
}

func withoutHostUsers(s *corev1.PodSpec) {
	hostUsers := false
	s.HostUsers = &hostUsers
}

// TestKernelAdmissionObjects runs the example's fleet with single pods
// (no workloads, so no replacements) and reads what the kubelets wrote:
// pod status and events, as kubectl describe would show them.
func TestKernelAdmissionObjects(t *testing.T) {
	sc := kernelScenario(t)
	sc.Workloads = nil
	s := simulate(t, sc,
		testPod("sysctl-old", "4.4", withSysctl),
		testPod("sysctl-new", "6.8", withSysctl),
		testPod("userns-old", "5.15", withoutHostUsers),
		testPod("userns-new", "6.8", withoutHostUsers),
	)

	t.Run("sysctl on 4.4", func(t *testing.T) {
		p := s.pod(t, "sysctl-old")
		if p.Spec.NodeName != "k44-0" || p.Status.Phase != corev1.PodFailed || p.Status.Reason != "SysctlForbidden" ||
			p.Status.Message != "Pod was rejected: "+sysctlForbiddenMessage {
			t.Errorf("pod on %q: phase %s reason %q message %q; want Failed, SysctlForbidden, %q on k44-0",
				p.Spec.NodeName, p.Status.Phase, p.Status.Reason, p.Status.Message, "Pod was rejected: "+sysctlForbiddenMessage)
		}
		if !s.traced(sim.EventPodRejected, "default/sysctl-old", "k44-0", "SysctlForbidden") {
			t.Errorf("no PodRejected record")
		}
	})

	// The kubelet's rejectPod records a Warning event with the admission
	// handler's reason and message before it fails the pod (upstream
	// pkg/kubelet/kubelet.go rejectPod); issue 6 asks for it too.
	t.Run("sysctl event", func(t *testing.T) {
		evs := s.events(t, "sysctl-old")
		if !slices.ContainsFunc(evs, func(e corev1.Event) bool {
			return e.Type == corev1.EventTypeWarning && e.Reason == "SysctlForbidden" && e.Message == sysctlForbiddenMessage &&
				e.Source.Component == "kubelet" && e.Source.Host == "k44-0"
		}) {
			t.Errorf("no Warning SysctlForbidden event %q from the kubelet of k44-0; events: %s", sysctlForbiddenMessage, describeEvents(evs))
		}
	})

	t.Run("sysctl on 6.8", func(t *testing.T) {
		p := s.pod(t, "sysctl-new")
		if p.Spec.NodeName != "k68-0" || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod on %q is %s %q, want Running on k68-0", p.Spec.NodeName, p.Status.Phase, p.Status.Message)
		}
	})

	t.Run("user namespaces on 5.15", func(t *testing.T) {
		p := s.pod(t, "userns-old")
		if p.Spec.NodeName != "k515-0" || p.Status.Phase != corev1.PodPending {
			t.Errorf("pod on %q is %s, want Pending on k515-0", p.Spec.NodeName, p.Status.Phase)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.ContainerID != "" || cs.State.Running != nil {
				t.Errorf("container %s has started: %+v", cs.Name, cs)
			}
		}
		evs := s.events(t, "userns-old")
		if !slices.ContainsFunc(evs, func(e corev1.Event) bool {
			return e.Type == corev1.EventTypeWarning && e.Reason == "FailedCreatePodSandBox" && e.Message == usernsSandboxMessage &&
				e.Source.Host == "k515-0"
		}) {
			t.Errorf("no Warning FailedCreatePodSandBox %q; events: %s", usernsSandboxMessage, describeEvents(evs))
		}
		if s.traced(sim.EventPodRunning, "default/userns-old", "k515-0", "") || s.traced(sim.EventPodRejected, "default/userns-old", "k515-0", "") {
			t.Errorf("userns-old ran or was rejected")
		}
		// The runtime has no sandbox for it.
		m := s.w.fleet.members["k515-0"]
		if list, err := m.runtime.ListPodSandbox(context.Background(), nil); err != nil || len(list.GetItems()) != 0 {
			t.Errorf("k515-0's runtime has sandboxes %v (%v)", list.GetItems(), err)
		}
	})

	t.Run("user namespaces on 6.8", func(t *testing.T) {
		p := s.pod(t, "userns-new")
		if p.Spec.NodeName != "k68-0" || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod on %q is %s, want Running on k68-0", p.Spec.NodeName, p.Status.Phase)
		}
		for _, e := range s.events(t, "userns-new") {
			if e.Type == corev1.EventTypeWarning {
				t.Errorf("warning event %s: %s", e.Reason, e.Message)
			}
		}
	})
}

func describeEvents(evs []corev1.Event) string {
	if len(evs) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %s %s from %s/%s: %s", e.Type, e.Reason, e.Source.Component, e.Source.Host, e.Message)
	}
	return b.String()
}

// deviceScenario: one node with four example.com/gpu devices from a fake
// device plugin; a pod asking for two, one asking for three (more than
// are left), and a checkpoint of the first, whose archive holds its
// container's configuration.
const deviceScenario = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: devices}
spec:
  seed: 3
  duration: 60s
  nodePools:
  - name: gpu
    count: 1
    networkReadyAfter: 1s
    devicePlugins: [{resourceName: example.com/gpu, count: 4}]
  workloads:
  - name: a-two
    replicas: 1
    template:
      spec:
        containers:
        - name: app
          image: "nginx:1.27"
          resources: {requests: {example.com/gpu: 2}, limits: {example.com/gpu: 2}}
  - name: b-three
    replicas: 1
    template:
      spec:
        containers:
        - name: app
          image: "nginx:1.27"
          resources: {requests: {example.com/gpu: 3}, limits: {example.com/gpu: 3}}
  timeline:
  - {at: 40s, do: checkpoint, pod: default/a-two-0, container: app}
`

// TestDevicePluginsRun: the devices count in the Node's capacity and
// allocatable, a pod gets two of them (and their environment in its
// container), a pod asking for more than are left is rejected.
func TestDevicePluginsRun(t *testing.T) {
	sc, err := scenarios.Parse("devices.yaml", []byte(deviceScenario))
	if err != nil {
		t.Fatal(err)
	}
	s := simulate(t, sc)
	const gpu = corev1.ResourceName("example.com/gpu")

	n, err := s.w.client.CoreV1().Nodes().Get(context.Background(), "gpu-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	four := resource.MustParse("4")
	if q, ok := n.Status.Capacity[gpu]; !ok || q.Cmp(four) != 0 {
		t.Errorf("capacity %s = %v, want 4", gpu, n.Status.Capacity[gpu])
	}
	if q, ok := n.Status.Allocatable[gpu]; !ok || q.Cmp(four) != 0 {
		t.Errorf("allocatable %s = %v, want 4", gpu, n.Status.Allocatable[gpu])
	}

	a := s.pod(t, "a-two-0")
	if a.Spec.NodeName != "gpu-0" || a.Status.Phase != corev1.PodRunning {
		t.Errorf("a-two-0 on %q is %s %q, want Running on gpu-0", a.Spec.NodeName, a.Status.Phase, a.Status.Message)
	}
	b := s.pod(t, "b-three-0")
	wantMsg := "Pod was rejected: Allocate failed due to requested number of devices unavailable for example.com/gpu. Requested: 3, Available: 2, which is unexpected"
	if b.Spec.NodeName != "gpu-0" || b.Status.Phase != corev1.PodFailed || b.Status.Reason != "UnexpectedAdmissionError" || b.Status.Message != wantMsg {
		t.Errorf("b-three-0 on %q: %s %q %q; want Failed UnexpectedAdmissionError %q", b.Spec.NodeName, b.Status.Phase, b.Status.Reason, b.Status.Message, wantMsg)
	}
	if !s.traced(sim.EventPodRejected, "default/b-three-0", "gpu-0", "UnexpectedAdmissionError") {
		t.Errorf("no PodRejected record of b-three-0")
	}

	// The container's configuration, as the runtime got it, is in the
	// checkpoint's spec.dump: the plugin's Allocate response's environment.
	var path string
	for _, r := range s.records {
		if r.Event == sim.EventCheckpointFailed {
			t.Fatalf("checkpoint failed: %+v", r)
		}
		if r.Event == sim.EventCheckpointCreated && r.Pod == "default/a-two-0" {
			path = filepath.Join(s.stateDir, filepath.FromSlash(r.Path))
		}
	}
	if path == "" {
		t.Fatal("no CheckpointCreated record of a-two-0")
	}
	env := archiveEnv(t, path)
	var visible string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GPU_VISIBLE_DEVICES="); ok {
			visible = v
		}
	}
	ids := strings.Split(visible, ",")
	slices.Sort(ids)
	if len(ids) != 2 || ids[0] == ids[1] || !slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "gpu-") }) {
		t.Errorf("a-two-0's container env %v: want GPU_VISIBLE_DEVICES with two of the node's devices", env)
	}
	for _, id := range ids {
		if !slices.Contains([]string{"gpu-0", "gpu-1", "gpu-2", "gpu-3"}, id) {
			t.Errorf("device %q is not one of the plugin's", id)
		}
	}
}

// archiveEnv reads the process environment from a checkpoint archive's
// spec.dump (the OCI runtime spec).
func archiveEnv(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s has no spec.dump", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "spec.dump" {
			continue
		}
		var spec struct {
			Process struct {
				Env []string `json:"env"`
			} `json:"process"`
		}
		if err := json.NewDecoder(tr).Decode(&spec); err != nil {
			t.Fatalf("spec.dump: %v", err)
		}
		return spec.Process.Env
	}
}

package metrics

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/sim"
)

func newTestMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := New(Config{Registerer: reg, Pools: []Pool{{Name: "zone-a", Zone: "a"}, {Name: "zone", Zone: "z"}, {Name: "gpu"}}})
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestNewRequiresRegisterer(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a Registerer: want an error")
	}
	if _, err := New(Config{Registerer: prometheus.NewRegistry(), Pools: []Pool{{}}}); err == nil {
		t.Fatal("New with an unnamed pool: want an error")
	}
}

func TestNamesLint(t *testing.T) {
	m, reg := newTestMetrics(t)
	for _, c := range m.collectors() {
		touch(c)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	for _, c := range m.collectors() {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
	names := Names()
	if len(names) != len(m.collectors()) {
		t.Fatalf("Names() has %d names, want one per collector (%d): %v", len(names), len(m.collectors()), names)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "nodesim_") {
			t.Errorf("%s: not nodesim_ prefixed", n)
		}
		if strings.Count(n, "_") < 2 {
			t.Errorf("%s: not nodesim_<subsystem>_<name>", n)
		}
	}
}

func TestLocate(t *testing.T) {
	m, _ := newTestMetrics(t)
	for node, want := range map[string][2]string{
		"zone-a-0001": {"zone-a", "a"},
		"zone-17":     {"zone", "z"},
		"gpu-3":       {"gpu", ""},
		"zone-a-b-1":  {"", ""},
		"other-1":     {"", ""},
		"zone-":       {"", ""},
		"":            {"", ""},
	} {
		if p, z := m.Locate(node); p != want[0] || z != want[1] {
			t.Errorf("Locate(%q) = %q, %q; want %q, %q", node, p, z, want[0], want[1])
		}
	}
}

func TestObserveRecords(t *testing.T) {
	m, _ := newTestMetrics(t)
	for _, r := range []sim.Record{
		{Event: sim.EventNodeRegistered, Node: "zone-a-01"},
		{Event: sim.EventLeaseRenewFailed, Node: "zone-a-01"},
		{Event: sim.EventLeaseRenewFailed, Node: "zone-a-02"},
		{Event: sim.EventNodeConditionChanged, Node: "zone-a-01", Type: "Ready", Status: "Unknown"},
		{Event: sim.EventNodeTaintAdded, Node: "gpu-1", Key: "node.kubernetes.io/unreachable", Effect: "NoExecute"},
		{Event: sim.EventZoneStateChanged, Zone: "a", Status: "Normal"},
		{Event: sim.EventZoneStateChanged, Zone: "a", Status: "FullDisruption"},
		{Event: sim.EventPodEvicted, Node: "zone-a-01", Pod: "default/web-1"},
		{T: 10 * time.Second, Event: sim.EventFaultStarted, Type: "checkpoint", Pod: "default/web-1"},
		{T: 13 * time.Second, Event: sim.EventCheckpointCreated, Node: "zone-a-01", Pod: "default/web-1"},
		{T: 20 * time.Second, Event: sim.EventCheckpointFailed, Node: "zone-a-01", Pod: "default/web-2"},
	} {
		m.Observe(r)
	}
	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.nodesRegistered.WithLabelValues("zone-a", "a"), 1},
		{m.leaseFailures.WithLabelValues("zone-a", "a"), 2},
		{m.conditionChanges.WithLabelValues("zone-a", "a", "Ready", "Unknown"), 1},
		{m.taintsAdded.WithLabelValues("gpu", "", "node.kubernetes.io/unreachable", "NoExecute"), 1},
		{m.zoneState.WithLabelValues("a", "Normal"), 0},
		{m.zoneState.WithLabelValues("a", "FullDisruption"), 1},
		{m.evictions.WithLabelValues("zone-a", "a"), 1},
		{m.checkpoints.WithLabelValues("zone-a", "a", ResultCreated), 1},
		{m.checkpoints.WithLabelValues("zone-a", "a", ResultFailed), 1},
		{m.records.WithLabelValues(sim.EventLeaseRenewFailed), 2},
		{m.faultsStarted.WithLabelValues("checkpoint"), 1},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: got %v, want %v", i, got, c.want)
		}
	}
	// One timed checkpoint (3 s); the failed one had no step to time it.
	want := `
# HELP nodesim_runtime_checkpoint_duration_seconds Virtual time from a checkpoint step to its CheckpointCreated or CheckpointFailed, by result.
# TYPE nodesim_runtime_checkpoint_duration_seconds histogram
nodesim_runtime_checkpoint_duration_seconds_bucket{result="created",le="3.2"} 1
`
	var b bytes.Buffer
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.checkpointSeconds)
	if err := WriteText(&b, reg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), strings.Split(want, "\n")[3]) || !strings.Contains(b.String(), `nodesim_runtime_checkpoint_duration_seconds_sum{result="created"} 3`) ||
		!strings.Contains(b.String(), `nodesim_runtime_checkpoint_duration_seconds_count{result="failed"} 0`) {
		t.Errorf("checkpoint histogram:\n%s", b.String())
	}
}

func TestObserveFleet(t *testing.T) {
	m, _ := newTestMetrics(t)
	node := func(name string, ready corev1.ConditionStatus, taints ...corev1.Taint) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}}
		if ready != "" {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: "False"}, {Type: corev1.NodeReady, Status: ready}}
		}
		return n
	}
	unreachable := corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute}
	m.ObserveFleet([]*corev1.Node{
		node("zone-a-1", "True"), node("zone-a-2", "True"), node("zone-a-3", "Unknown", unreachable),
		node("zone-a-4", ""), node("gpu-1", "False"),
	}, []*corev1.Pod{
		{Spec: corev1.PodSpec{NodeName: "zone-a-1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		{Spec: corev1.PodSpec{}},
	})
	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.nodes.WithLabelValues("zone-a", "a", "True"), 2},
		{m.nodes.WithLabelValues("zone-a", "a", "Unknown"), 2},
		{m.nodes.WithLabelValues("zone-a", "a", "False"), 0},
		{m.nodes.WithLabelValues("gpu", "", "False"), 1},
		{m.nodeTaints.WithLabelValues("zone-a", "a", unreachable.Key, "NoExecute"), 1},
		{m.pods.WithLabelValues("zone-a", "a", "Running"), 1},
		{m.pods.WithLabelValues("", "", "Pending"), 1},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: got %v, want %v", i, got, c.want)
		}
	}
	// The taint and the pods go: their series read 0, not their last value.
	m.ObserveFleet([]*corev1.Node{node("zone-a-3", "True")}, nil)
	if got := testutil.ToFloat64(m.nodeTaints.WithLabelValues("zone-a", "a", unreachable.Key, "NoExecute")); got != 0 {
		t.Errorf("taint gone: gauge %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.pods.WithLabelValues("zone-a", "a", "Running")); got != 0 {
		t.Errorf("pod gone: gauge %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.nodes.WithLabelValues("zone-a", "a", "True")); got != 1 {
		t.Errorf("nodes Ready: %v, want 1", got)
	}
}

func TestObserveRequest(t *testing.T) {
	m, _ := newTestMetrics(t)
	m.ObserveRequest(Request{Resource: "leases", Verb: "update", Code: 200, Node: "zone-a-1", Wall: time.Millisecond, Bytes: 300})
	m.ObserveRequest(Request{Resource: "leases", Verb: "update", Code: 409, Node: "zone-a-1", Wall: time.Millisecond, Bytes: 300})
	m.ObserveRequest(Request{Resource: "nodes/status", Verb: "patch", Code: 200, Node: "gpu-2", Bytes: 100})
	m.ObserveRequest(Request{Resource: "nodes/status", Verb: "update", Code: 200, Bytes: 1000}) // the lifecycle controller
	m.ObserveRequest(Request{Resource: "nodes", Verb: "list", Code: 0})
	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.leaseRenewals.WithLabelValues("zone-a", "a"), 1},
		{m.statusPosts.WithLabelValues("gpu", ""), 1},
		{m.apiRequests.WithLabelValues("leases", "update", "409"), 1},
		{m.apiRequests.WithLabelValues("nodes", "list", "error"), 1},
		{m.apiWriteBytes.WithLabelValues("leases", "update"), 300},
		{m.apiWriteBytes.WithLabelValues("nodes/status", "update"), 1000},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: got %v, want %v", i, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.apiSeconds); n != 4 {
		t.Errorf("latency histograms: %d series, want 4", n)
	}
}

func TestGathererDedupes(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Registerer: reg, Pools: []Pool{{Name: "a"}}}); err != nil {
		t.Fatal(err)
	}
	// The Go collector is in the legacy registry and the default one both.
	reg.MustRegister(prometheus.NewGoCollector()) //nolint:staticcheck // a duplicate on purpose
	mfs, err := Gatherer(reg).Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if seen[mf.GetName()] {
			t.Errorf("%s gathered twice", mf.GetName())
		}
		seen[mf.GetName()] = true
	}
	if !seen["nodesim_fleet_nodes"] || !seen["go_goroutines"] {
		t.Errorf("gathered %d families, missing ours or the Go runtime's", len(mfs))
	}
	var b bytes.Buffer
	if err := WriteText(&b, Gatherer(reg)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "# TYPE nodesim_fleet_nodes gauge") {
		t.Errorf("text exposition lacks nodesim_fleet_nodes")
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"9090":           "127.0.0.1:9090",
		":9090":          "127.0.0.1:9090",
		"0":              "127.0.0.1:0",
		"127.0.0.2:80":   "127.0.0.2:80",
		"0.0.0.0:9090":   "0.0.0.0:9090",
		"localhost:9100": "localhost:9100",
		"[::1]:9090":     "[::1]:9090",
	} {
		got, err := ListenAddr(in)
		if err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "host", "host:port", ":99999", "1.2.3.4:-1"} {
		if got, err := ListenAddr(bad); err == nil {
			t.Errorf("ListenAddr(%q) = %q, want an error", bad, got)
		}
	}
	ln, err := Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !IsLoopback(ln) || !ln.Addr().(*net.TCPAddr).IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("Listen(:0) on %s, want 127.0.0.1", ln.Addr())
	}
}

// BenchmarkObserveFleet is the per-barrier cost of the fleet gauges at
// 10,000 nodes in 5 pools with 30,000 pods.
func BenchmarkObserveFleet(b *testing.B) {
	var pools []Pool
	for i := range 5 {
		pools = append(pools, Pool{Name: fmt.Sprintf("zone-%c", 'a'+i), Zone: fmt.Sprintf("zone-%c", 'a'+i)})
	}
	m, err := New(Config{Registerer: prometheus.NewRegistry(), Pools: pools})
	if err != nil {
		b.Fatal(err)
	}
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := range 10000 {
		name := fmt.Sprintf("%s-%04d", pools[i%5].Name, i/5)
		nodes = append(nodes, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: "False"}, {Type: corev1.NodeReady, Status: "True"}}}})
		for range 3 {
			pods = append(pods, &corev1.Pod{Spec: corev1.PodSpec{NodeName: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		m.ObserveFleet(nodes, pods)
	}
}

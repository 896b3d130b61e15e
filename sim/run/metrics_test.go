package run

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/metrics"
)

// TestRunMetrics runs the zone outage with /metrics served and checks that
// metrics.prom agrees with the run's own accounts: every trace event, the
// kubelets' Lease writes and status posts, the fleet at the end, the
// evictions; and that /metrics answered during the run.
func TestRunMetrics(t *testing.T) {
	sc, err := scenarios.Load("../../scenarios/zone-outage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var scraped string
	var scrapeErr error
	out := t.TempDir()
	summary, err := Run(context.Background(), sc, Options{OutDir: out, MetricsListener: ln, Progress: func(virtual time.Duration) {
		if scraped != "" || scrapeErr != nil || virtual < time.Minute {
			return
		}
		resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
		if err != nil {
			scrapeErr = err
			return
		}
		defer resp.Body.Close()
		var b strings.Builder
		if _, scrapeErr = io.Copy(&b, resp.Body); scrapeErr == nil {
			scraped = b.String()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if scrapeErr != nil {
		t.Fatalf("scrape during the run: %v", scrapeErr)
	}
	for _, want := range []string{"# TYPE nodesim_fleet_nodes gauge", "# TYPE apiserver_request_total counter", "# TYPE etcd_mvcc_put_total counter"} {
		if !strings.Contains(scraped, want) {
			t.Errorf("/metrics during the run lacks %q", want)
		}
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/metrics"); err == nil {
		t.Error("/metrics still served after Run returned")
	}

	f, err := os.Open(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics.prom: %v", err)
	}
	sum := func(name string, match map[string]string) float64 {
		t.Helper()
		mf, ok := mfs[name]
		if !ok {
			t.Fatalf("metrics.prom lacks %s", name)
		}
		total := 0.0
	next:
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if v, ok := match[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			total += value(m)
		}
		return total
	}
	for event, n := range summary.Events {
		if got := sum("nodesim_trace_records_total", map[string]string{"event": event}); got != float64(n) {
			t.Errorf("trace records %s: metric %v, summary %d", event, got, n)
		}
	}
	writes := summary.APIWrites
	if got, want := sum("nodesim_heartbeat_lease_renewals_total", nil), float64(writes["leases"]["create"]+writes["leases"]["update"]); got != want || want == 0 {
		t.Errorf("lease renewals: metric %v, API writes %v", got, want)
	}
	if got, want := sum("nodesim_heartbeat_status_posts_total", nil), float64(writes["nodes/status"]["patch"]); got != want || want == 0 {
		t.Errorf("status posts: metric %v, API writes %v", got, want)
	}
	if got, want := sum("nodesim_api_write_bytes_total", map[string]string{"resource": "leases", "verb": "update"}), float64(summary.APIBytes["leases"]["update"]); got != want {
		t.Errorf("lease update bytes: metric %v, summary %v", got, want)
	}
	checks := []struct {
		name  string
		match map[string]string
		want  float64
	}{
		{"nodesim_fleet_nodes", map[string]string{"ready": "True"}, 60},
		{"nodesim_fleet_nodes", map[string]string{"pool": "zone-a", "zone": "zone-a", "ready": "True"}, 20},
		{"nodesim_fleet_nodes", map[string]string{"ready": "Unknown"}, 0},
		{"nodesim_controlplane_evictions_total", map[string]string{"pool": "zone-a"}, 20},
		{"nodesim_controlplane_evictions_total", map[string]string{"pool": "zone-b"}, 0},
		{"nodesim_fleet_taints_added_total", map[string]string{"pool": "zone-a", "key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}, 20},
		{"nodesim_fleet_node_taints", map[string]string{"key": "node.kubernetes.io/unreachable"}, 0},
		{"nodesim_controlplane_zone_state", map[string]string{"zone": "zone-a", "state": "Normal"}, 1},
		{"nodesim_timeline_faults_started_total", map[string]string{"type": "partition"}, 20},
		{"nodesim_sim_virtual_time_seconds", nil, sc.Duration.Seconds()},
	}
	for _, c := range checks {
		if got := sum(c.name, c.match); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.match, got, c.want)
		}
	}
	// Every replica runs; evicted pods may still be terminating.
	if got := sum("nodesim_runtime_pods", map[string]string{"phase": "Running"}); got < 60 {
		t.Errorf("running pods %v, want at least the 60 replicas", got)
	}
	if got := sum("nodesim_api_requests_total", map[string]string{"resource": "leases", "verb": "update", "code": "200"}); got != float64(writes["leases"]["update"]) {
		t.Errorf("lease updates 200: %v, summary %v", got, writes["leases"]["update"])
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func TestAPIVerb(t *testing.T) {
	for in, want := range map[string]string{
		"GET /api/v1/nodes": "list",
		"GET /api/v1/nodes?watch=true&resourceVersion=1":                        "watch",
		"GET /api/v1/nodes/n1":                                                  "get",
		"GET /api/v1/namespaces":                                                "list",
		"GET /api/v1/namespaces/default":                                        "get",
		"GET /api/v1/namespaces/default/pods":                                   "list",
		"GET /api/v1/namespaces/default/pods/p1":                                "get",
		"GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1": "get",
		"PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1": "update",
		"PATCH /api/v1/nodes/n1/status":                                         "patch",
		"POST /api/v1/namespaces/default/pods/p1/binding":                       "create",
		"DELETE /api/v1/namespaces/default/pods/p1":                             "delete",
		"GET /healthz": "get",
	} {
		method, target, _ := strings.Cut(in, " ")
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		if got := apiVerb(&http.Request{Method: method, URL: u}); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestRecordTap feeds the tap the trace as the tracer writes it, in
// arbitrary chunks, and checks every record is counted once with its
// fields.
func TestRecordTap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.Config{Registerer: reg, Pools: []metrics.Pool{{Name: "a", Zone: "z"}}})
	if err != nil {
		t.Fatal(err)
	}
	records := []sim.Record{
		{T: 1500 * time.Millisecond, Event: sim.EventNodeRegistered, Node: "a-1"},
		{T: 2 * time.Second, Event: sim.EventLeaseRenewed, Node: "a-1"},
		{T: 3 * time.Second, Event: sim.EventNodeTaintAdded, Node: "a-1", Key: "k\"\\ \u00e9", Effect: "NoExecute"},
		{T: 10 * time.Second, Event: sim.EventFaultStarted, Type: "checkpoint", Pod: "ns/p"},
		{T: 12500 * time.Millisecond, Event: sim.EventCheckpointCreated, Node: "a-1", Pod: "ns/p", Path: "/x"},
	}
	var trace []byte
	for i := range records {
		trace = records[i].AppendJSON(trace)
		trace = append(trace, '\n')
	}
	tap := &recordTap{m: m}
	for len(trace) > 0 {
		n := min(7, len(trace))
		if _, err := tap.Write(trace[:n]); err != nil {
			t.Fatal(err)
		}
		trace = trace[n:]
	}
	want := `
# HELP nodesim_fleet_taints_added_total Taints that appeared on a node (NodeTaintAdded), by key and effect.
# TYPE nodesim_fleet_taints_added_total counter
nodesim_fleet_taints_added_total{effect="NoExecute",key="k\"\\ é",pool="a",zone="z"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "nodesim_fleet_taints_added_total"); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "nodesim_trace_records_total":
			if len(mf.Metric) != len(records) {
				t.Errorf("records by event: %d series, want %d", len(mf.Metric), len(records))
			}
			for _, s := range mf.Metric {
				if s.Counter.GetValue() != 1 {
					t.Errorf("%v: %v records, want 1", s.Label, s.Counter.GetValue())
				}
			}
		case "nodesim_runtime_checkpoint_duration_seconds":
			for _, s := range mf.Metric {
				if s.Label[0].GetValue() == metrics.ResultCreated && s.Histogram.GetSampleSum() != 2.5 {
					t.Errorf("checkpoint duration %v s, want 2.5", s.Histogram.GetSampleSum())
				}
			}
		}
	}
}

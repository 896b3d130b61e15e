package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/klog/v2"

	"github.com/nodesim/nodesim/dashboards"
	"github.com/nodesim/nodesim/internal/testtool"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/apiserver"
	simrun "github.com/nodesim/nodesim/sim/run"
)

// The nodesim the tests scrape: two pools in two zones and a workload,
// served at 10X in this process, as `nodesim serve --metrics-addr` does.
const (
	servePools    = 2
	servePoolSize = 15
	serveReplicas = 8
	servePace     = 10
)

var serveScenario = fmt.Sprintf(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: dashboards}
spec:
  duration: 24h
  nodePools:
  - {name: a, count: %[1]d, labels: {topology.kubernetes.io/zone: zone-a}}
  - {name: b, count: %[1]d, labels: {topology.kubernetes.io/zone: zone-b}}
  workloads:
  - name: web
    replicas: %[2]d
    template:
      spec:
        containers:
        - {name: app, image: "nginx:1.27", resources: {requests: {cpu: 100m}}}
  expect:
  - condition: {type: Ready, status: "True"}
    by: 1h
`, servePoolSize, serveReplicas)

// served is the one nodesim the tests of this package share (the API
// server's own metrics live in process-wide registries, so one per
// process is also what a real nodesim has).
type served struct {
	once   sync.Once
	addr   string // host:port of /metrics
	err    error
	cancel context.CancelFunc
	done   chan error
}

func (s *served) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	sc, err := scenarios.Parse("dashboards", []byte(serveScenario))
	if err != nil {
		s.err = err
		return
	}
	srv, err := apiserver.Start(ctx, apiserver.Config{})
	if err != nil {
		s.err = err
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Stop()
		s.err = err
		return
	}
	s.addr = ln.Addr().String()
	s.done = make(chan error, 1)
	go func() {
		err := simrun.Serve(ctx, sc, srv, simrun.ServeOptions{
			Pace: servePace, Start: time.Now(), MetricsListener: ln, StateDir: filepath.Join(srv.Dir(), simrun.StateDirName),
		})
		if stopErr := srv.Stop(); err == nil {
			err = stopErr
		}
		s.done <- err
	}()
}

func (s *served) stop() error {
	if s.cancel == nil || s.done == nil {
		return nil
	}
	s.cancel()
	return <-s.done
}

// nodesim is the shared nodesim, started on first use.
func (s *served) get(t *testing.T) string {
	t.Helper()
	s.once.Do(s.start)
	if s.err != nil {
		t.Fatalf("start nodesim serve: %v", s.err)
	}
	return s.addr
}

// shared is the package's one nodesim (see served); TestMain stops it.
var shared served

func TestMain(m *testing.M) {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	code := m.Run()
	if err := shared.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop nodesim serve:", err)
		code = 1
	}
	os.Exit(code)
}

// servedFamilies scrapes the shared nodesim's /metrics once it shows the
// fleet registered and returns the metric families' types by name.
func servedFamilies(t *testing.T) map[string]string {
	t.Helper()
	addr := shared.get(t)
	families := map[string]string{}
	waitFor(t, 60*time.Second, "nodesim /metrics to show every node registered", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := p.TextToMetricFamilies(resp.Body)
		if err != nil {
			return false, err.Error()
		}
		registered := 0.0
		if mf, ok := mfs["nodesim_fleet_nodes_registered_total"]; ok {
			for _, m := range mf.Metric {
				registered += m.GetCounter().GetValue()
			}
		}
		for name, mf := range mfs {
			families[name] = strings.ToLower(mf.GetType().String())
		}
		return registered == servePools*servePoolSize, fmt.Sprintf("%v nodes registered", registered)
	})
	return families
}

// waitFor polls cond every 250 ms until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, status := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %s", within, what, status)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestPrometheusSeesEveryDashboardQuery runs Debian's prometheus against
// the shared nodesim's /metrics (scraped every 5 s) and checks through
// Prometheus's HTTP API that every dashboard query returns data, and that
// a few of them say what the fleet is doing.
func TestPrometheusSeesEveryDashboardQuery(t *testing.T) {
	bin := testtool.Need(t, testtool.Prometheus)
	servedFamilies(t) // the fleet is up
	target := shared.get(t)

	dir := t.TempDir()
	promAddr := freeAddr(t)
	// kube-apiserver's metrics are many: gathering them takes over a
	// second under the race detector, and over 5 s on a machine busy with
	// three other simulations (scrapes timed out and rates stayed empty).
	config := fmt.Sprintf(`global:
  scrape_interval: 10s
  scrape_timeout: 10s
  evaluation_interval: 10s
scrape_configs:
  - job_name: nodesim
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus log:\n%s", tail(string(b), 3000))
		}
	}()

	api := "http://" + promAddr
	waitFor(t, 3*time.Minute, "prometheus to scrape nodesim", func() (bool, string) {
		v, err := instant(api, `up{job="nodesim"}`)
		if err != nil {
			return false, err.Error()
		}
		return len(v) == 1 && v[0].Value == 1, fmt.Sprint(v)
	})

	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	// A window longer than the test reaches back to Prometheus's first
	// scrape: every rate and deriv has data once two scrapes succeeded,
	// however many timed out on a loaded machine.
	const window = "15m"
	pending := map[string]string{} // expression as sent -> dashboard
	for _, d := range all {
		for _, q := range d.Queries {
			pending[strings.ReplaceAll(q, dashboards.RateInterval, window)] = d.UID
		}
	}
	total := len(pending)
	waitFor(t, 3*time.Minute, "every dashboard query to return data", func() (bool, string) {
		for q := range pending {
			v, err := instant(api, q)
			if err != nil {
				t.Fatalf("query %q: %v", q, err)
			}
			if len(v) > 0 {
				delete(pending, q)
			}
		}
		var left []string
		for q, uid := range pending {
			left = append(left, uid+": "+q)
		}
		sort.Strings(left)
		return len(pending) == 0, fmt.Sprintf("%d of %d queries still return nothing:\n%s", len(pending), total, strings.Join(left, "\n"))
	})

	// The data is the fleet's, not just present.
	checks := []struct {
		query string
		ok    func(float64) bool
		want  string
	}{
		{`sum(nodesim_fleet_nodes{ready="True"})`, func(v float64) bool { return v == servePools*servePoolSize }, "every node Ready"},
		{`count(count by (pool, zone) (nodesim_fleet_nodes))`, func(v float64) bool { return v == servePools }, "one series per pool and zone"},
		{`sum(rate(nodesim_heartbeat_lease_renewals_total[` + window + `]))`, func(v float64) bool { return v > 0 }, "leases renewed"},
		{`sum(nodesim_runtime_pods{phase="Running"})`, func(v float64) bool { return v == serveReplicas }, "every replica running"},
		{`sum(rate(etcd_mvcc_put_total[` + window + `]))`, func(v float64) bool { return v > 0 }, "etcd puts"},
		{`nodesim_sim_speed_ratio`, func(v float64) bool { return v > 1 }, "virtual time faster than wall time"},
	}
	for _, c := range checks {
		waitFor(t, 60*time.Second, c.want, func() (bool, string) {
			v, err := instant(api, c.query)
			if err != nil {
				return false, err.Error()
			}
			return len(v) == 1 && c.ok(float64(v[0].Value)), fmt.Sprintf("%s = %v", c.query, v)
		})
	}
}

// instant runs an instant query through Prometheus's HTTP API.
func instant(api, query string) (model.Vector, error) {
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode query response (%s): %w", resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("prometheus: %s", body.Error)
	}
	switch body.Data.ResultType {
	case "vector":
		var v model.Vector
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, err
		}
		return v, nil
	case "scalar":
		var s model.Scalar
		if err := json.Unmarshal(body.Data.Result, &s); err != nil {
			return nil, err
		}
		return model.Vector{{Value: s.Value, Timestamp: s.Timestamp}}, nil
	}
	return nil, fmt.Errorf("result type %s", body.Data.ResultType)
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

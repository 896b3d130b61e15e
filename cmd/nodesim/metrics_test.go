package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBadMetricsAddrExitsTwo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, args := range [][]string{
		{"serve", "--nodes", "1", "--metrics-addr", "nowhere"},
		{"serve", "--nodes", "1", "--metrics-addr", ":99999"},
		{"serve", "--nodes", "1", "--metrics-addr", taken.Addr().String()},
		{"run", "../../scenarios/default.yaml", "--metrics-addr", "host:port"},
		{"run", "../../scenarios/default.yaml", "--metrics-addr", taken.Addr().String()},
	} {
		if code := run(context.Background(), args); code != exitBadInput {
			t.Errorf("nodesim %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

// TestServeMetrics serves two nodes with --metrics-addr given as a bare
// port (loopback) and reads nodesim's, the API server's and etcd's metrics
// from it.
func TestServeMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "--nodes", "2", "--pace", "10X", "--metrics-addr", port}) }()
	var body string
	waitFor(t, 60*time.Second, func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err == nil && strings.Contains(body, `nodesim_fleet_nodes{pool="node",ready="True",zone=""} 2`)
	})
	for _, want := range []string{"# TYPE nodesim_heartbeat_lease_renewals_total counter", "# TYPE apiserver_request_total counter", "# TYPE etcd_mvcc_put_total counter"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after interrupt", code)
	}
}

func TestRunWritesMetricsProm(t *testing.T) {
	path := writeScenario(t, runHeader)
	out := t.TempDir()
	if code := run(context.Background(), []string{"run", path, "--out", out}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(filepath.Join(out, "metrics.prom"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "# TYPE nodesim_sim_virtual_time_seconds gauge") {
		t.Fatalf("metrics.prom lacks nodesim_sim_virtual_time_seconds")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	simrun "github.com/nodesim/nodesim/sim/run"
)

// TestBenchJSON runs a tiny bench and checks every field INTERFACE.md
// names comes out, with values that agree with each other.
func TestBenchJSON(t *testing.T) {
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"bench", "--nodes", "12", "--duration", "1m", "--json"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(out.Bytes(), &fields); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	for _, name := range []string{"nodes", "virtualSeconds", "wallSeconds", "speedup", "apiWrites", "apiWritesPerSecond",
		"etcdPutsPerSecond", "efficiency", "apiCeilingWritesPerSecond", "ceilingShare", "apiCeilingCpuMillisecondsPerWrite", "registrationSeconds", "rssBytes", "leaseWrites", "statusWrites", "leaseBytes", "statusBytes"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("no %q in %s", name, out.String())
		}
	}
	var r simrun.BenchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	// 12 nodes renew a lease every 10 s: about 72 lease writes a minute, less the first 10 s.
	if r.Nodes != 12 || r.VirtualSeconds != 60 || r.LeaseWrites < 48 || r.LeaseWrites > 90 || r.StatusWrites == 0 ||
		r.APIWrites < r.LeaseWrites+r.StatusWrites || r.EtcdPutsPerSecond <= 0 || r.RegistrationSeconds <= 0 ||
		r.LeaseBytes <= r.LeaseWrites*100 || r.APICeilingWritesPerSecond <= 0 || r.APICeilingCPUPerWrite <= 0 ||
		r.CeilingShare != r.APIWritesPerSecond/r.APICeilingWritesPerSecond {
		t.Errorf("implausible result %+v", r)
	}
}

func TestBenchBadSizes(t *testing.T) {
	for _, list := range []string{"0", "x", "10,", "-5"} {
		var stderr bytes.Buffer
		if code := runWithStderr(context.Background(), []string{"bench", "--nodes", list}, &stderr); code != exitBadInput ||
			!strings.Contains(stderr.String(), "--nodes") {
			t.Errorf("bench --nodes %q: exit %d, %q", list, code, stderr.String())
		}
	}
}

// TestBenchScenario runs a shipped scenario through bench --scenario: its
// writes come out against a ceiling measured in the same run, with
// figures that agree with each other, and its expectations hold.
func TestBenchScenario(t *testing.T) {
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"bench", "--scenario", "../../scenarios/zone-outage.yaml", "--json"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r simrun.ScenarioBenchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	if r.Scenario != "zone-outage" || r.Nodes != 60 || r.VirtualSeconds != 1200 || r.WallSeconds <= 0 ||
		r.APIWrites < 60*60 || // a lease every 10 s, but for the partitioned zone
		r.APICeilingWritesPerSecond <= 0 ||
		math.Abs(r.CeilingShare-r.APIWritesPerSecond/r.APICeilingWritesPerSecond) > 1e-9 ||
		math.Abs(r.WriteBoundSeconds-float64(r.APIWrites)/r.APICeilingWritesPerSecond) > 1e-9 ||
		r.ExpectationsPassed != 8 || r.ExpectationsFailed != 0 {
		t.Errorf("implausible result %+v", r)
	}
}

func TestBenchScenarioBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--scenario", "no-such.yaml"},
		{"bench", "--scenario", "../../scenarios/zone-outage.yaml", "--nodes", "10"},
	} {
		var stderr bytes.Buffer
		if code := runWithStderr(context.Background(), args, &stderr); code != exitBadInput || !strings.HasPrefix(stderr.String(), "nodesim: ") {
			t.Errorf("%v: exit %d, %q", args, code, stderr.String())
		}
	}
}

// TestBenchSoak runs a short soak: one sample a virtual hour, after a
// timeline with a fault every hour, and the growth from hour 2 computed
// from the samples.
func TestBenchSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("three virtual hours")
	}
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"bench", "--nodes", "10", "--soak", "3h", "--json"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r simrun.BenchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	if r.VirtualSeconds != 3*3600 || r.Soak == nil || len(r.Soak.Samples) != 3 {
		t.Fatalf("soak of %v virtual s: %+v", r.VirtualSeconds, r.Soak)
	}
	for i, x := range r.Soak.Samples {
		if x.VirtualHour != i+1 || x.HeapBytes == 0 || x.Goroutines == 0 || x.OpenFiles == 0 {
			t.Errorf("sample %d: %+v", i, x)
		}
	}
	base, last := r.Soak.Samples[1], r.Soak.Samples[2]
	if want := (float64(last.HeapBytes) - float64(base.HeapBytes)) / float64(base.HeapBytes); math.Abs(r.Soak.HeapGrowth-want) > 1e-9 {
		t.Errorf("heap growth %v, want %v", r.Soak.HeapGrowth, want)
	}
}

func TestBenchSoakBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--soak", "2h", "--nodes", "10"},
		{"bench", "--soak", "90m", "--nodes", "10"},
		{"bench", "--soak", "3h", "--nodes", "10,20"},
		{"bench", "--soak", "3h", "--nodes", "10", "--duration", "1h"},
	} {
		var stderr bytes.Buffer
		if code := runWithStderr(context.Background(), args, &stderr); code != exitBadInput || !strings.Contains(stderr.String(), "--soak") {
			t.Errorf("%v: exit %d, %q", args, code, stderr.String())
		}
	}
}

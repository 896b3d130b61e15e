package run

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodesim/nodesim/scenarios"
)

// TestRunReportsWhatTheTraceHoldsAndWhatFailed: summary.json counts the
// trace file's lines, measures the API's requests, failures and latency,
// names a failed expectation with its line, what was expected and what was
// seen; report.html says the same and shows the run's identity.
func TestRunReportsWhatTheTraceHoldsAndWhatFailed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "partition.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: partition}
spec:
  duration: 3m
  nodePools:
  - {name: a, count: 3}
  timeline:
  - at: 1m
    do: partition
    nodes: {names: [a-0]}
    for: 1m
  expect:
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    by: 2m
`), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	s, err := Run(context.Background(), sc, Options{OutDir: out, TraceFull: true, Flags: "--trace full"})
	if err != nil {
		t.Fatal(err)
	}
	trace, err := os.ReadFile(filepath.Join(out, TraceFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(trace, []byte("\n")); s.TraceRecords != lines {
		t.Errorf("summary counts %d trace records, trace.jsonl has %d lines", s.TraceRecords, lines)
	}
	if s.API == nil || s.API.Requests == 0 || s.API.Failed == 0 || s.API.LatencySeconds["p99"] <= 0 {
		t.Errorf("api summary %+v: want requests, the partition's failures and a latency", s.API)
	}
	if len(s.Expectations) != 1 {
		t.Fatalf("expectations %+v", s.Expectations)
	}
	e := s.Expectations[0]
	if e.Passed || e.Line != 14 || !strings.HasPrefix(e.Expected, "expected 3 nodes of pool a with Ready=Unknown") || e.Seen == "" {
		t.Errorf("failed expectation %+v: want line 14, expected and seen", e)
	}
	if s.Nodesim == nil || s.Nodesim.Version == "" || s.ScenarioFile != path || s.KubernetesVersion != "1.37" || s.Flags != "--trace full" {
		t.Errorf("identity: nodesim %+v file %q kubernetesVersion %q flags %q", s.Nodesim, s.ScenarioFile, s.KubernetesVersion, s.Flags)
	}
	b, err := os.ReadFile(filepath.Join(out, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nodesim", "scenarioFile", "kubernetesVersion", "traceRecords", "api"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("summary.json lacks %s", k)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{path + ":14: condition: expected 3 nodes", `class="verdict fail"`,
		">p99</text>", ">failed Lease renewals/s (trace)</text>", ">leases</text>", "Registration to Ready, by pool",
		"<dt>flags</dt><dd>--trace full</dd>", `<label for="ck-0">`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

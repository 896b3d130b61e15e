package scenarios_test

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nodesim/nodesim/scenarios"
)

// maxParseAlloc bounds what Parse may allocate for one fuzz input (at
// most a few kilobytes: a scenario file of MaxFileSize would be
// proportionally more).
const maxParseAlloc = 256 << 20

// FuzzParse holds Parse to its promise: on any input it returns either a
// valid scenario or errors that name the file, never a panic.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./scenarios/
func FuzzParse(f *testing.F) {
	for _, file := range exampleFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		"", "---\n", "- a\n", "a: *b\n", head, head + "---\n" + head,
		head + "    labels: &l {a: b}\n  - <<: {name: c, count: 1}\n    labels: *l\n",
		head + "    registerWithTaints: [a=b:NoSchedule, {key: c, effect: NoExecute}]\n",
		head + "    capacity: {cpu: 500m, hugepages-2Mi: 1Gi, example.com/gpu: 4}\n",
		head + "  controlPlane: {}\n  timeline: [{at: 5m, do: partition}]\n",
		head + "  controlPlane: {nodeMonitorGracePeriod: 40s, nodeEvictionRate: 0.5, unhealthyZoneThreshold: 0.6}\n",
		fleet + `  timeline:
  - {at: 1m, do: partition, nodes: {pool: b, fraction: 0.5}, for: 5m}
  - {at: 2m, do: addNodes, pool: a, count: 3}
  - {at: 3m, do: checkpoint, pod: default/web-0, container: app, timeout: 10s}
  - {at: 4m, do: restore, pod: default/web-0, container: app, node: a-4}
  - {at: 5m, do: apiServerLatency, latency: 100ms, for: 1m}
  expect:
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: b}
    atLeast: 40
    by: 2m
  - taint: node.kubernetes.io/unreachable:NoExecute
    count: 40
    at: 3m
  - evictions: {workload: web}
    atMost: 3
  - zoneState: {zone: zone-b, state: PartialDisruption}
  - taintRate: {key: node.kubernetes.io/unreachable, effect: NoExecute}
    atMost: 6
    per: 1m
`,
		"spec: &s {<<: *s}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Validation of any input, accepted or not, allocates a bounded
		// amount of memory: no alias bomb, no per-node or per-pool cost
		// that a short file can multiply (150,000 empty pools once took
		// 1.1 GB).
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := scenarios.Parse("f.yaml", data)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxParseAlloc {
			t.Fatalf("parsing %d bytes allocated %d MiB, more than %d MiB", len(data), alloc>>20, maxParseAlloc>>20)
		}
		if err != nil {
			if s != nil {
				t.Fatalf("a scenario along with error %v", err)
			}
			var first *scenarios.Error
			if !errors.As(err, &first) {
				t.Fatalf("error %v (%T) holds no *scenarios.Error", err, err)
			}
			for _, e := range all(t, err) {
				if e.File != "f.yaml" || e.Line < 0 || e.Message == "" || !strings.HasPrefix(e.Error(), "f.yaml") {
					t.Fatalf("malformed error %#v", e)
				}
			}
			return
		}
		if s == nil || s.Name == "" || s.Duration <= 0 || s.NodeCount() > scenarios.MaxNodes {
			t.Fatalf("invalid scenario accepted: %+v", s)
		}
		names := make(map[string]bool)
		for _, p := range s.NodePools {
			if p.Name == "" || p.Count < 0 || names[p.Name] || p.Capacity == nil {
				t.Fatalf("invalid pool accepted: %+v", p)
			}
			names[p.Name] = true
			if p.Count > 0 && len(p.NodeName(p.Count-1)) > 63 {
				t.Fatalf("node name %s too long", p.NodeName(p.Count-1))
			}
		}
		for i, st := range s.Timeline {
			if st.At < 0 || st.At >= s.Duration || st.For < 0 || st.For > s.Duration-st.At || !slices.Contains(scenarios.Actions, st.Do) {
				t.Fatalf("invalid step accepted: %+v", st)
			}
			if i > 0 && s.Timeline[i-1].At > st.At {
				t.Fatalf("timeline out of order at %d", i)
			}
			if sel := st.Nodes; sel.Fraction < 0 || sel.Fraction > 1 {
				t.Fatalf("invalid fraction accepted: %+v", st)
			}
		}
		for i := range s.Workloads {
			if len(s.Workloads[i].Template.Spec.Containers) == 0 {
				t.Fatalf("workload without containers accepted: %+v", s.Workloads[i])
			}
		}
		// Checking expectations against no records never fails to answer.
		if results := s.Check(nil, s.Duration); len(results) != len(s.Expect) {
			t.Fatalf("%d results for %d expectations", len(results), len(s.Expect))
		}
	})
}

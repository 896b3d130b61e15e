package scenarios_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodesim/nodesim/scenarios"
)

func TestTimeline(t *testing.T) {
	s := mustParse(t, fleet+`  timeline:
  - {at: 5m, do: partition, nodes: {pool: a}, for: 5m}
  - {at: 1m, do: stopKubelet, nodes: {names: [b-07, b-03]}, for: 90s}
  - {at: 1m, do: addNodes, pool: b, count: 30}
  - {at: 2m30s, do: startKubelet}
  - {at: 0s, do: restartKubelet, nodes: {labels: {kubernetes.io/arch: arm64}, fraction: 0.5}}
  - {at: 3m, do: runtimeDown, nodes: {labels: {tier: web}}}
  - {at: 3m, do: networkDown, for: 1m}
  - {at: 3m, do: memoryPressure}
  - {at: 3m, do: diskPressure}
  - {at: 3m, do: pidPressure}
  - {at: 4m, do: apiServerOutage, for: 30s}
  - {at: 4m, do: apiServerLatency, latency: 250ms}
  - {at: 4m, do: cordon, nodes: {pool: b, fraction: 1}}
  - {at: 6m, do: uncordon}
  - {at: 2m, do: checkpoint, pod: default/web-2, container: app, timeout: 30s}
  - {at: 3m, do: restore, pod: default/web-2, container: app, node: b-105}
  - {at: 5m, do: deviceHealth, resourceName: example.com/gpu, healthy: 0, nodes: {pool: b}, for: 1m}
  - {at: 7m, do: deleteNodes, pool: b, count: 100}
`)
	if len(s.Timeline) != 18 {
		t.Fatalf("%d steps, want 18", len(s.Timeline))
	}
	// In the order they happen: by time, fleet changes first at an instant,
	// then file order.
	var order []string
	for _, st := range s.Timeline {
		order = append(order, fmt.Sprintf("%s@%s:%d", st.Do, st.At, st.Line))
	}
	want := []string{
		"restartKubelet@0s:27", "addNodes@1m0s:25", "stopKubelet@1m0s:24", "checkpoint@2m0s:37", "startKubelet@2m30s:26",
		"runtimeDown@3m0s:28", "networkDown@3m0s:29", "memoryPressure@3m0s:30", "diskPressure@3m0s:31", "pidPressure@3m0s:32",
		"restore@3m0s:38", "apiServerOutage@4m0s:33", "apiServerLatency@4m0s:34", "cordon@4m0s:35", "partition@5m0s:23",
		"deviceHealth@5m0s:39", "uncordon@6m0s:36", "deleteNodes@7m0s:40",
	}
	if !slices.Equal(order, want) {
		t.Errorf("order\n got %v\nwant %v", order, want)
	}
	byLine := make(map[int]scenarios.Step)
	for _, st := range s.Timeline {
		byLine[st.Line] = st
	}
	for line, want := range map[int]scenarios.Step{
		23: {At: 5 * time.Minute, Do: "partition", Nodes: scenarios.NodeSelector{Pool: "a"}, For: 5 * time.Minute, Line: 23, Index: 0},
		24: {At: time.Minute, Do: "stopKubelet", Nodes: scenarios.NodeSelector{Names: []string{"b-07", "b-03"}}, For: 90 * time.Second, Line: 24, Index: 1},
		25: {At: time.Minute, Do: "addNodes", Pool: "b", Count: 30, Line: 25, Index: 2},
		27: {Do: "restartKubelet", Nodes: scenarios.NodeSelector{Labels: map[string]string{"kubernetes.io/arch": "arm64"}, Fraction: 0.5}, Line: 27, Index: 4},
		34: {At: 4 * time.Minute, Do: "apiServerLatency", Latency: 250 * time.Millisecond, Line: 34, Index: 11},
		37: {At: 2 * time.Minute, Do: "checkpoint", Pod: "default/web-2", Container: "app", Timeout: 30 * time.Second, Line: 37, Index: 14},
		38: {At: 3 * time.Minute, Do: "restore", Pod: "default/web-2", Container: "app", Node: "b-105", Line: 38, Index: 15},
		39: {At: 5 * time.Minute, Do: "deviceHealth", ResourceName: "example.com/gpu", Healthy: 0, Nodes: scenarios.NodeSelector{Pool: "b"}, For: time.Minute, Line: 39, Index: 16},
	} {
		if got := byLine[line]; !reflect.DeepEqual(got, want) {
			t.Errorf("line %d:\n got %+v\nwant %+v", line, got, want)
		}
	}
	if end := byLine[23].End(s.Duration); end != 10*time.Minute {
		t.Errorf("partition ends at %s", end)
	}
	if end := byLine[29].End(s.Duration); end != 4*time.Minute {
		t.Errorf("networkDown ends at %s", end)
	}
	if end := byLine[30].End(s.Duration); end != s.Duration {
		t.Errorf("memoryPressure ends at %s, want the end of the run", end)
	}

	// The fleet grows at 1m and shrinks at 7m.
	for _, tc := range []struct {
		at    time.Duration
		b     int
		first string
		last  string
	}{{0, 80, "a-0", "b-79"}, {59 * time.Second, 80, "a-0", "b-79"}, {time.Minute, 110, "a-0", "b-109"}, {7 * time.Minute, 10, "a-0", "b-09"}} {
		nodes := s.NodesAt(tc.at)
		if len(nodes) != 2+tc.b || nodes[0] != tc.first || nodes[len(nodes)-1] != tc.last {
			t.Errorf("at %s: %d nodes %s .. %s, want %d %s .. %s", tc.at, len(nodes), nodes[0], nodes[len(nodes)-1], 2+tc.b, tc.first, tc.last)
		}
		if n, ok := s.PoolSizeAt("b", tc.at); !ok || n != tc.b {
			t.Errorf("PoolSizeAt(b, %s) = %d, %v", tc.at, n, ok)
		}
	}
	if nodes := s.NodesAt(time.Minute); !slices.Contains(nodes, "b-99") || !slices.Contains(nodes, "b-100") || slices.Contains(nodes, "b-080") {
		t.Errorf("grown pool names: %v", nodes[70:])
	}
	if _, ok := s.PoolSizeAt("c", 0); ok {
		t.Errorf("PoolSizeAt of a missing pool")
	}
	for _, action := range scenarios.Actions {
		if _, ok := byAction(s.Timeline, action); !ok {
			t.Errorf("no step does %s", action)
		}
	}
	if !scenarios.NodeAction("partition") || scenarios.NodeAction("apiServerOutage") || scenarios.NodeAction("addNodes") ||
		!scenarios.Lasting("cordon") || scenarios.Lasting("uncordon") || scenarios.Lasting("checkpoint") {
		t.Errorf("NodeAction / Lasting disagree with the documented table")
	}
}

func byAction(steps []scenarios.Step, action string) (scenarios.Step, bool) {
	i := slices.IndexFunc(steps, func(st scenarios.Step) bool { return st.Do == action })
	if i < 0 {
		return scenarios.Step{}, false
	}
	return steps[i], true
}

func TestTimelineErrors(t *testing.T) {
	tl := fleet + "  timeline:\n" // line 22; the first step is at 23
	runErrorCases(t, []errorCase{
		{"not a list", fleet + "  timeline: {at: 5m}\n", 22, "spec.timeline", "must be a list, not a mapping", 0},
		{"unknown action", tl + "  - at: 5m\n    do: explode\n", 24, "spec.timeline[0].do",
			`unknown action "explode": want one of partition, stopKubelet, startKubelet, restartKubelet, runtimeDown, networkDown, memoryPressure, diskPressure, pidPressure, apiServerOutage, apiServerLatency, cordon, uncordon, checkpoint, restore, deviceHealth, addNodes, deleteNodes`, 0},
		{"action not a string", tl + "  - {at: 5m, do: [partition]}\n", 23, "spec.timeline[0].do", "must be a string, not a list", 0},
		{"unknown key", tl + "  - at: 5m\n    do: partition\n    node: {pool: a}\n", 25, "spec.timeline[0].node", "partition does not take node (it takes nodes, for)", 0},
		{"unknown field", tl + "  - at: 5m\n    do: partition\n    duration: 5m\n", 25, "spec.timeline[0].duration", `unknown field "duration"; known fields: at, do, nodes, for`, 0},
		{"misspelt field", tl + "  - at: 5m\n    do: partition\n    nodess: {pool: a}\n", 25, "spec.timeline[0].nodess", `unknown field "nodess" (did you mean "nodes"?)`, 0},
		{"no at", tl + "  - do: partition\n", 23, "spec.timeline[0].at", "required", 0},
		{"no do", tl + "  - at: 5m\n", 23, "spec.timeline[0].do", "required", 0},
		{"negative at", tl + "  - {at: -1s, do: partition}\n", 23, "spec.timeline[0].at", "must not be negative", 0},
		{"at the end", tl + "  - {at: 10m, do: partition}\n", 23, "spec.timeline[0].at", "must be before the end of the run at 10m0s", 0},
		{"at past the end", tl + "  - {at: 1h, do: partition}\n", 23, "spec.timeline[0].at", "must be before the end of the run at 10m0s", 0},
		{"at without unit", tl + "  - {at: 300, do: partition}\n", 23, "spec.timeline[0].at", `invalid duration "300"`, 0},
		{"negative for", tl + "  - at: 5m\n    do: partition\n    for: -5m\n", 25, "spec.timeline[0].for", "must be more than 0", 0},
		{"zero for", tl + "  - {at: 5m, do: partition, for: 0s}\n", 23, "spec.timeline[0].for", "must be more than 0 (leave it out", 0},
		{"for past the end", tl + "  - at: 5m\n    do: partition\n    for: 5m1s\n", 25, "spec.timeline[0].for", "the step would end at 10m1s, past the end of the run at 10m0s", 0},
		{"for past the end, duration later in the file",
			strings.Replace(fleet, "  duration: 10m\n", "", 1) + "  timeline: [{at: 5m, do: partition, for: 6m}]\n  duration: 10m\n", 21, "spec.timeline[0].for", "the step would end at 11m0s, past the end of the run at 10m0s", 0},
		{"for on an instant action", tl + "  - at: 5m\n    do: restartKubelet\n    for: 1m\n", 25, "spec.timeline[0].for", "restartKubelet does not take for (it takes nodes)", 0},
		{"nodes on a cluster action", tl + "  - at: 5m\n    do: apiServerOutage\n    nodes: {pool: a}\n", 25, "spec.timeline[0].nodes", "apiServerOutage does not take nodes (it takes for)", 0},
		{"nodes on addNodes", tl + "  - {at: 5m, do: addNodes, pool: a, count: 1, nodes: {pool: a}}\n", 23, "spec.timeline[0].nodes", "addNodes does not take nodes (it takes pool, count)", 0},
		{"latency missing", tl + "  - {at: 5m, do: apiServerLatency}\n", 23, "spec.timeline[0].latency", "required by apiServerLatency", 0},
		{"latency negative", tl + "  - {at: 5m, do: apiServerLatency, latency: -1ms}\n", 23, "spec.timeline[0].latency", "must be more than 0", 0},
		{"latency on partition", tl + "  - {at: 5m, do: partition, latency: 1s}\n", 23, "spec.timeline[0].latency", "partition does not take latency", 0},

		// Selectors.
		{"pool does not exist", tl + "  - at: 5m\n    do: partition\n    nodes: {pool: zone-c}\n", 25, "spec.timeline[0].nodes.pool", `no pool named "zone-c"`, 0},
		{"labels match no node", tl + "  - at: 5m\n    do: partition\n    nodes:\n      labels: {tier: db}\n", 25, "spec.timeline[0].nodes", "matches no node", 0},
		{"pool and labels match no node", tl + "  - at: 5m\n    do: partition\n    nodes: {pool: b, labels: {tier: web}}\n", 25, "spec.timeline[0].nodes", "matches no node", 0},
		{"arch label matches no node", tl + "  - {at: 5m, do: partition, nodes: {pool: a, labels: {kubernetes.io/arch: arm64}}}\n", 23, "spec.timeline[0].nodes", "matches no node", 0},
		{"hostname label of another pool", tl + "  - {at: 5m, do: partition, nodes: {pool: a, labels: {kubernetes.io/hostname: b-01}}}\n", 23, "spec.timeline[0].nodes", "matches no node", 0},
		{"names and pool disjoint", tl + "  - {at: 5m, do: partition, nodes: {pool: a, names: [b-01]}}\n", 23, "spec.timeline[0].nodes", "matches no node", 0},
		{"name not in the fleet", tl + "  - at: 5m\n    do: partition\n    nodes:\n      names:\n      - a-0\n      - a-2\n", 28, "spec.timeline[0].nodes.names[1]", `node "a-2" does not exist at 5m0s`, 0},
		{"name of no pool", tl + "  - {at: 5m, do: partition, nodes: {names: [c-1]}}\n", 23, "spec.timeline[0].nodes.names[0]", `no node named "c-1" in the fleet`, 0},
		{"name with the wrong padding", tl + "  - {at: 5m, do: partition, nodes: {names: [b-7]}}\n", 23, "spec.timeline[0].nodes.names[0]", `no node named "b-7" in the fleet`, 0},
		{"duplicate name", tl + "  - {at: 5m, do: partition, nodes: {names: [a-0, a-0]}}\n", 23, "spec.timeline[0].nodes.names[1]", `duplicate node "a-0" (first at line 23)`, 0},
		{"empty names", tl + "  - {at: 5m, do: partition, nodes: {names: []}}\n", 23, "spec.timeline[0].nodes.names", "must not be empty", 0},
		{"fraction 0", tl + "  - at: 5m\n    do: partition\n    nodes: {fraction: 0}\n", 25, "spec.timeline[0].nodes.fraction", "must be more than 0 and at most 1, not 0", 0},
		{"fraction above 1", tl + "  - at: 5m\n    do: partition\n    nodes:\n      fraction: 1.5\n", 26, "spec.timeline[0].nodes.fraction", "must be more than 0 and at most 1, not 1.5", 0},
		{"fraction negative", tl + "  - {at: 5m, do: partition, nodes: {fraction: -0.1}}\n", 23, "spec.timeline[0].nodes.fraction", "must be more than 0 and at most 1", 0},
		{"fraction a percentage", tl + "  - {at: 5m, do: partition, nodes: {fraction: 10%}}\n", 23, "spec.timeline[0].nodes.fraction", `must be a number, not "10%"`, 0},
		{"selector unknown field", tl + "  - {at: 5m, do: partition, nodes: {zone: a}}\n", 23, "spec.timeline[0].nodes.zone", `unknown field "zone"; known fields: pool, labels, names, fraction`, 0},
		{"selector label", tl + "  - {at: 5m, do: partition, nodes: {labels: {a: b c}}}\n", 23, "spec.timeline[0].nodes.labels.a", `invalid label value "b c"`, 0},
		{"empty fleet", strings.Replace(head, "count: 2", "count: 0", 1) + "  timeline: [{at: 5m, do: partition}]\n", 10, "spec.timeline[0].nodes", "matches no node: the fleet is empty at 5m0s", 0},
		{"node deleted before", tl + "  - {at: 1m, do: deleteNodes, pool: a, count: 2}\n  - {at: 5m, do: partition, nodes: {pool: a}}\n", 24, "spec.timeline[1].nodes", "matches no node", 0},
		{"node added later", tl + "  - {at: 1m, do: partition, nodes: {names: [a-2]}}\n  - {at: 2m, do: addNodes, pool: a, count: 1}\n", 23, "spec.timeline[0].nodes.names[0]", `node "a-2" does not exist at 1m0s`, 0},

		// addNodes, deleteNodes.
		{"addNodes without pool", tl + "  - {at: 5m, do: addNodes, count: 1}\n", 23, "spec.timeline[0].pool", "required by addNodes", 0},
		{"addNodes without count", tl + "  - {at: 5m, do: addNodes, pool: a}\n", 23, "spec.timeline[0].count", "required by addNodes", 0},
		{"addNodes pool does not exist", tl + "  - at: 5m\n    do: addNodes\n    pool: c\n    count: 1\n", 25, "spec.timeline[0].pool", `no pool named "c"`, 0},
		{"addNodes count 0", tl + "  - {at: 5m, do: addNodes, pool: a, count: 0}\n", 23, "spec.timeline[0].count", "must be from 1 to 1000000, not 0", 0},
		{"addNodes past the limit", tl + "  - {at: 5m, do: addNodes, pool: a, count: 999990}\n", 23, "spec.timeline[0].count", "the fleet would have 1000072 nodes, more than the 1000000", 0},
		{"addNodes names too long", strings.Replace(fleet, "name: a\n", "name: "+strings.Repeat("a", 61)+"\n", 1) + "  timeline: [{at: 5m, do: addNodes, pool: " + strings.Repeat("a", 61) + ", count: 9}]\n",
			22, "spec.timeline[0].count", "would have 64 characters", 0},
		{"deleteNodes too many", tl + "  - {at: 5m, do: deleteNodes, pool: a, count: 3}\n", 23, "spec.timeline[0].count", "pool a has only 2 nodes at 5m0s", 0},
		{"deleteNodes after a delete", tl + "  - {at: 5m, do: deleteNodes, pool: b, count: 50}\n  - {at: 6m, do: deleteNodes, pool: b, count: 50}\n", 24, "spec.timeline[1].count", "pool b has only 30 nodes at 6m0s", 0},

		// checkpoint, restore, deviceHealth.
		{"checkpoint without container", tl + "  - {at: 5m, do: checkpoint, pod: default/web-0}\n", 23, "spec.timeline[0].container", "required by checkpoint", 0},
		{"checkpoint pod without namespace", tl + "  - {at: 5m, do: checkpoint, pod: web-0, container: app}\n", 23, "spec.timeline[0].pod", `must be namespace/name, not "web-0"`, 0},
		{"checkpoint pod of no workload", tl + "  - at: 5m\n    do: checkpoint\n    pod: default/web-3\n    container: app\n", 25, "spec.timeline[0].pod", "default/web-3 is not a pod of any workload", 0},
		{"checkpoint container", tl + "  - at: 5m\n    do: checkpoint\n    pod: default/web-0\n    container: sidecar\n", 26, "spec.timeline[0].container", `pod default/web-0 has no container "sidecar" (it has app)`, 0},
		{"checkpoint timeout", tl + "  - {at: 5m, do: checkpoint, pod: default/web-0, container: app, timeout: 1500ms}\n", 23, "spec.timeline[0].timeout", "must be a whole number of seconds more than 0", 0},
		{"checkpoint with nodes", tl + "  - {at: 5m, do: checkpoint, pod: default/web-0, container: app, nodes: {pool: a}}\n", 23, "spec.timeline[0].nodes", "checkpoint does not take nodes (it takes pod, container, timeout)", 0},
		{"restore without node", tl + "  - {at: 5m, do: restore, pod: default/web-0, container: app}\n", 23, "spec.timeline[0].node", "required by restore", 0},
		{"restore to no node", tl + "  - {at: 1m, do: checkpoint, pod: default/web-0, container: app}\n  - at: 5m\n    do: restore\n    pod: default/web-0\n    container: app\n    node: c-0\n", 28, "spec.timeline[1].node", `no node "c-0" at 5m0s`, 0},
		{"restore without checkpoint", tl + "  - {at: 5m, do: restore, pod: default/web-0, container: app, node: a-1}\n", 23, "spec.timeline[0]", "restores default/web-0 container app, which no checkpoint step before it checkpoints", 0},
		{"restore at the checkpoint's instant", tl + "  - {at: 5m, do: checkpoint, pod: default/web-0, container: app}\n  - {at: 5m, do: restore, pod: default/web-0, container: app, node: a-1}\n", 24, "spec.timeline[1]", "which no checkpoint step before it checkpoints", 0},
		{"deviceHealth without healthy", tl + "  - {at: 5m, do: deviceHealth, resourceName: example.com/gpu}\n", 23, "spec.timeline[0].healthy", "required by deviceHealth", 0},
		{"deviceHealth resource", tl + "  - {at: 5m, do: deviceHealth, resourceName: gpu, healthy: 1}\n", 23, "spec.timeline[0].resourceName", `must be a device plugin's extended resource such as example.com/gpu, not "gpu"`, 0},
		{"deviceHealth negative", tl + "  - {at: 5m, do: deviceHealth, resourceName: example.com/gpu, healthy: -1}\n", 23, "spec.timeline[0].healthy", "must be from 0 to", 0},

		// Several steps: each problem once, in line order.
		{"several", tl + "  - {at: 5m, do: explode}\n  - {at: 11m, do: partition}\n", 23, "spec.timeline[0].do", "unknown action", 2},
		{"no cascade from a bad pool", strings.Replace(fleet, "count: 80", "count: many", 1) + "  timeline: [{at: 5m, do: partition, nodes: {pool: b}}]\n", 12, "spec.nodePools[1].count", "must be a whole number", 0},
	})
}

func TestSelectNodes(t *testing.T) {
	s := mustParse(t, strings.Replace(fleet, "  workloads:", "  - {name: c, count: 12, labels: {tier: web}}\n  workloads:", 1))
	sel := func(sel scenarios.NodeSelector, seed uint64, salt string) []string {
		return s.SelectNodes(sel, seed, salt)
	}
	every := sel(scenarios.NodeSelector{}, 1, "")
	if len(every) != 94 || every[0] != "a-0" || every[1] != "a-1" || every[2] != "b-00" || every[81] != "b-79" || every[82] != "c-00" || every[93] != "c-11" {
		t.Errorf("every node: %d %v", len(every), every)
	}
	for _, tc := range []struct {
		name string
		sel  scenarios.NodeSelector
		want []string
	}{
		{"pool", scenarios.NodeSelector{Pool: "a"}, []string{"a-0", "a-1"}},
		{"labels", scenarios.NodeSelector{Labels: map[string]string{"tier": "web"}}, append([]string{"a-0", "a-1"}, every[82:]...)},
		{"pool and labels", scenarios.NodeSelector{Pool: "c", Labels: map[string]string{"tier": "web"}}, every[82:]},
		{"zone label", scenarios.NodeSelector{Labels: map[string]string{"topology.kubernetes.io/zone": "zone-a"}}, []string{"a-0", "a-1"}},
		{"kubelet labels", scenarios.NodeSelector{Labels: map[string]string{"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}}, every[2:82]},
		{"beta arch label", scenarios.NodeSelector{Labels: map[string]string{"beta.kubernetes.io/arch": "amd64"}}, append([]string{"a-0", "a-1"}, every[82:]...)},
		{"hostname label", scenarios.NodeSelector{Labels: map[string]string{"kubernetes.io/hostname": "b-42"}}, []string{"b-42"}},
		{"names in fleet order", scenarios.NodeSelector{Names: []string{"c-03", "b-10", "a-1", "nope", "b-7"}}, []string{"a-1", "b-10", "c-03"}},
		{"names and pool", scenarios.NodeSelector{Pool: "b", Names: []string{"c-03", "b-10"}}, []string{"b-10"}},
		{"names and hostname", scenarios.NodeSelector{Labels: map[string]string{"kubernetes.io/hostname": "b-10"}, Names: []string{"c-03", "b-10"}}, []string{"b-10"}},
		{"nothing", scenarios.NodeSelector{Pool: "a", Labels: map[string]string{"kubernetes.io/arch": "arm64"}}, nil},
		{"no such pool", scenarios.NodeSelector{Pool: "z"}, nil},
		{"fraction 1", scenarios.NodeSelector{Pool: "a", Fraction: 1}, []string{"a-0", "a-1"}},
	} {
		if got := sel(tc.sel, 7, "x"); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// A fraction: round(fraction*n), at least one, in fleet order, the same
	// for the same seed and salt, different for another seed or salt.
	b := scenarios.NodeSelector{Pool: "b", Fraction: 0.1}
	first := sel(b, 42, "timeline[0]")
	if len(first) != 8 || !slices.IsSortedFunc(first, strings.Compare) {
		t.Errorf("10%% of 80 nodes: %v", first)
	}
	for _, n := range first {
		if !strings.HasPrefix(n, "b-") {
			t.Errorf("%s is not in pool b", n)
		}
	}
	if again := sel(b, 42, "timeline[0]"); !slices.Equal(again, first) {
		t.Errorf("same seed and salt: %v then %v", first, again)
	}
	if other := sel(b, 43, "timeline[0]"); slices.Equal(other, first) {
		t.Errorf("another seed chose the same nodes %v", other)
	}
	if other := sel(b, 42, "timeline[1]"); slices.Equal(other, first) {
		t.Errorf("another salt chose the same nodes %v", other)
	}
	if got := sel(scenarios.NodeSelector{Pool: "a", Fraction: 0.01}, 1, ""); len(got) != 1 {
		t.Errorf("a tiny fraction of 2 nodes chose %v, want one", got)
	}
	if got := sel(scenarios.NodeSelector{Pool: "b", Fraction: 0.5}, 1, ""); len(got) != 40 {
		t.Errorf("half of 80 chose %d", len(got))
	}
	if got := sel(scenarios.NodeSelector{Pool: "a", Fraction: 0.25}, 1, ""); len(got) != 1 {
		t.Errorf("a quarter of 2 (0.5 rounds up) chose %v", got)
	}
	// Every node of b is chosen by some seed: the choice is not stuck.
	seen := make(map[string]bool)
	for seed := range uint64(200) {
		for _, n := range sel(b, seed, "s") {
			seen[n] = true
		}
	}
	if len(seen) != 80 {
		t.Errorf("200 seeds chose %d distinct nodes of 80", len(seen))
	}
}

func TestSelectNodesAt(t *testing.T) {
	s := mustParse(t, fleet+`  timeline:
  - {at: 1m, do: addNodes, pool: a, count: 9}
  - {at: 2m, do: addNodes, pool: a, count: 1}
  - {at: 3m, do: deleteNodes, pool: a, count: 11}
`)
	for _, tc := range []struct {
		at   time.Duration
		want []string
	}{
		{0, []string{"a-0", "a-1"}},
		{time.Minute, []string{"a-0", "a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-8", "a-9", "a-10"}},
		{2 * time.Minute, []string{"a-0", "a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-8", "a-9", "a-10", "a-11"}},
		{3 * time.Minute, []string{"a-0"}},
	} {
		if got := s.SelectNodesAt(scenarios.NodeSelector{Pool: "a"}, tc.at, 1, ""); !slices.Equal(got, tc.want) {
			t.Errorf("at %s: %v, want %v", tc.at, got, tc.want)
		}
	}
	// A cursor walked forward chooses what SelectNodesAt chooses.
	c := s.Cursor()
	for _, at := range []time.Duration{0, 30 * time.Second, time.Minute, time.Minute, 2 * time.Minute, 3 * time.Minute, time.Hour} {
		sel := scenarios.NodeSelector{Pool: "a", Fraction: 0.5}
		if got, want := c.SelectNodesAt(sel, at, 7, "x"), s.SelectNodesAt(sel, at, 7, "x"); !slices.Equal(got, want) {
			t.Errorf("cursor at %s: %v, want %v", at, got, want)
		}
	}
	if got := s.SelectNodes(scenarios.NodeSelector{Pool: "a"}, 1, ""); !slices.Equal(got, []string{"a-0", "a-1"}) {
		t.Errorf("SelectNodes looks at the initial fleet: %v", got)
	}
	if p, i, ok := s.NodePoolOf("a-10"); !ok || p.Name != "a" || i != 10 {
		t.Errorf("NodePoolOf(a-10) = %s, %d, %v", p.Name, i, ok)
	}
	if _, _, ok := s.NodePoolOf("b-7"); ok {
		t.Errorf("NodePoolOf(b-7): b pads to two digits")
	}
}

// TestAtPlusForOverflow: a step whose at + for is past what a duration
// holds is refused at its for, not accepted as a negative end.
func TestAtPlusForOverflow(t *testing.T) {
	text := `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 2562047h
  nodePools:
  - {name: a, count: 1}
  timeline:
  - at: 2562046h
    do: partition
    for: 2562046h
`
	_, err := scenarios.Parse("t.yaml", []byte(text))
	var e *scenarios.Error
	if !errors.As(err, &e) || e.Line != 11 || e.Field != "spec.timeline[0].for" || !strings.Contains(e.Message, "past the end of the run") {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "t.yaml:11: spec.timeline[0].for: ") {
		t.Errorf("err = %q, want it to name file:line:field", err)
	}
}

// TestTooManyPools: a file of more pools than MaxPools is refused before
// any pool is parsed, so validating it takes little memory.
func TestTooManyPools(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec:\n  duration: 1m\n  nodePools:\n")
	for i := range scenarios.MaxPools + 1 {
		fmt.Fprintf(&b, "  - {name: p%d, count: 0}\n", i)
	}
	_, err := scenarios.Parse("t.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("t.yaml:6: spec.nodePools: %d pools, more than the %d", scenarios.MaxPools+1, scenarios.MaxPools)) {
		t.Fatalf("err = %v", err)
	}
}

package scenarios_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodesim/nodesim/scenarios"
)

func TestExpect(t *testing.T) {
	s := mustParse(t, fleet+`  timeline:
  - {at: 1m, do: addNodes, pool: a, count: 3}
  expect:
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    by: 2m
  - condition: {type: MemoryPressure, status: "False"}
    atLeast: 70
    at: 10m
  - taint: node.kubernetes.io/unreachable:NoExecute
    nodes: {labels: {topology.kubernetes.io/zone: zone-b}}
    count: 80
  - taint: {key: node.kubernetes.io/not-ready, effect: NoSchedule}
    nodes: {names: [a-4]}
    atLeast: 0
    atMost: 1
    at: 1m
  - evictions: {workload: web}
    atMost: 50
    by: 5m
  - evictions:
    nodes: {pool: b}
    atLeast: 1
  - zoneState: {zone: zone-a, state: FullDisruption}
    by: 3m
  - zoneState: {zone: zone-b, state: Initial}
    at: 0s
  - taintRate: node.kubernetes.io/unreachable:NoExecute
    atMost: 6
  - taintRate: {key: node.kubernetes.io/unreachable, effect: NoExecute}
    nodes: {pool: b}
    atMost: 1
    per: 10s
    by: 9m
`)
	n := func(v int) *int { return &v }
	unreachable := corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute}
	want := []scenarios.Expectation{
		{Line: 25, Kind: "condition", Condition: "Ready", Status: "Unknown", Nodes: scenarios.NodeSelector{Pool: "a"}, When: "by", Time: 2 * time.Minute, Per: time.Minute},
		{Line: 28, Kind: "condition", Condition: "MemoryPressure", Status: "False", AtLeast: n(70), When: "at", Time: 10 * time.Minute, Per: time.Minute},
		{Line: 31, Kind: "taint", Taint: unreachable, Nodes: scenarios.NodeSelector{Labels: map[string]string{"topology.kubernetes.io/zone": "zone-b"}}, Count: n(80), When: "by", Time: 10 * time.Minute, Per: time.Minute},
		{Line: 34, Kind: "taint", Taint: corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}, Nodes: scenarios.NodeSelector{Names: []string{"a-4"}},
			AtLeast: n(0), AtMost: n(1), When: "at", Time: time.Minute, Per: time.Minute},
		{Line: 39, Kind: "evictions", Namespace: "default", Workload: "web", AtMost: n(50), When: "by", Time: 5 * time.Minute, Per: time.Minute},
		{Line: 42, Kind: "evictions", Nodes: scenarios.NodeSelector{Pool: "b"}, AtLeast: n(1), When: "by", Time: 10 * time.Minute, Per: time.Minute},
		{Line: 45, Kind: "zoneState", Zone: "zone-a", State: "FullDisruption", When: "by", Time: 3 * time.Minute, Per: time.Minute},
		{Line: 47, Kind: "zoneState", Zone: "zone-b", State: "Initial", When: "at", Time: 0, Per: time.Minute},
		{Line: 49, Kind: "taintRate", Taint: unreachable, AtMost: n(6), When: "by", Time: 10 * time.Minute, Per: time.Minute},
		{Line: 51, Kind: "taintRate", Taint: unreachable, Nodes: scenarios.NodeSelector{Pool: "b"}, AtMost: n(1), When: "by", Time: 9 * time.Minute, Per: 10 * time.Second},
	}
	if len(s.Expect) != len(want) {
		t.Fatalf("%d expectations, want %d", len(s.Expect), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(s.Expect[i], want[i]) {
			t.Errorf("expect[%d]:\n got %+v\nwant %+v", i, s.Expect[i], want[i])
		}
		if s.Expect[i].Type() != want[i].Kind {
			t.Errorf("expect[%d].Type() = %s", i, s.Expect[i].Type())
		}
	}
}

func TestExpectErrors(t *testing.T) {
	ex := fleet + "  expect:\n" // line 22; the first item is at 23
	runErrorCases(t, []errorCase{
		{"not a list", fleet + "  expect: {condition: {}}\n", 22, "spec.expect", "must be a list, not a mapping", 0},
		{"item not a mapping", ex + "  - x\n", 23, "spec.expect[0]", `must be a mapping, not "x"`, 0},
		{"nothing to check", ex + "  - by: 5m\n", 23, "spec.expect[0]", "says nothing to check: give one of condition, taint, evictions, zoneState, taintRate", 0},
		{"two kinds", ex + "  - condition: {type: Ready, status: \"True\"}\n    taint: a:NoSchedule\n", 24, "spec.expect[0].taint", "one expectation per item: this one already checks condition", 0},
		{"unknown key", ex + "  - evictions:\n    atMost: 1\n    within: 5m\n", 25, "spec.expect[0].within", `unknown field "within"; known fields: condition, taint, evictions, zoneState, taintRate, nodes, count, atLeast, atMost, by, at, per`, 0},
		{"misspelt key", ex + "  - taint: a:NoSchedule\n    atmost: 1\n", 24, "spec.expect[0].atmost", `(did you mean "atMost"?)`, 0},
		{"key another kind takes", ex + "  - zoneState: {zone: zone-a, state: Normal}\n    nodes: {pool: a}\n", 24, "spec.expect[0].nodes", "a zoneState expectation does not take nodes (it takes by, at)", 0},
		{"at on evictions", ex + "  - evictions:\n    atMost: 1\n    at: 5m\n", 25, "spec.expect[0].at", "an evictions expectation does not take at (it takes nodes, count, atLeast, atMost, by)", 0},

		// condition.
		{"condition type", ex + "  - condition: {type: Readyy, status: \"True\"}\n", 23, "spec.expect[0].condition.type", `unknown node condition "Readyy": want one of Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable`, 0},
		{"condition status", ex + "  - condition:\n      type: Ready\n      status: Down\n", 25, "spec.expect[0].condition.status", `must be True, False or Unknown, not "Down"`, 0},
		{"condition status unquoted", ex + "  - condition: {type: Ready, status: true}\n", 23, "spec.expect[0].condition.status", `must be True, False or Unknown, not "true"`, 0},
		{"condition without status", ex + "  - condition: {type: Ready}\n", 23, "spec.expect[0].condition.status", "required", 0},
		{"condition empty", ex + "  - condition:\n", 23, "spec.expect[0].condition", "must be a mapping with type and status, not empty", 0},
		{"condition unknown field", ex + "  - condition: {type: Ready, status: \"True\", reason: KubeletReady}\n", 23, "spec.expect[0].condition.reason", `unknown field "reason"; known fields: type, status`, 0},

		// taint.
		{"taint without effect", ex + "  - taint: node.kubernetes.io/unreachable\n", 23, "spec.expect[0].taint", `must be key:Effect or a mapping with key and effect, not "node.kubernetes.io/unreachable"`, 0},
		{"taint with value", ex + "  - taint: a=b:NoSchedule\n", 23, "spec.expect[0].taint", "must be key:Effect", 0},
		{"taint effect", ex + "  - taint: {key: a, effect: NoRun}\n", 23, "spec.expect[0].taint", `invalid taint effect "NoRun"`, 0},
		{"taint mapping without key", ex + "  - taint: {effect: NoExecute}\n", 23, "spec.expect[0].taint.key", "required", 0},
		{"taint empty", ex + "  - taint:\n", 23, "spec.expect[0].taint", "not empty", 0},

		// How many.
		{"count and atLeast", ex + "  - taint: a:NoSchedule\n    count: 2\n    atLeast: 1\n", 24, "spec.expect[0].count", "count is exact: give it alone, or atLeast and/or atMost", 0},
		{"atLeast above atMost", ex + "  - evictions:\n    atLeast: 5\n    atMost: 3\n", 24, "spec.expect[0].atLeast", "atLeast 5 is more than atMost 3", 0},
		{"negative count", ex + "  - taint: a:NoSchedule\n    count: -1\n", 24, "spec.expect[0].count", "must be from 0 to", 0},
		{"count a word", ex + "  - taint: a:NoSchedule\n    count: all\n", 24, "spec.expect[0].count", `must be a whole number, not "all"`, 0},
		{"count above the nodes chosen", ex + "  - taint: a:NoSchedule\n    nodes: {pool: a}\n    count: 3\n", 25, "spec.expect[0].count", "count 3 is more than the 2 nodes chosen at 10m0s", 0},
		{"atLeast above the nodes chosen", ex + "  - condition: {type: Ready, status: \"True\"}\n    atLeast: 83\n", 24, "spec.expect[0].atLeast", "atLeast 83 is more than the 82 nodes chosen at 10m0s", 0},
		{"evictions without a bound", ex + "  - evictions: {workload: web}\n    by: 5m\n", 23, "spec.expect[0].atMost", "required: say how many pods may be evicted with count, atLeast or atMost", 0},
		{"taintRate without atMost", ex + "  - taintRate: a:NoExecute\n", 23, "spec.expect[0].atMost", "required: the most taints that may be added per window", 0},
		{"taintRate atLeast", ex + "  - taintRate: a:NoExecute\n    atMost: 1\n    atLeast: 1\n", 25, "spec.expect[0].atLeast", "a taintRate expectation does not take atLeast", 0},
		{"taintRate atLeast above atMost", ex + "  - taintRate: a:NoExecute\n    atMost: 1\n    atLeast: 5\n", 25, "spec.expect[0].atLeast", "a taintRate expectation does not take atLeast", 0},
		{"zoneState with a bad selector", ex + "  - zoneState: {zone: zone-a, state: Normal}\n    nodes: {fraction: 2}\n", 24, "spec.expect[0].nodes", "a zoneState expectation does not take nodes", 0},
		{"taintRate per", ex + "  - taintRate: a:NoExecute\n    atMost: 1\n    per: 0s\n", 25, "spec.expect[0].per", "must be more than 0", 0},

		// When.
		{"by and at", ex + "  - zoneState: {zone: zone-a, state: Normal}\n    by: 1m\n    at: 2m\n", 25, "spec.expect[0].at", "give by or at, not both", 0},
		{"by past the end", ex + "  - zoneState: {zone: zone-a, state: Normal}\n    by: 11m\n", 24, "spec.expect[0].by", "must not be past the end of the run at 10m0s", 0},
		{"negative at", ex + "  - zoneState: {zone: zone-a, state: Normal}\n    at: -1m\n", 24, "spec.expect[0].at", "must not be negative", 0},
		{"by without unit", ex + "  - zoneState: {zone: zone-a, state: Normal}\n    by: 5\n", 24, "spec.expect[0].by", `invalid duration "5"`, 0},

		// Nodes.
		{"pool does not exist", ex + "  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: c}\n", 24, "spec.expect[0].nodes.pool", `no pool named "c"`, 0},
		{"matches no node", ex + "  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: a, labels: {tier: db}}\n", 24, "spec.expect[0].nodes", "matches no node", 0},
		{"fraction", ex + "  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: a, fraction: 0.5}\n", 24, "spec.expect[0].nodes.fraction", "an expectation's nodes take no fraction", 0},
		{"node not there at the time", ex + "  - condition: {type: Ready, status: \"True\"}\n    nodes: {names: [a-2]}\n", 24, "spec.expect[0].nodes.names[0]", `node "a-2" does not exist at 10m0s`, 0},
		{"node deleted by then", fleet + "  timeline: [{at: 1m, do: deleteNodes, pool: a, count: 2}]\n  expect:\n  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: a}\n    at: 5m\n",
			25, "spec.expect[0].nodes", "matches no node", 0},
		{"evictions nodes", ex + "  - evictions: {}\n    atMost: 0\n    nodes: {pool: z}\n", 25, "spec.expect[0].nodes.pool", `no pool named "z"`, 0},

		// zoneState.
		{"zone does not exist", ex + "  - zoneState: {zone: zone-c, state: Normal}\n", 23, "spec.expect[0].zoneState.zone", `no pool is in zone "zone-c" (zones: zone-a, zone-b)`, 0},
		{"no zones at all", head + "  expect: [{zoneState: {zone: z, state: Normal}}]\n", 10, "spec.expect[0].zoneState.zone", `no pool is in zone "z": no pool has a topology.kubernetes.io/zone label`, 0},
		{"zone state", ex + "  - zoneState:\n      zone: zone-a\n      state: Degraded\n", 25, "spec.expect[0].zoneState.state", `unknown zone state "Degraded": want one of Initial, Normal, PartialDisruption, FullDisruption`, 0},
		{"zoneState without zone", ex + "  - zoneState: {state: Normal}\n", 23, "spec.expect[0].zoneState.zone", "required", 0},

		// evictions.
		{"evictions workload", ex + "  - evictions: {workload: api}\n    atMost: 1\n", 23, "spec.expect[0].evictions.workload", `no workload named "api"`, 0},
		{"evictions workload in namespace", ex + "  - evictions: {workload: web, namespace: shop}\n    atMost: 1\n", 23, "spec.expect[0].evictions.workload", `no workload named "web" in namespace shop`, 0},
		{"evictions namespace", ex + "  - evictions:\n      namespace: shop\n    atMost: 1\n", 24, "spec.expect[0].evictions.namespace", `no workload is in namespace "shop"`, 0},
		{"evictions ambiguous workload", strings.Replace(fleet, "  workloads:\n", "  workloads:\n  - {name: web, namespace: x, template: {spec: {containers: [{name: a, image: b}]}}}\n", 1) +
			"  expect:\n  - evictions: {workload: web}\n    atMost: 1\n", 24, "spec.expect[0].evictions.workload", `workloads named "web" are in namespaces x, default: give namespace`, 0},
		{"evictions unknown field", ex + "  - evictions: {pod: web-0}\n    atMost: 1\n", 23, "spec.expect[0].evictions.pod", `unknown field "pod"; known fields: namespace, workload`, 0},
	})
}

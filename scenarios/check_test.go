package scenarios_test

import (
	"testing"
	"time"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

// checkAll parses fleet with the expect section given and checks records.
func checkAll(t *testing.T, expect string, records []sim.Record, end time.Duration) []scenarios.Result {
	t.Helper()
	s := mustParse(t, fleet+"  expect:\n"+expect)
	return s.Check(records, end)
}

func assertResults(t *testing.T, got, want []scenarios.Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		// Reason is Expected; Seen, and the expectation has a line.
		if g.Expected+"; "+g.Seen != g.Reason || g.Expected == "" || g.Seen == "" || g.Line <= 0 {
			t.Errorf("result %d: expected %q, seen %q, line %d do not make up reason %q", i, g.Expected, g.Seen, g.Line, g.Reason)
		}
		g.Expected, g.Seen, g.Line = "", "", 0
		if g != want[i] {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func condition(at float64, node, typ, status string) sim.Record {
	return sim.Record{T: secs(at), Event: sim.EventNodeConditionChanged, Node: node, Type: typ, Status: status}
}

func taint(at float64, event, node, key, effect string) sim.Record {
	return sim.Record{T: secs(at), Event: event, Node: node, Key: key, Effect: effect}
}

func TestCheckCondition(t *testing.T) {
	records := []sim.Record{
		condition(0, "a-0", "Ready", "True"),
		condition(0, "a-1", "Ready", "True"),
		condition(0, "b-00", "Ready", "Unknown"), // not in pool a
		condition(50, "a-0", "Ready", "Unknown"),
		condition(60, "a-0", "MemoryPressure", "Unknown"), // another type
		condition(103.2, "a-1", "Ready", "Unknown"),
		condition(400, "a-1", "Ready", "True"),
	}
	got := checkAll(t, `  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    by: 2m
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    by: 1m
  - condition: {type: Ready, status: "False"}
    nodes: {pool: a}
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    atLeast: 1
    by: 2m
  - condition: {type: Ready, status: "True"}
    nodes: {pool: a}
    at: 10m
  - condition: {type: Ready, status: Unknown}
    nodes: {names: [a-0, a-1]}
    atMost: 1
    at: 10m
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    count: 1
    at: 2m
  - condition: {type: Ready, status: "True"}
    nodes: {pool: a}
    count: 1
    by: 5m
  - condition: {type: Ready, status: Unknown}
    nodes: {labels: {topology.kubernetes.io/zone: zone-b}}
    at: 0s
`, records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "condition", Passed: true, At: secs(103.2), Reason: "expected 2 nodes of pool a with Ready=Unknown by 2m0s; 2 had it at 1m43.2s"},
		{Type: "condition", Passed: false, At: time.Minute, Reason: "expected 2 nodes of pool a with Ready=Unknown by 1m0s; at most 1 had it at once by then (first at 50s)"},
		{Type: "condition", Passed: false, At: 10 * time.Minute, Reason: "expected 2 nodes of pool a with Ready=False by 10m0s; none had it by then"},
		{Type: "condition", Passed: true, At: 50 * time.Second, Reason: "expected at least 1 of the 2 nodes of pool a with Ready=Unknown by 2m0s; 1 had it at 50s"},
		{Type: "condition", Passed: false, At: 10 * time.Minute, Reason: "expected 2 nodes of pool a with Ready=True at 10m0s; 1 had it then"},
		{Type: "condition", Passed: true, At: 10 * time.Minute, Reason: "expected at most 1 of the 2 nodes named a-0, a-1 with Ready=Unknown at 10m0s; 1 had it then"},
		{Type: "condition", Passed: false, At: 2 * time.Minute, Reason: "expected exactly 1 of the 2 nodes of pool a with Ready=Unknown at 2m0s; 2 had it then"},
		{Type: "condition", Passed: true, At: 50 * time.Second, Reason: "expected exactly 1 of the 2 nodes of pool a with Ready=True by 5m0s; 1 had it at 50s"},
		{Type: "condition", Passed: false, At: 0, Reason: "expected 80 nodes labelled topology.kubernetes.io/zone=zone-b with Ready=Unknown at 0s; 1 had it then"},
	})

	// A node that flaps: never both at once.
	flap := []sim.Record{
		condition(50, "a-0", "Ready", "Unknown"),
		condition(90, "a-0", "Ready", "True"),
		condition(103.2, "a-1", "Ready", "Unknown"),
	}
	got = checkAll(t, "  - condition: {type: Ready, status: Unknown}\n    nodes: {pool: a}\n    by: 2m\n"+
		"  - condition: {type: Ready, status: Unknown}\n    nodes: {pool: a}\n    atLeast: 1\n    atMost: 1\n    by: 2m\n", flap, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "condition", Passed: false, At: 2 * time.Minute, Reason: "expected 2 nodes of pool a with Ready=Unknown by 2m0s; at most 1 had it at once by then (first at 50s)"},
		{Type: "condition", Passed: true, At: 50 * time.Second, Reason: "expected exactly 1 of the 2 nodes of pool a with Ready=Unknown by 2m0s; 1 had it at 50s"},
	})

	// atMost by a time that passes at 0; a range that never holds.
	got = checkAll(t, "  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: a}\n    atMost: 0\n    by: 1m\n"+
		"  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: a}\n    count: 1\n    by: 1m\n", records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "condition", Passed: false, At: time.Minute, Reason: "expected at most 0 of the 2 nodes of pool a with Ready=True by 1m0s; at least 1 had it at every instant by then (the fewest at 50s)"},
		{Type: "condition", Passed: true, At: 50 * time.Second, Reason: "expected exactly 1 of the 2 nodes of pool a with Ready=True by 1m0s; 1 had it at 50s"},
	})
	got = checkAll(t, "  - condition: {type: Ready, status: \"True\"}\n    nodes: {pool: a}\n    atMost: 0\n    by: 40s\n"+
		"  - condition: {type: Ready, status: Unknown}\n    nodes: {pool: b}\n    count: 40\n    by: 10m\n", records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "condition", Passed: false, At: 40 * time.Second, Reason: "expected at most 0 of the 2 nodes of pool a with Ready=True by 40s; at least 2 had it at every instant by then (the fewest at 0s)"},
		{Type: "condition", Passed: false, At: 10 * time.Minute, Reason: "expected exactly 40 of the 80 nodes of pool b with Ready=Unknown by 10m0s; 1 had it at every instant by then"},
	})
}

func TestCheckTaint(t *testing.T) {
	const key, effect = "node.kubernetes.io/unreachable", "NoExecute"
	records := []sim.Record{
		taint(60, sim.EventNodeTaintAdded, "b-00", key, effect),
		taint(60, sim.EventNodeTaintAdded, "b-01", key, effect),
		taint(60, sim.EventNodeTaintRemoved, "b-01", key, effect), // gone within the instant
		taint(70, sim.EventNodeTaintAdded, "b-01", key, "NoSchedule"),
		taint(80, sim.EventNodeTaintAdded, "b-02", "node.kubernetes.io/not-ready", effect),
		taint(120, sim.EventNodeTaintAdded, "b-02", key, effect),
		taint(180, sim.EventNodeTaintAdded, "b-03", key, effect),
		taint(200, sim.EventNodeTaintAdded, "a-0", key, effect),
		taint(240, sim.EventNodeTaintRemoved, "b-00", key, effect),
	}
	got := checkAll(t, `  - taint: node.kubernetes.io/unreachable:NoExecute
    nodes: {pool: b}
    atLeast: 3
    by: 5m
  - taint: {key: node.kubernetes.io/unreachable, effect: NoExecute}
    nodes: {pool: b}
    atLeast: 2
    by: 1m30s
  - taint: node.kubernetes.io/unreachable:NoExecute
    count: 3
    at: 4m
  - taint: node.kubernetes.io/unreachable:NoExecute
    nodes: {pool: a}
  - taint: node.kubernetes.io/unreachable:NoSchedule
    atMost: 0
    at: 10m
`, records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "taint", Passed: true, At: 3 * time.Minute, Reason: "expected at least 3 of the 80 nodes of pool b with taint node.kubernetes.io/unreachable:NoExecute by 5m0s; 3 had it at 3m0s"},
		{Type: "taint", Passed: false, At: 90 * time.Second, Reason: "expected at least 2 of the 80 nodes of pool b with taint node.kubernetes.io/unreachable:NoExecute by 1m30s; at most 1 had it at once by then (first at 1m0s)"},
		{Type: "taint", Passed: true, At: 4 * time.Minute, Reason: "expected exactly 3 of the 82 nodes with taint node.kubernetes.io/unreachable:NoExecute at 4m0s; 3 had it then"},
		{Type: "taint", Passed: false, At: 10 * time.Minute, Reason: "expected 2 nodes of pool a with taint node.kubernetes.io/unreachable:NoExecute by 10m0s; at most 1 had it at once by then (first at 3m20s)"},
		{Type: "taint", Passed: false, At: 10 * time.Minute, Reason: "expected at most 0 of the 82 nodes with taint node.kubernetes.io/unreachable:NoSchedule at 10m0s; 1 had it then"},
	})
}

func evicted(at float64, pod, node string) sim.Record {
	return sim.Record{T: secs(at), Event: sim.EventPodEvicted, Pod: pod, Node: node, Reason: "DeletionByTaintManager"}
}

func TestCheckEvictions(t *testing.T) {
	records := []sim.Record{
		evicted(310, "default/web-0", "a-0"),
		{T: secs(315), Event: sim.EventPodRunning, Pod: "default/web-0", Node: "b-01"},
		evicted(320, "default/web-1", "a-1"),
		evicted(360, "default/web-2", "b-00"),
		evicted(390, "other/x-0", "b-01"),
	}
	got := checkAll(t, `  - evictions: {workload: web}
    atMost: 2
  - evictions:
    atMost: 5
  - evictions:
    nodes: {pool: a}
    atLeast: 2
  - evictions:
    atLeast: 1
    by: 5m
  - evictions: {}
    count: 0
  - evictions: {namespace: default}
    count: 3
    by: 6m
  - evictions:
    nodes: {names: [b-01]}
    atLeast: 1
    atMost: 1
  - evictions:
    atLeast: 2
    atMost: 3
`, records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "evictions", Passed: false, At: 6 * time.Minute, Reason: "expected at most 2 pods of workload default/web evicted by 10m0s; 3 were (the 3rd at 6m0s)"},
		{Type: "evictions", Passed: true, At: 10 * time.Minute, Reason: "expected at most 5 pods evicted by 10m0s; 4 were"},
		{Type: "evictions", Passed: true, At: secs(320), Reason: "expected at least 2 pods evicted from nodes of pool a by 10m0s; 2 were (the 2nd at 5m20s)"},
		{Type: "evictions", Passed: false, At: 5 * time.Minute, Reason: "expected at least 1 pod evicted by 5m0s; none were"},
		{Type: "evictions", Passed: false, At: secs(310), Reason: "expected exactly 0 pods evicted by 10m0s; 4 were (the 1st at 5m10s)"},
		{Type: "evictions", Passed: true, At: 6 * time.Minute, Reason: "expected exactly 3 pods in namespace default evicted by 6m0s; 3 were"},
		{Type: "evictions", Passed: true, At: 10 * time.Minute, Reason: "expected exactly 1 pod evicted from nodes named b-01 by 10m0s; 1 was"},
		{Type: "evictions", Passed: false, At: secs(390), Reason: "expected 2 to 3 pods evicted by 10m0s; 4 were (the 4th at 6m30s)"},
	})
}

func zone(at float64, z, state string) sim.Record {
	return sim.Record{T: secs(at), Event: sim.EventZoneStateChanged, Zone: z, Status: state}
}

func TestCheckZoneState(t *testing.T) {
	records := []sim.Record{
		zone(0, "zone-a", "Normal"),
		zone(120, "zone-a", "PartialDisruption"),
		zone(150, "zone-a", "FullDisruption"),
		zone(150, "zone-b", "Normal"),
		zone(480, "zone-a", "Normal"),
	}
	got := checkAll(t, `  - zoneState: {zone: zone-a, state: FullDisruption}
    by: 3m
  - zoneState: {zone: zone-a, state: FullDisruption}
    by: 2m
  - zoneState: {zone: zone-a, state: Normal}
    at: 10m
  - zoneState: {zone: zone-a, state: Normal}
    at: 5m
  - zoneState: {zone: zone-a, state: Initial}
  - zoneState: {zone: zone-b, state: Initial}
    at: 0s
  - zoneState: {zone: zone-b, state: PartialDisruption}
`, records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "zoneState", Passed: true, At: 150 * time.Second, Reason: "expected zone zone-a in FullDisruption by 3m0s; it was at 2m30s"},
		{Type: "zoneState", Passed: false, At: 2 * time.Minute, Reason: "expected zone zone-a in FullDisruption by 2m0s; it was only in Normal, PartialDisruption by then"},
		{Type: "zoneState", Passed: true, At: 10 * time.Minute, Reason: "expected zone zone-a in Normal at 10m0s; it was, since 8m0s"},
		{Type: "zoneState", Passed: false, At: 5 * time.Minute, Reason: "expected zone zone-a in Normal at 5m0s; it was in FullDisruption then (since 2m30s)"},
		{Type: "zoneState", Passed: false, At: 10 * time.Minute, Reason: "expected zone zone-a in Initial by 10m0s; it was only in Normal, PartialDisruption, FullDisruption by then"},
		{Type: "zoneState", Passed: true, At: 0, Reason: "expected zone zone-b in Initial at 0s; it was, since 0s"},
		{Type: "zoneState", Passed: false, At: 10 * time.Minute, Reason: "expected zone zone-b in PartialDisruption by 10m0s; it was only in Initial, Normal by then"},
	})
}

func TestCheckTaintRate(t *testing.T) {
	const key, effect = "node.kubernetes.io/unreachable", "NoExecute"
	records := []sim.Record{
		taint(60, sim.EventNodeTaintAdded, "b-00", key, effect),
		taint(70, sim.EventNodeTaintAdded, "b-01", key, effect),
		taint(75, sim.EventNodeTaintAdded, "b-09", key, "NoSchedule"), // another effect
		taint(80, sim.EventNodeTaintAdded, "b-02", key, effect),
		taint(100, sim.EventNodeTaintRemoved, "b-02", key, effect),
		taint(120, sim.EventNodeTaintAdded, "b-03", key, effect), // exactly 1m after the first: a new window
		taint(125, sim.EventNodeTaintAdded, "b-04", key, effect),
	}
	got := checkAll(t, `  - taintRate: node.kubernetes.io/unreachable:NoExecute
    atMost: 4
  - taintRate: node.kubernetes.io/unreachable:NoExecute
    atMost: 2
  - taintRate: node.kubernetes.io/unreachable:NoExecute
    atMost: 3
  - taintRate: node.kubernetes.io/unreachable:NoExecute
    nodes: {pool: a}
    atMost: 0
  - taintRate: {key: node.kubernetes.io/unreachable, effect: NoExecute}
    nodes: {pool: b}
    atMost: 1
    per: 10s
  - taintRate: node.kubernetes.io/unreachable:NoExecute
    atMost: 1
    per: 10s
    by: 2m
`, records, 10*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "taintRate", Passed: true, At: 10 * time.Minute, Reason: "expected at most 4 node.kubernetes.io/unreachable:NoExecute taints added in any 1m0s window by 10m0s; the most in one window was 4, from 1m10s to 2m5s"},
		{Type: "taintRate", Passed: false, At: 80 * time.Second, Reason: "expected at most 2 node.kubernetes.io/unreachable:NoExecute taints added in any 1m0s window by 10m0s; 3 were added from 1m0s to 1m20s (the most in one window: 4, from 1m10s to 2m5s)"},
		{Type: "taintRate", Passed: false, At: 125 * time.Second, Reason: "expected at most 3 node.kubernetes.io/unreachable:NoExecute taints added in any 1m0s window by 10m0s; 4 were added from 1m10s to 2m5s"},
		{Type: "taintRate", Passed: true, At: 10 * time.Minute, Reason: "expected at most 0 node.kubernetes.io/unreachable:NoExecute taints added to nodes of pool a in any 1m0s window by 10m0s; none were added"},
		{Type: "taintRate", Passed: false, At: 125 * time.Second, Reason: "expected at most 1 node.kubernetes.io/unreachable:NoExecute taint added to nodes of pool b in any 10s window by 10m0s; 2 were added from 2m0s to 2m5s"},
		{Type: "taintRate", Passed: true, At: 2 * time.Minute, Reason: "expected at most 1 node.kubernetes.io/unreachable:NoExecute taint added in any 10s window by 2m0s; the most in one window was 1, from 1m0s to 1m0s"},
	})
}

func TestCheckRunEndedEarly(t *testing.T) {
	got := checkAll(t, "  - evictions:\n    atMost: 0\n  - zoneState: {zone: zone-a, state: Normal}\n    at: 4m\n", nil, 5*time.Minute)
	assertResults(t, got, []scenarios.Result{
		{Type: "evictions", Passed: false, At: 5 * time.Minute, Reason: "expected at most 0 pods evicted by 10m0s; the run ended at 5m0s, before 10m0s"},
		{Type: "zoneState", Passed: false, At: 4 * time.Minute, Reason: "expected zone zone-a in Normal at 4m0s; it was in Initial then (since 0s)"},
	})
}

// TestCheckGrownFleet: an expectation looks at the fleet of its time,
// nodes added by addNodes included.
func TestCheckGrownFleet(t *testing.T) {
	s := mustParse(t, fleet+`  timeline:
  - {at: 1m, do: addNodes, pool: a, count: 1}
  expect:
  - condition: {type: Ready, status: "True"}
    nodes: {pool: a}
    by: 2m
  - condition: {type: Ready, status: "True"}
    nodes: {pool: a}
    by: 30s
`)
	records := []sim.Record{
		condition(10, "a-0", "Ready", "True"),
		condition(10, "a-1", "Ready", "True"),
		condition(70, "a-2", "Ready", "True"),
	}
	assertResults(t, s.Check(records, 10*time.Minute), []scenarios.Result{
		{Type: "condition", Passed: true, At: 70 * time.Second, Reason: "expected 3 nodes of pool a with Ready=True by 2m0s; 3 had it at 1m10s"},
		{Type: "condition", Passed: true, At: 10 * time.Second, Reason: "expected 2 nodes of pool a with Ready=True by 30s; 2 had it at 10s"},
	})
	if got := s.Check(nil, 10*time.Minute); len(got) != 2 || got[0].Passed {
		t.Errorf("no records: %+v", got)
	}
}

// TestCheckOwn: a shard judges its own nodes: "all" is how many of them
// the selector chooses, and other nodes' records do not count; a "by"
// condition that held is final, whatever came after.
func TestCheckOwn(t *testing.T) {
	s := mustParse(t, fleet+`  expect:
  - condition: {type: Ready, status: Unknown}
    nodes: {pool: a}
    by: 2m
  - evictions: {}
    atMost: 0
    by: 5m
`)
	owns := func(node string) bool { return node == "a-1" }
	records := []sim.Record{
		condition(10, "a-0", "Ready", "Unknown"), // another shard's
		condition(15, "a-0", "Ready", "True"),
		condition(20, "a-1", "Ready", "Unknown"),
		{T: secs(30), Event: sim.EventPodEvicted, Node: "a-0", Pod: "default/web-0"}, // another shard's
		condition(40, "a-1", "Ready", "True"),
	}
	r := s.CheckOwn(0, records, 2*time.Minute, owns)
	if !r.Passed || r.At != 20*time.Second || r.Expected != "expected 1 node of pool a with Ready=Unknown by 2m0s" {
		t.Errorf("condition over a-1 alone: %+v", r)
	}
	if all := s.CheckOwn(0, records, 2*time.Minute, nil); all.Passed {
		t.Errorf("condition over both nodes, a-0 and a-1 never Unknown at once: %+v", all)
	}
	if !s.Expect[0].FinalWhenPassed() || s.Expect[1].FinalWhenPassed() {
		t.Error("a condition by a time is final once held; an eviction count is not")
	}
	if r := s.CheckOwn(1, records, 5*time.Minute, owns); !r.Passed {
		t.Errorf("evictions from another shard's node counted: %+v", r)
	}
	if r := s.CheckOwn(1, records, 5*time.Minute, nil); r.Passed {
		t.Errorf("evictions over the whole fleet: %+v, want a failure", r)
	}
}

package run

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

// TestCordonTaintFollowsAtOnce: the node lifecycle controller reacts to
// every node update, a cordon's too: the unschedulable taint comes with
// the cordon and goes with the uncordon, not at the kubelet's next
// status write (every 5 minutes when nothing changes).
func TestCordonTaintFollowsAtOnce(t *testing.T) {
	sc, err := scenarios.Parse("t.yaml", []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 4m
  nodeEndpoints: false
  nodePools:
  - {name: a, count: 2}
  timeline:
  - {at: 1m, do: cordon, nodes: {names: [a-0]}, for: 1m}
`))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := Run(context.Background(), sc, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, TraceFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type change struct {
		T                float64
		Event, Node, Key string
	}
	var changes []change
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		var c change
		if err := json.Unmarshal(lines.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if (c.Event == sim.EventNodeTaintAdded || c.Event == sim.EventNodeTaintRemoved) && c.Key == corev1.TaintNodeUnschedulable {
			changes = append(changes, c)
		}
	}
	if len(changes) != 2 || changes[0] != (change{60, sim.EventNodeTaintAdded, "a-0", corev1.TaintNodeUnschedulable}) ||
		changes[1] != (change{120, sim.EventNodeTaintRemoved, "a-0", corev1.TaintNodeUnschedulable}) {
		t.Errorf("unschedulable taint changes %+v; want added to a-0 at 60 s, removed at 120 s", changes)
	}
}

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) {
	if os.Getenv(asNodesim) == "1" {
		main() // the test binary as nodesim: it exits
	}
	quietLibraryLogs()
	os.Exit(m.Run())
}

func TestBadUsageExitsTwo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--no-such-flag"},
		{"no-such-command"},
		{"serve", "--nodes", "3", "--pace", "0X"},
		{"serve", "--pace", "fast"},
		{"serve", "no-such-scenario.yaml"},
		{"serve", "../../scenarios/default.yaml", "--nodes", "2"},
		{"run"},
		{"run", "no-such-scenario.yaml"},
		{"run", "../../scenarios/default.yaml", "--trace", "some"},
		{"run", "../../scenarios/default.yaml", "--pace", "-1X"},
		{"serve", "--nodes", "-1"},
		{"serve", "--nodes", "x"},
		{"serve", "--port", "70000"},
		{"serve", "--port", port},
		{"serve", "--bind-address", "nowhere"},
		{"serve", "--state-dir", filepath.Join(file, "sub")},
		{"serve", "a.yaml", "b.yaml"},
	} {
		if code := run(context.Background(), args); code != exitBadInput {
			t.Errorf("nodesim %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func TestServeUntilInterrupted(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--nodes", "3", "--pace", "20X", "--write-kubeconfig", kc})
	}()
	waitFor(t, 60*time.Second, func() bool { _, err := os.Stat(kc); return err == nil })
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Three virtual nodes register and turn Ready (their network is up 5
	// virtual seconds after start: a quarter of a second at 20X)...
	waitFor(t, 60*time.Second, func() bool {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) != 3 {
			return false
		}
		for _, n := range nodes.Items {
			ready := false
			for _, c := range n.Status.Conditions {
				ready = ready || (c.Type == "Ready" && c.Status == "True")
			}
			if !ready {
				return false
			}
		}
		return true
	})
	// ...and keep renewing their leases.
	first, err := client.CoordinationV1().Leases("kube-node-lease").Get(ctx, "node-0", metav1.GetOptions{})
	if err != nil {
		waitFor(t, 60*time.Second, func() bool {
			first, err = client.CoordinationV1().Leases("kube-node-lease").Get(ctx, "node-0", metav1.GetOptions{})
			return err == nil
		})
	}
	waitFor(t, 60*time.Second, func() bool {
		l, err := client.CoordinationV1().Leases("kube-node-lease").Get(ctx, "node-0", metav1.GetOptions{})
		return err == nil && l.Spec.RenewTime.After(first.Spec.RenewTime.Time)
	})

	// A pod bound to a virtual node runs, and a delete is finished by the
	// node's kubelet after its containers stop.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}
	if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() bool {
		p, err := client.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
	})
	if err := client.CoreV1().Pods("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() bool {
		_, err := client.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	cancel() // as SIGINT does through signal.NotifyContext
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after interrupt", code)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		var names bytes.Buffer
		for _, e := range left {
			names.WriteString(e.Name() + " ")
		}
		t.Fatalf("temporary files left after stop: %s", names.String())
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeScenario writes a scenario file for a run test.
func writeScenario(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const runHeader = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 2m
  nodePools:
  - {name: p, count: 2}
`

func TestRunBadScenariosExitTwoNamingTheField(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"unknown action":            {"  timeline: [{at: 1m, do: explode}]\n", `:8: spec.timeline[0].do: unknown action "explode"`},
		"selector matching nothing": {"  timeline: [{at: 1m, do: partition, nodes: {pool: nope}}]\n", `:8: spec.timeline[0].nodes.pool`},
		"negative duration":         {"  timeline: [{at: -1m, do: partition}]\n", `:8: spec.timeline[0].at`},
		"for past the end":          {"  timeline: [{at: 1m, do: partition, for: 5m}]\n", `:8: spec.timeline[0].for`},
		"device the nodes lack": {"  timeline: [{at: 1m, do: deviceHealth, resourceName: example.com/gpu, healthy: 1}]\n",
			`:8: spec.timeline[0].resourceName: no pool of the chosen nodes has a device plugin for example.com/gpu`},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeScenario(t, runHeader+tc.body)
			var stderr bytes.Buffer
			code := runWithStderr(context.Background(), []string{"run", path, "--out", t.TempDir()}, &stderr)
			if code != exitBadInput || !strings.Contains(stderr.String(), path) || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 naming %s and %q", code, stderr.String(), path, tc.want)
			}
		})
	}
}

func TestRunExitsOneWhenAnExpectationFails(t *testing.T) {
	path := writeScenario(t, runHeader+"  expect:\n  - condition: {type: Ready, status: Unknown}\n    by: 1m\n")
	out := t.TempDir()
	if code := run(context.Background(), []string{"run", path, "--out", out}); code != exitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, f := range []string{"trace.jsonl", "summary.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	trace, _ := os.ReadFile(filepath.Join(out, "trace.jsonl"))
	if !strings.Contains(string(trace), `"event":"ExpectationFailed"`) {
		t.Fatalf("no ExpectationFailed in the trace")
	}
}

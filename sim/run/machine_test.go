package run

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDeviceHealthMovesAllocatableNotCapacity runs the device-health
// scenario: while the plugins report 3 of 4 GPUs unhealthy (2m to 7m) the
// nodes' allocatable is 1 and their capacity still 4; afterwards both are 4.
func TestDeviceHealthMovesAllocatableNotCapacity(t *testing.T) {
	_, w := scenarioWorld(t, "../../scenarios/device-health.yaml")
	ctx := context.Background()
	gpu := corev1.ResourceName("example.com/gpu")
	check := func(at time.Duration, capacity, allocatable int64) {
		t.Helper()
		if err := w.engine.Run(w.ctx, w.engine.Start().Add(at)); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"gpu-0", "gpu-1"} {
			n, err := w.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c, a := n.Status.Capacity[gpu], n.Status.Allocatable[gpu]
			if c.Value() != capacity || a.Value() != allocatable {
				t.Errorf("%s at %s: capacity %s allocatable %s, want %d and %d", name, at, c.String(), a.String(), capacity, allocatable)
			}
		}
	}
	check(time.Minute, 4, 4)
	check(3*time.Minute, 4, 1)
	check(8*time.Minute, 4, 4)
	// The pods holding a device kept running.
	for _, name := range []string{"train-0", "train-1"} {
		p, err := w.client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s: %v %v", name, p.Status.Phase, err)
		}
	}
}

// TestStoppedKubeletStopsListening: stopKubelet closes the node's kubelet
// API, as killing the process would, and the kubelet's start opens it
// again.
func TestStoppedKubeletStopsListening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stop.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: stop}
spec:
  duration: 5m
  nodePools:
  - {name: n, count: 2}
  timeline:
  - {at: 1m, do: stopKubelet, nodes: {names: [n-1]}, for: 1m}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, w := scenarioWorld(t, path)
	addr := func() string {
		return net.JoinHostPort(w.fleet.members["n-1"].listen.String(), "10250")
	}
	listening := func(at time.Duration) bool {
		t.Helper()
		if err := w.engine.Run(w.ctx, w.engine.Start().Add(at)); err != nil {
			t.Fatal(err)
		}
		c, err := net.DialTimeout("tcp", addr(), 5*time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	if !listening(30 * time.Second) {
		t.Fatal("kubelet API not listening before the stop")
	}
	if listening(90 * time.Second) {
		t.Fatal("a stopped kubelet's API still accepts connections")
	}
	if !listening(150 * time.Second) {
		t.Fatal("kubelet API not listening after the kubelet started again")
	}
}

package run

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNodeObjectAsAKubeletAndIPAMWriteIt: the node IPAM model publishes
// each node's pod range in spec.podCIDR(s), the range its pods' IPs come
// from; the kubelet's status has images, runtime handlers and features;
// pods report imageID as a repo digest; the kubelet's node events are
// written and counted in the API load.
func TestNodeObjectAsAKubeletAndIPAMWriteIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodeobject.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: nodeobject}
spec:
  duration: 2m
  nodePools:
  - {name: a, count: 2}
  timeline:
  - {at: 20s, do: networkDown, nodes: {names: [a-1]}, for: 10s}
  - {at: 40s, do: networkDown, nodes: {names: [a-1]}, for: 10s}
  workloads:
  - name: web
    replicas: 2
    template:
      spec:
        containers: [{name: nginx, image: nginx}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, w := scenarioWorld(t, path)
	if err := w.engine.Run(w.ctx, w.engine.Start().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ctx := w.ctx
	for i, name := range []string{"a-0", "a-1"} {
		n, err := w.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := PodCIDR(i).String()
		if n.Spec.PodCIDR != want || len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != want {
			t.Errorf("%s: podCIDR %q podCIDRs %v, want %s", name, n.Spec.PodCIDR, n.Spec.PodCIDRs, want)
		}
		if len(n.Status.RuntimeHandlers) == 0 || n.Status.Features == nil {
			t.Errorf("%s: runtimeHandlers %v features %v", name, n.Status.RuntimeHandlers, n.Status.Features)
		}
	}
	pods, err := w.client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	digest := regexp.MustCompile(`^docker\.io/library/nginx@sha256:[0-9a-f]{64}$`)
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		running++
		n, err := w.client.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, cidr, err := net.ParseCIDR(n.Spec.PodCIDR)
		if err != nil || !cidr.Contains(net.ParseIP(p.Status.PodIP)) {
			t.Errorf("pod %s IP %s not in its node's podCIDR %s", p.Name, p.Status.PodIP, n.Spec.PodCIDR)
		}
		if id := p.Status.ContainerStatuses[0].ImageID; !digest.MatchString(id) {
			t.Errorf("pod %s imageID %q, want docker.io/library/nginx@sha256:...", p.Name, id)
		}
		// The image the pod runs is in its node's status.images by 30 s
		// after the pull (the kubelet's image cache period).
		found := false
		for _, im := range n.Status.Images {
			for _, name := range im.Names {
				found = found || name == "docker.io/library/nginx:latest"
			}
		}
		if !found {
			t.Errorf("node %s status.images %v lacks nginx", n.Name, n.Status.Images)
		}
	}
	if running != 2 {
		t.Fatalf("%d pods running, want 2", running)
	}
	evs, err := w.client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Node"})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range evs.Items {
		reasons[e.Reason]++
	}
	for _, r := range []string{"Starting", "NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID", "NodeReady"} {
		if reasons[r] != 2 {
			t.Errorf("%d %s events, want one per node (all: %v)", reasons[r], r, reasons)
		}
	}
	// a-1's Ready flapped twice: one NodeReady event whose count the
	// kubelet's recorder patched to 3, one NodeNotReady with count 2.
	counts := map[string]int32{}
	for _, e := range evs.Items {
		if e.InvolvedObject.Name == "a-1" {
			counts[e.Reason] = e.Count
		}
	}
	if counts["NodeReady"] != 3 || counts["NodeNotReady"] != 2 {
		t.Errorf("a-1's Ready events counted %v, want NodeReady 3 and NodeNotReady 2", counts)
	}
	writes, _, _ := w.traffic.snapshot()
	if writes["events"]["patch"] < 3 {
		t.Errorf("%d event patches, want the recorder's 3", writes["events"]["patch"])
	}
	if writes["events"]["create"] < int64(len(evs.Items)) {
		t.Errorf("API load counts %d event creates, the server has %d", writes["events"]["create"], len(evs.Items))
	}
	if writes["nodes"]["patch"] < 2 {
		t.Errorf("API load counts %d node patches, want the IPAM controller's 2 at least", writes["nodes"]["patch"])
	}
}

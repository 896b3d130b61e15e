package scenarios_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodesim/nodesim/scenarios"
)

// exampleFiles are the example scenarios shipped beside the package, and
// the scale ones in scale/ (bench --scenario's).
func exampleFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	scale, err := filepath.Glob("scale/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, scale...)
	if len(files) < 2 {
		t.Fatalf("found %d example scenarios, want at least default.yaml and heartbeats-small.yaml", len(files))
	}
	return files
}

func TestExamplesLoad(t *testing.T) {
	for _, file := range exampleFiles(t) {
		s, err := scenarios.Load(file)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(file), ".yaml"); s.Name != want {
			t.Errorf("%s: metadata.name %q, want the file's name %q", file, s.Name, want)
		}
	}
}

func TestDefaultScenario(t *testing.T) {
	s, err := scenarios.Load("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "default" || s.Seed != 42 || s.Duration != 10*time.Minute || s.KubernetesVersion != "1.37" {
		t.Errorf("scenario %+v", s)
	}
	if s.NodeCount() != 60 || len(s.NodePools) != 3 {
		t.Fatalf("%d nodes in %d pools, want 60 in 3", s.NodeCount(), len(s.NodePools))
	}
	for i, zone := range []string{"zone-a", "zone-b", "zone-c"} {
		p := s.NodePools[i]
		if p.Name != zone || p.Count != 20 {
			t.Errorf("pool %d: %s of %d, want %s of 20", i, p.Name, p.Count, zone)
		}
		want := map[string]string{
			"topology.kubernetes.io/zone":      zone,
			"topology.kubernetes.io/region":    "region-1",
			"node.kubernetes.io/instance-type": "m5.2xlarge",
		}
		if len(p.Labels) != len(want) {
			t.Errorf("%s labels %v, want %v", zone, p.Labels, want)
		}
		for k, v := range want {
			if p.Labels[k] != v {
				t.Errorf("%s label %s = %q, want %q", zone, k, p.Labels[k], v)
			}
		}
		for name, q := range map[corev1.ResourceName]string{"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"} {
			if got := p.Capacity[name]; got.Cmp(resource.MustParse(q)) != 0 {
				t.Errorf("%s capacity %s = %s, want %s", zone, name, got.String(), q)
			}
		}
		runtime, kernel := "containerd://2.1.4", "6.8.0-60-generic"
		if zone == "zone-c" {
			runtime, kernel = "cri-o://1.33.0", "5.15.0-139-generic"
		}
		if p.ContainerRuntime != runtime || p.KernelVersion != kernel {
			t.Errorf("%s runs %s on %s, want %s on %s", zone, p.ContainerRuntime, p.KernelVersion, runtime, kernel)
		}
		if got := p.NodeName(19); got != zone+"-19" {
			t.Errorf("last node of %s is %s", zone, got)
		}
	}
}

func TestHeartbeatsSmallScenario(t *testing.T) {
	s, err := scenarios.Load("heartbeats-small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "heartbeats-small" || s.Seed != 7 || s.Duration != 12*time.Minute || len(s.NodePools) != 1 {
		t.Fatalf("scenario %+v", s)
	}
	p := s.NodePools[0]
	if p.Name != "small" || p.Count != 3 || p.NetworkReadyAfter != 3*time.Second {
		t.Errorf("pool %+v", p)
	}
	if names := []string{p.NodeName(0), p.NodeName(2)}; names[0] != "small-0" || names[1] != "small-2" {
		t.Errorf("node names %v", names)
	}
}

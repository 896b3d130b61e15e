package scenarios_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/node/config"
	"github.com/nodesim/nodesim/scenarios"
)

// head is a valid scenario of 9 lines; cases append lines from line 10 on,
// to the pool (4 spaces) or to spec (2 spaces).
const head = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata:
  name: t
spec:
  duration: 10m
  nodePools:
  - name: a
    count: 2
`

// twoPools is head with a second pool b on lines 10 and 11; cases append
// from line 12 on.
const twoPools = head + `  - name: b
    count: 80
`

func mustParse(t *testing.T, text string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("t.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	return s
}

// all flattens what Parse returned into its *Errors.
func all(t *testing.T, err error) []*scenarios.Error {
	t.Helper()
	var one *scenarios.Error
	var list scenarios.ErrorList
	switch {
	case errors.As(err, &list):
		return list
	case errors.As(err, &one):
		return []*scenarios.Error{one}
	}
	t.Fatalf("error %v (%T) holds no *scenarios.Error", err, err)
	return nil
}

func TestParseDefaults(t *testing.T) {
	s := mustParse(t, head)
	want := &scenarios.Scenario{
		File:              "t.yaml",
		Name:              "t",
		Seed:              1,
		Duration:          10 * time.Minute,
		KubernetesVersion: "1.37",
		NodePools: []scenarios.NodePool{{
			Name:  "a",
			Count: 2,
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("8"),
				corev1.ResourceMemory:           resource.MustParse("32Gi"),
				corev1.ResourcePods:             resource.MustParse("110"),
				corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
			},
			KernelVersion:     "6.8.0-60-generic",
			CgroupVersion:     2,
			OSImage:           "Ubuntu 24.04.2 LTS",
			ContainerRuntime:  "containerd://2.1.4",
			Architecture:      "amd64",
			NetworkReadyAfter: 5 * time.Second,
			KubeProxyMode:     "iptables",
			KubeletConfig:     defaultKubeletConfig(t, 37),
		}},
		ControlPlane: scenarios.ControlPlane{
			NodeMonitorPeriod:                   5 * time.Second,
			NodeMonitorGracePeriod:              50 * time.Second,
			NodeStartupGracePeriod:              60 * time.Second,
			NodeEvictionRate:                    0.1,
			SecondaryNodeEvictionRate:           0.01,
			LargeClusterSizeThreshold:           50,
			UnhealthyZoneThreshold:              0.55,
			DefaultNotReadyTolerationSeconds:    300,
			DefaultUnreachableTolerationSeconds: 300,
		},
	}
	assertScenario(t, s, want)
	if s.Seed != scenarios.DefaultSeed || s.KubernetesVersion != scenarios.DefaultKubernetesVersion {
		t.Errorf("defaults differ from the named constants")
	}
	p := s.NodePools[0]
	if p.KernelVersion != scenarios.DefaultKernelVersion || p.OSImage != scenarios.DefaultOSImage ||
		p.ContainerRuntime != scenarios.DefaultContainerRuntime || p.NetworkReadyAfter != scenarios.DefaultNetworkReadyAfter ||
		p.CgroupVersion != scenarios.DefaultCgroupVersion || p.Architecture != scenarios.DefaultArchitecture {
		t.Errorf("pool defaults differ from the named constants: %+v", p)
	}
	if p.Labels != nil || p.Taints != nil {
		t.Errorf("labels %v, taints %v: want none", p.Labels, p.Taints)
	}
}

// assertScenario compares scenarios, quantities by value.
// defaultKubeletConfig is the configuration of a pool with none, for
// kubernetesVersion 1.minor.
func defaultKubeletConfig(t *testing.T, minor int) *kubeletconfigv1beta1.KubeletConfiguration {
	t.Helper()
	res, err := config.Load(config.Input{KubernetesMinor: minor})
	if err != nil {
		t.Fatal(err)
	}
	return res.Config
}

func assertScenario(t *testing.T, got, want *scenarios.Scenario) {
	t.Helper()
	gotPools, wantPools := got.NodePools, want.NodePools
	g, w := *got, *want
	g.NodePools, w.NodePools = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("scenario:\n got %+v\nwant %+v", g, w)
	}
	if len(gotPools) != len(wantPools) {
		t.Fatalf("%d pools, want %d", len(gotPools), len(wantPools))
	}
	for i := range wantPools {
		gp, wp := gotPools[i], wantPools[i]
		if len(gp.Capacity) != len(wp.Capacity) {
			t.Errorf("pool %d capacity %v, want %v", i, gp.Capacity, wp.Capacity)
		}
		for name, q := range wp.Capacity {
			if gq, ok := gp.Capacity[name]; !ok || gq.Cmp(q) != 0 {
				t.Errorf("pool %d capacity %s = %s, want %s", i, name, gq.String(), q.String())
			}
		}
		gp.Capacity, wp.Capacity = nil, nil
		if !reflect.DeepEqual(gp, wp) {
			t.Errorf("pool %d:\n got %+v\nwant %+v", i, gp, wp)
		}
	}
}

func TestParseEveryField(t *testing.T) {
	s := mustParse(t, `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata:
  name: every.field-1
spec:
  seed: 18446744073709551615
  duration: 1h30m
  kubernetesVersion: "1.28"
  nodePools:
  - name: gpu
    count: 1000
    labels:
      topology.kubernetes.io/zone: zone-a
      node.kubernetes.io/instance-type: p5
      kubernetes.io/arch: arm64
      kubernetes.io/os: linux
      example.com/empty: ""
      example.com/null:
    registerWithTaints:
    - {key: example.com/gpu, value: "true", effect: NoSchedule}
    - example.com/spot:PreferNoSchedule
    - dedicated=ml:NoExecute
    capacity:
      cpu: 500m
      memory: 64Gi
      hugepages-2Mi: 1Gi
      example.com/gpu: 8
    kernelVersion: 5.15.0-139-generic
    cgroupVersion: 1
    osImage: Rocky Linux 9.4 (Blue Onyx)
    containerRuntime: cri-o://1.33.0
    architecture: arm64
    networkReadyAfter: 0s
`)
	want := &scenarios.Scenario{
		File: "t.yaml", Name: "every.field-1", Seed: math.MaxUint64, Duration: 90 * time.Minute, KubernetesVersion: "1.28",
		NodePools: []scenarios.NodePool{{
			Name:  "gpu",
			Count: 1000,
			Labels: map[string]string{
				"topology.kubernetes.io/zone": "zone-a", "node.kubernetes.io/instance-type": "p5",
				"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux", "example.com/empty": "", "example.com/null": "",
			},
			Taints: []corev1.Taint{
				{Key: "example.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule},
				{Key: "example.com/spot", Effect: corev1.TaintEffectPreferNoSchedule},
				{Key: "dedicated", Value: "ml", Effect: corev1.TaintEffectNoExecute},
			},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("500m"),
				corev1.ResourceMemory:           resource.MustParse("64Gi"),
				corev1.ResourcePods:             resource.MustParse("110"),
				corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
				"hugepages-2Mi":                 resource.MustParse("1Gi"),
				"example.com/gpu":               resource.MustParse("8"),
			},
			KernelVersion:     "5.15.0-139-generic",
			CgroupVersion:     1,
			OSImage:           "Rocky Linux 9.4 (Blue Onyx)",
			ContainerRuntime:  "cri-o://1.33.0",
			Architecture:      "arm64",
			NetworkReadyAfter: 0,
			KubeProxyMode:     "iptables",
			// 1.28: failCgroupV1 false, so cgroup v1 is allowed.
			KubeletConfig: defaultKubeletConfig(t, 28),
		}},
		// 1.28: the grace period before 1.32.
		ControlPlane: func() scenarios.ControlPlane {
			c := scenarios.DefaultControlPlane("1.37")
			c.NodeMonitorGracePeriod = 40 * time.Second
			return c
		}(),
	}
	assertScenario(t, s, want)
}

func TestParseGoodVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		check func(*scenarios.Scenario) string
	}{
		{"unquoted kubernetesVersion keeps its trailing zero", head + "  kubernetesVersion: 1.30\n",
			func(s *scenarios.Scenario) string { return cmp("version", s.KubernetesVersion, "1.30") }},
		{"seed 0", head + "  seed: 0\n",
			func(s *scenarios.Scenario) string { return cmp("seed", s.Seed, uint64(0)) }},
		{"null means unset", head + "    labels:\n    osImage: ~\n  seed: ~\n  kubernetesVersion:\n",
			func(s *scenarios.Scenario) string {
				return cmp("seed", s.Seed, uint64(1)) + cmp("version", s.KubernetesVersion, "1.37") +
					cmp("labels", len(s.NodePools[0].Labels), 0) + cmp("os", s.NodePools[0].OSImage, scenarios.DefaultOSImage)
			}},
		{"longest pool name", strings.Replace(head, "name: a", "name: "+strings.Repeat("n", 61), 1),
			func(s *scenarios.Scenario) string { return cmp("node", len(s.NodePools[0].NodeName(1)), 63) }},
		{"count 0", strings.Replace(head, "count: 2", "count: 0", 1),
			func(s *scenarios.Scenario) string { return cmp("nodes", s.NodeCount(), 0) }},
		{"taints key", head + "    taints: [a:NoSchedule]\n",
			func(s *scenarios.Scenario) string { return cmp("taints", len(s.NodePools[0].Taints), 1) }},
		{"numbers as strings", head + "    kernelVersion: 6.8\n    osImage: 24.04\n",
			func(s *scenarios.Scenario) string {
				return cmp("kernel", s.NodePools[0].KernelVersion, "6.8") + cmp("os", s.NodePools[0].OSImage, "24.04")
			}},
		{"capacity numbers", head + "    capacity: {cpu: 4, memory: 1e9, pods: 250}\n",
			func(s *scenarios.Scenario) string {
				c := s.NodePools[0].Capacity
				return cmp("cpu", c.Cpu().Value(), int64(4)) + cmp("memory", c.Memory().Value(), int64(1e9)) +
					cmp("pods", c.Pods().Value(), int64(250)) + cmp("storage", c.StorageEphemeral().String(), "100Gi")
			}},
		{"trailing document separator", head + "---\n",
			func(s *scenarios.Scenario) string { return cmp("pools", len(s.NodePools), 1) }},
		{"anchors and merge keys", `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: merged}
spec:
  duration: 90s
  nodePools:
  - &base
    name: a
    count: 3
    labels: &labels {topology.kubernetes.io/region: r1}
    capacity: {cpu: "16"}
  - <<: *base
    name: b
    labels: *labels
  - <<: [{name: c, count: 1}, *base]
`, func(s *scenarios.Scenario) string {
			var got []string
			for _, p := range s.NodePools {
				got = append(got, fmt.Sprintf("%s/%d/%s/%s", p.Name, p.Count, p.Labels["topology.kubernetes.io/region"], p.Capacity.Cpu()))
			}
			return cmp("pools", strings.Join(got, " "), "a/3/r1/16 b/3/r1/16 c/1/r1/16")
		}},
		{"JSON", `{"apiVersion": "nodesim.dev/v1alpha1", "kind": "Scenario", "metadata": {"name": "j"},
		  "spec": {"duration": "1m", "nodePools": [{"name": "p", "count": 12}]}}`,
			func(s *scenarios.Scenario) string { return cmp("node", s.NodePools[0].NodeName(3), "p-03") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := tc.check(mustParse(t, tc.text)); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func cmp[T comparable](what string, got, want T) string {
	if got != want {
		return fmt.Sprintf("%s = %v, want %v; ", what, got, want)
	}
	return ""
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		text    string
		line    int
		field   string
		message string // a part of the message
		count   int    // errors in all; 0 means 1
	}{
		// The file as a whole.
		{"empty file", "", 0, "", "empty file", 0},
		{"only comments", "# nothing\n\n", 0, "", "empty file", 0},
		{"empty document", "---\n", 0, "", "empty document", 0},
		{"top-level list", "- a\n- b\n", 1, "", "must be a mapping with apiVersion, kind, metadata and spec, not a list", 0},
		{"not YAML", "hello, world\n", 1, "", `not "hello, world"`, 0},
		{"unclosed list", "apiVersion: nodesim.dev/v1alpha1\nkind: [Scenario\n", 2, "", "not valid YAML: did not find expected ',' or ']'", 0},
		{"list item in a mapping", "apiVersion: x\nkind: y\n\n- z\n", 4, "", "not valid YAML: did not find expected key", 0},
		{"mapping in a scalar", "apiVersion: x\nkind: y: z\n", 2, "", "not valid YAML: mapping values are not allowed in this context", 0},
		{"bad indentation", "apiVersion: x\n kind: y\n", 2, "", "not valid YAML", 0},
		{"unknown alias", head + "  seed: *nowhere\n", 0, "", "not valid YAML: unknown anchor 'nowhere'", 0},
		{"control character", "apiVersion: \x01\n", 0, "", "not valid YAML", 0},
		{"two documents", head + "---\n" + head, 10, "", "a second YAML document", 0},
		{"two documents after an empty one", head + "---\n---\n" + head, 11, "", "a second YAML document", 0},

		// Structure.
		{"apiVersion", strings.Replace(head, "nodesim.dev/v1alpha1", "nodesim.dev/v1", 1), 1, "apiVersion", `must be nodesim.dev/v1alpha1, not "nodesim.dev/v1"`, 0},
		{"kind", strings.Replace(head, "kind: Scenario", "kind: Pod", 1), 2, "kind", `must be Scenario, not "Pod"`, 0},
		{"kind not a string", strings.Replace(head, "kind: Scenario", "kind: [Scenario]", 1), 2, "kind", "must be a string, not a list", 0},
		{"no metadata.name", strings.Replace(head, "  name: t\n", "  name:\n", 1), 3, "metadata.name", "required", 0},
		{"metadata.name", strings.Replace(head, "name: t", "name: Bad_Name", 1), 4, "metadata.name", `invalid name "Bad_Name"`, 0},
		{"metadata unknown", strings.Replace(head, "  name: t\n", "  name: t\n  labels: {}\n", 1), 5, "metadata.labels", `unknown field "labels"; known fields: name`, 0},
		{"no spec", "apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: t}\n", 1, "spec", "required", 0},
		{"spec not a mapping", "apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec: [1]\n", 4, "spec", "must be a mapping, not a list", 0},
		{"unknown top-level field", head + "status: {}\n", 10, "status", `unknown field "status"; known fields: apiVersion, kind, metadata, spec`, 0},
		{"misspelt field", head + "  nodepools: []\n", 10, "spec.nodepools", `unknown field "nodepools" (did you mean "nodePools"?)`, 0},
		{"duplicate key", head + "  duration: 5m\n", 10, "spec.duration", "duplicate key (first at line 6)", 0},
		{"duplicate key in a pool", head + "    count: 3\n", 10, "spec.nodePools[0].count", "duplicate key (first at line 9)", 0},
		{"key not a string", "? [a]\n: b\n" + head, 1, "", "keys must be non-empty strings, not a list", 0},
		{"merge of a scalar", head + "  <<: 1\n", 10, "spec", "a merge key (<<) takes a mapping or a list of mappings", 0},

		// Kubelet configuration (more in kubelet_test.go).
		{"kubeletConfig without a type", head + "    kubeletConfig: {}\n", 10, "spec.nodePools[0].kubeletConfig.apiVersion", `pool "a", kubeletConfig: required: must be kubelet.config.k8s.io/v1beta1`, 0},
		{"kubeletConfigDropins empty drop-in", head + "    kubeletConfigDropins: {10-a.conf: }\n", 10, "spec.nodePools[0].kubeletConfigDropins[10-a.conf]", `pool "a", drop-in 10-a.conf: empty`, 0},
		{"kubeletConfigDir missing", head + "    kubeletConfigDir: /nonexistent/kubelet.conf.d\n", 10, "spec.nodePools[0].kubeletConfigDir", `pool "a": read kubelet drop-in directory /nonexistent/kubelet.conf.d`, 0},
		{"devicePlugins count", head + "    devicePlugins: [{resourceName: example.com/gpu, count: -1}]\n", 10, "spec.nodePools[0].devicePlugins[0].count", "must be from 0 to 1024, not -1", 0},

		// spec.
		{"no duration", strings.Replace(head, "  duration: 10m\n", "", 1), 5, "spec.duration", "required", 0},
		{"zero duration", strings.Replace(head, "10m", "0s", 1), 6, "spec.duration", "must be more than 0", 0},
		{"negative duration", strings.Replace(head, "10m", "-5m", 1), 6, "spec.duration", "must be more than 0", 0},
		{"duration without unit", strings.Replace(head, "10m", "30", 1), 6, "spec.duration", `invalid duration "30": use Go duration syntax`, 0},
		{"duration in days", strings.Replace(head, "10m", "1d", 1), 6, "spec.duration", `invalid duration "1d"`, 0},
		{"negative seed", head + "  seed: -1\n", 10, "spec.seed", `must be a whole number from 0 to 18446744073709551615, not "-1"`, 0},
		{"seed too large", head + "  seed: 18446744073709551616\n", 10, "spec.seed", "must be a whole number", 0},
		{"seed a string", head + "  seed: \"42\"\n", 10, "spec.seed", `not "42"`, 0},
		{"old release", head + "  kubernetesVersion: \"1.27\"\n", 10, "spec.kubernetesVersion", `release "1.27" is not supported: nodesim models 1.28 to 1.37`, 0},
		{"future release", head + "  kubernetesVersion: \"1.38\"\n", 10, "spec.kubernetesVersion", "not supported", 0},
		{"release with v", head + "  kubernetesVersion: v1.37\n", 10, "spec.kubernetesVersion", `must be a release such as "1.37"`, 0},
		{"patch release", head + "  kubernetesVersion: 1.37.2\n", 10, "spec.kubernetesVersion", `must be a release such as "1.37"`, 0},
		{"nodePools not a list", strings.Replace(head, "  nodePools:\n  - name: a\n    count: 2\n", "  nodePools: {a: 1}\n", 1), 7, "spec.nodePools", "must be a list, not a mapping", 0},
		{"pool not a mapping", head + "  - b\n", 10, "spec.nodePools[1]", `must be a mapping, not "b"`, 0},
		{"too many nodes", head + "  - {name: b, count: 600000}\n  - {name: c, count: 600000}\n", 7, "spec.nodePools", "1200002 nodes in all, more than the 1000000", 0},

		// Pools.
		{"pool without a name", head + "  - count: 1\n", 10, "spec.nodePools[1].name", "required", 0},
		{"pool without a count", head + "  - name: b\n", 10, "spec.nodePools[1].count", "required", 0},
		{"pool name", strings.Replace(head, "name: a", "name: Zone_A", 1), 8, "spec.nodePools[0].name", `invalid pool name "Zone_A"`, 0},
		{"duplicate pool name", twoPools + "  - name: a\n    count: 1\n", 12, "spec.nodePools[2].name", `duplicate pool name "a" (first at line 8)`, 0},
		{"pool name too long for its nodes", strings.Replace(head, "name: a", "name: "+strings.Repeat("n", 62), 1), 8, "spec.nodePools[0].name", `node names like "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-0" would have 64 characters, more than the 63`, 0},
		{"pool name too long with count", strings.Replace(strings.Replace(head, "name: a", "name: "+strings.Repeat("n", 60), 1), "count: 2", "count: 100", 1), 8, "spec.nodePools[0].name", "would have 64 characters, more than the 63", 0},
		{"count a word", strings.Replace(head, "count: 2", "count: ten", 1), 9, "spec.nodePools[0].count", `must be a whole number, not "ten"`, 0},
		{"count a fraction", strings.Replace(head, "count: 2", "count: 1.5", 1), 9, "spec.nodePools[0].count", "must be a whole number", 0},
		{"count quoted", strings.Replace(head, "count: 2", "count: \"2\"", 1), 9, "spec.nodePools[0].count", `must be a whole number, not "2"`, 0},
		{"count negative", strings.Replace(head, "count: 2", "count: -1", 1), 9, "spec.nodePools[0].count", "must be from 0 to 1000000, not -1", 0},
		{"count huge", strings.Replace(head, "count: 2", "count: 9223372036854775807", 1), 9, "spec.nodePools[0].count", "must be from 0 to 1000000", 0},
		{"unknown pool field", head + "    zone: a\n", 10, "spec.nodePools[0].zone", `unknown field "zone"; known fields: name, count,`, 0},
		{"pool field case", head + "    KernelVersion: 6.8.0\n", 10, "spec.nodePools[0].KernelVersion", `(did you mean "kernelVersion"?)`, 0},

		// Labels.
		{"labels a list", head + "    labels: [a]\n", 10, "spec.nodePools[0].labels", "must be a mapping, not a list", 0},
		{"label key", head + "    labels: {-a: b}\n", 10, "spec.nodePools[0].labels[-a]", `invalid label key "-a"`, 0},
		{"label value", head + "    labels:\n      a: b c\n", 11, "spec.nodePools[0].labels.a", `invalid label value "b c"`, 0},
		{"label value a list", head + "    labels:\n      a: [b]\n", 11, "spec.nodePools[0].labels.a", "must be a string, not a list", 0},
		{"label the kubelet may not set", head + "    labels:\n      node-role.kubernetes.io/worker: \"\"\n", 11, "spec.nodePools[0].labels[node-role.kubernetes.io/worker]", `a kubelet may not set "node-role.kubernetes.io/worker" on its node`, 0},
		{"hostname label", head + "    labels: {kubernetes.io/hostname: x}\n", 10, "spec.nodePools[0].labels[kubernetes.io/hostname]", "set by the kubelet to each node's name", 0},
		{"arch label", head + "    labels: {kubernetes.io/arch: arm64}\n", 10, "spec.nodePools[0].labels[kubernetes.io/arch]", `"arm64" contradicts the pool's architecture "amd64"`, 0},
		{"os label", head + "    labels: {beta.kubernetes.io/os: windows}\n", 10, "spec.nodePools[0].labels[beta.kubernetes.io/os]", "must be linux", 0},

		// Taints.
		{"taints a mapping", head + "    registerWithTaints: {a: b}\n", 10, "spec.nodePools[0].registerWithTaints", "must be a list, not a mapping", 0},
		{"taint effect", head + "    registerWithTaints:\n    - {key: a, effect: NoRun}\n", 11, "spec.nodePools[0].registerWithTaints[0]", `invalid taint effect "NoRun": must be NoSchedule, PreferNoSchedule or NoExecute`, 0},
		{"taint without effect", head + "    registerWithTaints:\n    - key: a\n", 11, "spec.nodePools[0].registerWithTaints[0].effect", "required", 0},
		{"taint key", head + "    registerWithTaints: [\"a b:NoSchedule\"]\n", 10, "spec.nodePools[0].registerWithTaints[0]", `invalid taint key "a b"`, 0},
		{"taint string", head + "    taints:\n    - a\n", 11, "spec.nodePools[0].taints[0]", `invalid taint "a": write key=value:Effect`, 0},
		{"taint unknown field", head + "    taints:\n    - {key: a, effect: NoSchedule, operator: Exists}\n", 11, "spec.nodePools[0].taints[0].operator", `unknown field "operator"`, 0},
		{"duplicate taint", head + "    taints:\n    - a=1:NoSchedule\n    - a=2:NoSchedule\n", 12, "spec.nodePools[0].taints[1]", "duplicate taint a:NoSchedule (first at line 11)", 0},
		{"taints twice", head + "    taints: []\n    registerWithTaints: []\n", 11, "spec.nodePools[0].registerWithTaints", "the pool already has taints", 0},

		// Capacity.
		{"capacity cpu", twoPools + "    capacity: {cpu: eight}\n", 12, "spec.nodePools[1].capacity.cpu", `invalid quantity "eight"`, 0},
		{"capacity negative", twoPools + "    capacity:\n      memory: -1Gi\n", 13, "spec.nodePools[1].capacity.memory", `must not be negative, not "-1Gi"`, 0},
		{"capacity pods fraction", head + "    capacity: {pods: 1.5}\n", 10, "spec.nodePools[0].capacity.pods", `must be a whole number, not "1.5"`, 0},
		{"capacity unknown resource", head + "    capacity: {gpu: 1}\n", 10, "spec.nodePools[0].capacity.gpu", `unknown resource "gpu"`, 0},
		{"capacity extended fraction", head + "    capacity: {example.com/gpu: 500m}\n", 10, "spec.nodePools[0].capacity[example.com/gpu]", "must be a whole number", 0},
		{"capacity kubernetes.io resource", head + "    capacity: {kubernetes.io/gpu: 1}\n", 10, "spec.nodePools[0].capacity[kubernetes.io/gpu]", "must not be in the kubernetes.io or k8s.io namespaces", 0},
		{"capacity huge pages", head + "    capacity: {hugepages-big: 1Gi}\n", 10, "spec.nodePools[0].capacity.hugepages-big", `invalid huge page size "big"`, 0},
		{"capacity value a list", head + "    capacity: {cpu: [8]}\n", 10, "spec.nodePools[0].capacity.cpu", "must be a quantity", 0},
		{"capacity a list", head + "    capacity: [cpu]\n", 10, "spec.nodePools[0].capacity", "must be a mapping, not a list", 0},

		// Node details.
		{"kernel version", head + "    kernelVersion: latest\n", 10, "spec.nodePools[0].kernelVersion", `must be a kernel release such as "6.8.0-60-generic" (MAJOR.MINOR first), not "latest"`, 0},
		{"cgroup version", head + "    cgroupVersion: 3\n", 10, "spec.nodePools[0].cgroupVersion", "must be 1 or 2, not 3", 0},
		{"cgroup version a string", head + "    cgroupVersion: v2\n", 10, "spec.nodePools[0].cgroupVersion", `must be a whole number, not "v2"`, 0},
		{"os image", head + "    osImage: \" \"\n", 10, "spec.nodePools[0].osImage", "must not be empty", 0},
		{"os image control", head + "    osImage: \"a\\tb\"\n", 10, "spec.nodePools[0].osImage", "control characters", 0},
		{"container runtime", head + "    containerRuntime: docker://20.10.1\n", 10, "spec.nodePools[0].containerRuntime", `must be containerd://X.Y.Z or cri-o://X.Y.Z, not "docker://20.10.1"`, 0},
		{"container runtime version", head + "    containerRuntime: containerd://2.1\n", 10, "spec.nodePools[0].containerRuntime", "must be containerd://X.Y.Z", 0},
		{"architecture", head + "    architecture: x86_64\n", 10, "spec.nodePools[0].architecture", `must be amd64 or arm64, not "x86_64"`, 0},
		{"networkReadyAfter negative", head + "    networkReadyAfter: -1s\n", 10, "spec.nodePools[0].networkReadyAfter", "must not be negative", 0},
		{"networkReadyAfter without unit", head + "    networkReadyAfter: 5\n", 10, "spec.nodePools[0].networkReadyAfter", `invalid duration "5"`, 0},

		// Several problems: the first by line is the one errors.As finds.
		{"several", strings.Replace(head, "count: 2", "count: x", 1) + "  seed: y\n", 9, "spec.nodePools[0].count", "must be a whole number", 2},
		{"misspelt required field", strings.Replace(head, "metadata:", "metdata:", 1), 1, "metadata", "required", 2},
		{"merge cycle", "apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec: &s {duration: 1m, <<: *s}\n", 4, "spec", "a merge key (<<) includes the mapping it is in", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := scenarios.Parse("t.yaml", []byte(tc.text))
			if err == nil {
				t.Fatalf("no error; parsed %+v", s)
			}
			if s != nil {
				t.Errorf("a scenario along with the error")
			}
			var first *scenarios.Error
			if !errors.As(err, &first) {
				t.Fatalf("errors.As(%T) found no *scenarios.Error", err)
			}
			if first.File != "t.yaml" || first.Line != tc.line || first.Field != tc.field || !strings.Contains(first.Message, tc.message) {
				t.Errorf("got  %q\nwant t.yaml:%d: %s: ...%s...", first.Error(), tc.line, tc.field, tc.message)
			}
			want := max(tc.count, 1)
			if errs := all(t, err); len(errs) != want {
				t.Errorf("%d errors, want %d:\n%v", len(errs), want, err)
			}
			if !strings.HasPrefix(err.Error(), first.Error()) {
				t.Errorf("Error() %q does not start with the first error", err.Error())
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		err  scenarios.Error
		want string
	}{
		{scenarios.Error{File: "a.yaml", Line: 3, Field: "spec.seed", Message: "bad"}, "a.yaml:3: spec.seed: bad"},
		{scenarios.Error{File: "a.yaml", Field: "spec", Message: "bad"}, "a.yaml: spec: bad"},
		{scenarios.Error{File: "a.yaml", Line: 1, Message: "bad"}, "a.yaml:1: bad"},
		{scenarios.Error{File: "a.yaml", Message: "empty file"}, "a.yaml: empty file"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestErrorListOrderAndLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(head)
	for i := range scenarios.MaxErrors + 10 {
		fmt.Fprintf(&b, "    unknown%d: x\n", i)
	}
	_, err := scenarios.Parse("t.yaml", []byte(b.String()))
	errs := all(t, err)
	if len(errs) != scenarios.MaxErrors+1 {
		t.Fatalf("%d errors, want %d", len(errs), scenarios.MaxErrors+1)
	}
	for i, e := range errs[:scenarios.MaxErrors] {
		if e.Line != 10+i || e.Field != fmt.Sprintf("spec.nodePools[0].unknown%d", i) {
			t.Errorf("error %d: %v", i, e)
		}
	}
	if last := errs[len(errs)-1]; last.Message != "10 more errors not shown" || last.File != "t.yaml" {
		t.Errorf("last error %v", last)
	}
	if n := strings.Count(err.Error(), "\n"); n != scenarios.MaxErrors {
		t.Errorf("Error() has %d lines, want one per error", n+1)
	}
}

// TestAliasBomb: nested merge keys that expand to 10^9 label entries stop
// at the work budget instead of running for ever.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("    labels: &l0 {a: b}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  - name: p%d\n    count: 1\n    labels: &l%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}\n")
	}
	done := make(chan error)
	go func() {
		_, err := scenarios.Parse("t.yaml", []byte(b.String()))
		done <- err
	}()
	err := <-done
	var e *scenarios.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "too complex") {
		t.Fatalf("got %v, want the document is too complex", err)
	}
}

func TestNodeName(t *testing.T) {
	for _, tc := range []struct {
		pool  string
		count int
		index int
		want  string
	}{
		{"zone-a", 1000, 0, "zone-a-0000"},
		{"zone-a", 1000, 999, "zone-a-0999"},
		{"b", 80, 0, "b-00"},
		{"b", 80, 79, "b-79"},
		{"b", 10, 0, "b-00"},
		{"b", 10, 9, "b-09"},
		{"one", 1, 0, "one-0"},
		{"nine", 9, 8, "nine-8"},
		{"b", 11, 10, "b-10"},
		{"b", 100, 5, "b-005"},
		{"b", 0, 0, "b-0"},
		{"grown", 80, 123, "grown-123"}, // past the count (addNodes): no padding is lost
	} {
		p := scenarios.NodePool{Name: tc.pool, Count: tc.count}
		if got := p.NodeName(tc.index); got != tc.want {
			t.Errorf("NodePool{%s, count %d}.NodeName(%d) = %q, want %q", tc.pool, tc.count, tc.index, got, tc.want)
		}
	}
}

func TestNodeNamesUnique(t *testing.T) {
	s := mustParse(t, head+"  - {name: a-0, count: 12}\n  - {name: a-00, count: 3}\n")
	seen := make(map[string]bool)
	for _, p := range s.NodePools {
		for i := range p.Count {
			name := p.NodeName(i)
			if seen[name] {
				t.Errorf("node name %s twice", name)
			}
			seen[name] = true
		}
	}
	if len(seen) != s.NodeCount() || s.NodeCount() != 17 {
		t.Errorf("%d names, NodeCount %d, want 17", len(seen), s.NodeCount())
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(head), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(good)
	if err != nil || s.File != good || s.Name != "t" {
		t.Fatalf("Load(%s) = %+v, %v", good, s, err)
	}

	missing := filepath.Join(dir, "missing.yaml")
	if _, err := scenarios.Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load of a missing file: %v, want a not-exist error naming the file", err)
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(head+strings.Repeat("#", scenarios.MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	var e *scenarios.Error
	if _, err := scenarios.Load(big); !errors.As(err, &e) || e.File != big || !strings.Contains(e.Message, "larger than") {
		t.Errorf("Load of a too large file: %v", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(head, "10m", "10", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.Load(bad); !errors.As(err, &e) || e.File != bad || e.Line != 6 {
		t.Errorf("Load of a bad file: %v, want %s:6", err, bad)
	}
}

func TestNodeEndpointsSwitch(t *testing.T) {
	base := "apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: e}\nspec:\n  duration: 1m\n  nodePools: [{name: p, count: 1}]\n"
	for body, off := range map[string]bool{"": false, "  nodeEndpoints: true\n": false, "  nodeEndpoints: false\n": true} {
		sc, err := scenarios.Parse("e.yaml", []byte(base+body))
		if err != nil {
			t.Fatal(err)
		}
		if sc.NoNodeEndpoints != off {
			t.Errorf("%q: NoNodeEndpoints %v, want %v", body, sc.NoNodeEndpoints, off)
		}
	}
	if _, err := scenarios.Parse("e.yaml", []byte(base+"  nodeEndpoints: maybe\n")); err == nil || !strings.Contains(err.Error(), "e.yaml:7: spec.nodeEndpoints") {
		t.Errorf("a non-boolean nodeEndpoints: %v", err)
	}
}

package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodesim/nodesim/scenarios"
)

// pool is head's pool a with lines appended from line 10 on.
func parsePool(t *testing.T, lines string) (*scenarios.Scenario, error) {
	t.Helper()
	return scenarios.Parse("t.yaml", []byte(head+lines))
}

func TestKubeletConfigMerged(t *testing.T) {
	s, err := parsePool(t, `    kubeletConfig:
      apiVersion: kubelet.config.k8s.io/v1beta1
      kind: KubeletConfiguration
      port: 20250
      authorization:
        mode: Webhook
        webhook:
          cacheAuthorizedTTL: "5m"
      featureGates: {AllAlpha: false, MemoryQoS: true}
    kubeletConfigDropins:
      20-b.conf:
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        maxPods: 50
      10-a.conf:
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        maxPods: 30
        authorization: {mode: AlwaysAllow}
        featureGates: {MemoryQoS: false}
        nodeStatusUpdateFrequency: 20s
      README: not a drop-in, skipped
    devicePlugins:
    - {resourceName: example.com/gpu, count: 4}
    - {resourceName: vendor.io/fpga, count: 0}
    kubeProxyMode: nftables
`)
	if err != nil {
		t.Fatal(err)
	}
	p := s.NodePools[0]
	c := p.KubeletConfig
	if c.Port != 20250 || c.MaxPods != 50 || c.Authorization.Mode != "AlwaysAllow" ||
		c.Authorization.Webhook.CacheAuthorizedTTL.Duration != 5*time.Minute ||
		c.FeatureGates["MemoryQoS"] || len(c.FeatureGates) != 2 ||
		c.NodeStatusUpdateFrequency.Duration != 20*time.Second || c.NodeStatusReportFrequency.Duration != 5*time.Minute ||
		c.NodeLeaseDurationSeconds != 40 {
		t.Errorf("merged config wrong: %+v", c)
	}
	if len(p.DevicePlugins) != 2 || p.DevicePlugins[0] != (scenarios.DevicePlugin{ResourceName: "example.com/gpu", Count: 4}) || p.KubeProxyMode != "nftables" {
		t.Errorf("pool %+v", p)
	}
}

func TestKubeletConfigDir(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "kubelet.conf.d")
	if err := os.Mkdir(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-a.conf", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 30\n")
	write("20-b.conf", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeLeaseDurationSeconds: 60\n")
	file := filepath.Join(dir, "s.yaml")
	text := head + "    kubeletConfigDir: kubelet.conf.d\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.NodePools[0].KubeletConfig; c.MaxPods != 30 || c.NodeLeaseDurationSeconds != 60 {
		t.Errorf("maxPods %d lease %d", c.MaxPods, c.NodeLeaseDurationSeconds)
	}
	// A bad field in a file is reported at that file's line.
	write("30-c.conf", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\nnodeLeaseDurationSecond: 60\n")
	_, err = scenarios.Load(file)
	var e *scenarios.Error
	if !errors.As(err, &e) || e.File != filepath.Join(conf, "30-c.conf") || e.Line != 4 || e.Field != "nodeLeaseDurationSecond" ||
		!strings.Contains(e.Message, `pool "a"`) || !strings.Contains(e.Message, "drop-in 30-c.conf") || !strings.Contains(e.Message, `did you mean "nodeLeaseDurationSeconds"`) {
		t.Errorf("err = %v", err)
	}
}

func TestKubeletConfigErrors(t *testing.T) {
	const typ = "        apiVersion: kubelet.config.k8s.io/v1beta1\n        kind: KubeletConfiguration\n"
	for _, tc := range []struct {
		name, text string
		line       int
		field, msg string
	}{
		{"drop-in unknown field", "    kubeletConfigDropins:\n      10-a.conf:\n" + typ + "        evictionHard: {memory.available: 1Gi}\n        maxPod: 3\n",
			15, "spec.nodePools[0].kubeletConfigDropins[10-a.conf].maxPod", `pool "a", drop-in 10-a.conf: unknown field "maxPod" (did you mean "maxPods"?)`},
		{"drop-in wrong type", "    kubeletConfigDropins:\n      10-a.conf:\n" + typ + "        authorization:\n          mode: 3\n",
			15, "spec.nodePools[0].kubeletConfigDropins[10-a.conf].authorization.mode", `must be a string, not a number`},
		{"drop-in wrong kind", "    kubeletConfigDropins:\n      10-a.conf:\n        apiVersion: kubelet.config.k8s.io/v1beta1\n        kind: KubeProxyConfiguration\n",
			13, "spec.nodePools[0].kubeletConfigDropins[10-a.conf].kind", `must be KubeletConfiguration, not "KubeProxyConfiguration"`},
		{"drop-in invalid value", "    kubeletConfigDropins:\n      10-a.conf:\n" + typ + "        nodeLeaseDurationSeconds: -5\n",
			14, "spec.nodePools[0].kubeletConfigDropins[10-a.conf].nodeLeaseDurationSeconds", "invalid configuration: nodeLeaseDurationSeconds must be greater than 0"},
		{"drop-in name with a directory", "    kubeletConfigDropins:\n      a/10.conf: {}\n",
			11, "spec.nodePools[0].kubeletConfigDropins[a/10.conf]", "without directories"},
		{"both dropins and dir", "    kubeletConfigDropins: {}\n    kubeletConfigDir: d\n",
			11, "spec.nodePools[0].kubeletConfigDir", "not both"},
		{"base invalid", "    kubeletConfig:\n" + strings.ReplaceAll(typ, "        ", "      ") + "      port: 0\n      authorization: {mode: RBAC}\n",
			14, "spec.nodePools[0].kubeletConfig.authorization.mode", "unknown authorization mode RBAC"},
		{"nftables on 4.4", "    kernelVersion: 4.4.0\n    kubeProxyMode: nftables\n",
			11, "spec.nodePools[0].kubeProxyMode", `pool "a": kube-proxy refuses nftables mode on kernel 4.4.0: unable to create proxier: kube-proxy in nftables mode requires kernel 5.13 or later`},
		{"nftables on 5.10 with the check skipped is fine, on 4.19 not", "    kernelVersion: 4.19.0\n    kubeProxyMode: nftables\n    kubeProxyNFTablesSkipKernelVersionCheck: true\n",
			11, "spec.nodePools[0].kubeProxyMode", "needs kernel 5.4 or later even with the kernel version check skipped"},
		{"kube-proxy mode", "    kubeProxyMode: userspace\n", 10, "spec.nodePools[0].kubeProxyMode", `must be iptables, nftables or ipvs, not "userspace"`},
		{"cgroup v1 refused on 1.37", "    cgroupVersion: 1\n", 10, "spec.nodePools[0].cgroupVersion",
			`pool "a": the kubelet refuses to start: kubelet is configured to not run on a host using cgroup v1`},
		{"swap refused", "    swap: true\n", 10, "spec.nodePools[0].swap", "running with swap on is not supported"},
		{"swap not a boolean", "    swap: on\n", 10, "spec.nodePools[0].swap", `must be true or false, not "on"`},
		{"device plugin resource", "    devicePlugins: [{resourceName: gpu, count: 1}]\n", 10, "spec.nodePools[0].devicePlugins[0].resourceName", "domain/name"},
		{"device plugin kubernetes.io", "    devicePlugins: [{resourceName: kubernetes.io/gpu, count: 1}]\n", 10, "spec.nodePools[0].devicePlugins[0].resourceName", "must not be in the kubernetes.io"},
		{"device plugin duplicate", "    devicePlugins:\n    - {resourceName: a.io/x, count: 1}\n    - {resourceName: a.io/x, count: 2}\n", 12, "spec.nodePools[0].devicePlugins[1].resourceName", "duplicate device plugin a.io/x (first at line 11)"},
		{"device plugin unknown field", "    devicePlugins: [{resourceName: a.io/x, count: 1, healthy: 1}]\n", 10, "spec.nodePools[0].devicePlugins[0].healthy", `unknown field "healthy"`},
		{"device plugin count required", "    devicePlugins: [{resourceName: a.io/x}]\n", 10, "spec.nodePools[0].devicePlugins[0].count", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parsePool(t, tc.text)
			if err == nil {
				t.Fatalf("no error; pool %+v", s.NodePools[0])
			}
			var e *scenarios.Error
			if !errors.As(err, &e) || e.Line != tc.line || e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got  %v\nwant t.yaml:%d: %s: ...%s...", err, tc.line, tc.field, tc.msg)
			}
		})
	}
	// Allowed: cgroup v1 with failCgroupV1 false; swap with failSwapOn false.
	if _, err := parsePool(t, "    cgroupVersion: 1\n    swap: true\n    kubeletConfig:\n"+strings.ReplaceAll(typ, "        ", "      ")+
		"      failCgroupV1: false\n      failSwapOn: false\n"); err != nil {
		t.Errorf("cgroup v1 and swap allowed by the configuration: %v", err)
	}
	if _, err := parsePool(t, "    kernelVersion: 5.10.0\n    kubeProxyMode: nftables\n    kubeProxyNFTablesSkipKernelVersionCheck: true\n"); err != nil {
		t.Errorf("nftables on 5.10 with the check skipped: %v", err)
	}
}

// TestKubeletConfigExample: the example's modern pool ends as the
// documented merge results, three drop-ins in lexical order.
func TestKubeletConfigExample(t *testing.T) {
	s, err := scenarios.Load("kubelet-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := s.NodePools[0].KubeletConfig
	if c.Port != 20250 || *c.SerializeImagePulls || c.Address != "192.168.0.8" || c.Authorization.Mode != "AlwaysAllow" ||
		c.Authorization.Webhook.CacheAuthorizedTTL.Duration != 8*time.Minute || c.Authorization.Webhook.CacheUnauthorizedTTL.Duration != 45*time.Second ||
		strings.Join(c.ClusterDNS, ",") != "192.168.0.2,192.168.0.3,192.168.0.5" ||
		len(c.FeatureGates) != 4 || c.FeatureGates["MemoryQoS"] || !c.FeatureGates["KubeletTracing"] ||
		strings.Join(c.StaticPodURLHeader["custom-static-pod"], ",") != "Authorization: 223EWRWER,X-Custom-Header: 345" ||
		len(c.StaticPodURLHeader["kubelet-api-support"]) != 2 {
		t.Errorf("modern pool config: %+v", c)
	}
	legacy := s.NodePools[1].KubeletConfig
	if *legacy.FailCgroupV1 || legacy.NodeStatusUpdateFrequency.Duration != 20*time.Second || legacy.NodeLeaseDurationSeconds != 60 {
		t.Errorf("legacy pool config: %+v", legacy)
	}
}

// TestUnknownFeatureGate checks that a misspelt gate is refused as the
// kubelet refuses to start with it, at its line, with the gate it means.
func TestUnknownFeatureGate(t *testing.T) {
	_, err := parsePool(t, `    kubeletConfig:
      apiVersion: kubelet.config.k8s.io/v1beta1
      kind: KubeletConfiguration
      featureGates:
        ContainerCheckpiont: false
`)
	var e *scenarios.Error
	if !errors.As(err, &e) || e.Line != 14 || e.Field != "spec.nodePools[0].kubeletConfig.featureGates.ContainerCheckpiont" ||
		!strings.Contains(e.Message, "unrecognized feature gate: ContainerCheckpiont (did you mean ContainerCheckpoint?)") {
		t.Errorf("err = %v (%+v)", err, e)
	}
}

// TestSpecialFilesRefused checks that a FIFO as a scenario file or as a
// drop-in of kubeletConfigDir is refused, never opened: opening a FIFO
// with no writer would hang this test.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "s.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := scenarios.Load(fifo)
	var e *scenarios.Error
	if !errors.As(err, &e) || e.File != fifo || !strings.Contains(e.Message, "is a named pipe (FIFO)") {
		t.Errorf("Load(FIFO) = %v", err)
	}
	if _, err := scenarios.Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "is a character device") {
		t.Errorf("Load(/dev/zero) = %v", err)
	}
	conf := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(conf, "10-a.conf"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(file, []byte(head+"    kubeletConfigDir: conf.d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = scenarios.Load(file)
	if err == nil || !strings.Contains(err.Error(), "10-a.conf is a named pipe (FIFO)") || !strings.Contains(err.Error(), "ok.yaml:10") {
		t.Errorf("Load(FIFO drop-in) = %v", err)
	}
}

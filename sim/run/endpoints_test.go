package run

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/internal/testtool"
	"github.com/nodesim/nodesim/node/config"
	criruntime "github.com/nodesim/nodesim/runtime"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// The seed's three --config-dir examples (node-reference-information.txt
// section 5): one pool's kubeletConfig is the three main files together
// (they do not overlap but for port and serializeImagePulls, which they
// agree on), its drop-ins are the three drop-ins, and /configz must show
// the three documented results together.
const (
	seedBase = `      apiVersion: kubelet.config.k8s.io/v1beta1
      kind: KubeletConfiguration
      port: 20250
      authorization:
        mode: Webhook
        webhook:
          cacheAuthorizedTTL: "5m"
          cacheUnauthorizedTTL: "30s"
      serializeImagePulls: false
      address: "192.168.0.1"
      clusterDNS:
        - "192.168.0.9"
        - "192.168.0.8"
      featureGates:
        AllAlpha: false
        MemoryQoS: true
      staticPodURLHeader:
        kubelet-api-support:
          - "Authorization: 234APSDFA"
          - "X-Custom-Header: 123"
        custom-static-pod:
          - "Authorization: 223EWRWER"
          - "X-Custom-Header: 456"
`
	seedDropins = `      10-structure-fields.conf:
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        authorization:
          mode: AlwaysAllow
          webhook:
            cacheAuthorizedTTL: "8m"
            cacheUnauthorizedTTL: "45s"
        address: "192.168.0.8"
      20-lists.conf:
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        clusterDNS:
          - "192.168.0.2"
          - "192.168.0.3"
          - "192.168.0.5"
      30-maps.conf:
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        featureGates:
          MemoryQoS: false
          KubeletTracing: true
          DynamicResourceAllocation: true
        staticPodURLHeader:
          custom-static-pod:
            - "Authorization: 223EWRWER"
            - "X-Custom-Header: 345"
`
	// seedResult is the three documented results together.
	seedResult = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
serializeImagePulls: false
authorization:
  mode: AlwaysAllow
  webhook:
    cacheAuthorizedTTL: "8m"
    cacheUnauthorizedTTL: "45s"
address: "192.168.0.8"
clusterDNS:
  - "192.168.0.2"
  - "192.168.0.3"
  - "192.168.0.5"
featureGates:
  AllAlpha: false
  MemoryQoS: false
  KubeletTracing: true
  DynamicResourceAllocation: true
staticPodURLHeader:
  kubelet-api-support:
    - "Authorization: 234APSDFA"
    - "X-Custom-Header: 123"
  custom-static-pod:
    - "Authorization: 223EWRWER"
    - "X-Custom-Header: 345"
`
)

// endpointsScenario is the served fleet: two "old" nodes (kernel 4.4.0,
// cgroup v1, CRI-O, checkpointing switched off) and one "modern" node
// (kernel 6.8, containerd, the seed's configuration) with two pods, and a
// pod on an old node. The old nodes take an unusual port and the modern
// node (the fleet's third, 127.1.0.3) keeps the seed's 20250, so that no
// example scenario run at the same time on this machine holds the same
// address.
var endpointsScenario = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: endpoints}
spec:
  seed: 5
  duration: 1h
  nodePools:
  - name: old
    count: 2
    labels: {example.com/pool: old}
    kernelVersion: 4.4.0
    cgroupVersion: 1
    osImage: Ubuntu 16.04.7 LTS
    containerRuntime: cri-o://1.33.0
    networkReadyAfter: 1s
    kubeletConfig:
      apiVersion: kubelet.config.k8s.io/v1beta1
      kind: KubeletConfiguration
      port: 10351
      failCgroupV1: false
      featureGates: {ContainerCheckpoint: false}
  - name: modern
    count: 1
    labels: {example.com/pool: modern}
    kernelVersion: 6.8.0-60-generic
    containerRuntime: containerd://2.1.4
    networkReadyAfter: 1s
    kubeletConfig:
` + seedBase + `    kubeletConfigDropins:
` + seedDropins + `  workloads:
  - name: web
    replicas: 2
    template:
      spec:
        nodeSelector: {example.com/pool: modern}
        containers:
        - {name: app, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}}
  - name: legacy
    replicas: 1
    template:
      spec:
        nodeSelector: {example.com/pool: old}
        containers:
        - {name: app, image: "busybox:1.36"}
`

// endpointsPace is the served fleet's virtual time per wall second: a
// container's "tick" every 10 virtual seconds is 0.2 s of wall time.
const endpointsPace = 50

// servedFleet is a scenario served by Serve on an embedded API server.
type servedFleet struct {
	srv        *apiserver.Server
	client     kubernetes.Interface
	stateDir   string
	kubeconfig string
}

// serveFleet serves the scenario until the test ends, then checks that
// Serve stopped cleanly.
func serveFleet(t *testing.T, text string, pace float64) *servedFleet {
	t.Helper()
	sc, err := scenarios.Parse("endpoints.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := apiserver.Start(context.Background(), apiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Unix socket paths hold at most 107 bytes: a short state dir.
	stateDir, err := os.MkdirTemp("", "ns")
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, sc, srv, ServeOptions{Pace: pace, Start: time.Now(), StateDir: stateDir})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return within 30 s of its context's end")
		}
		if err := srv.Stop(); err != nil {
			t.Errorf("stop API server: %v", err)
		}
		os.RemoveAll(stateDir)
	})
	f := &servedFleet{srv: srv, stateDir: stateDir, kubeconfig: filepath.Join(t.TempDir(), "kubeconfig")}
	if err := srv.WriteKubeconfig(f.kubeconfig); err != nil {
		t.Fatal(err)
	}
	if f.client, err = kubernetes.NewForConfig(srv.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	return f
}

// kubectl runs the real kubectl against the fleet's API server; it
// returns stdout, and stderr in the error.
func (f *servedFleet) kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path := testtool.Must(t, testtool.Kubectl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// No --request-timeout: kubectl would send it as ?timeout=, which the
	// kubelet's checkpoint endpoint reads as its own.
	cmd := exec.CommandContext(ctx, path, append([]string{"--kubeconfig", f.kubeconfig}, args...)...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECACHEDIR="+filepath.Join(home, "cache"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// mustKubectl is kubectl that fails the test on an error.
func (f *servedFleet) mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := f.kubectl(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond every 100 ms until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, status := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %s", within, what, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningPods waits until the named pods run and returns them by name.
func (f *servedFleet) runningPods(t *testing.T, names ...string) map[string]*corev1.Pod {
	t.Helper()
	out := map[string]*corev1.Pod{}
	waitFor(t, 25*time.Second, "pods "+strings.Join(names, ", ")+" Running", func() (bool, string) {
		list, err := f.client.CoreV1().Pods(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		var status []string
		for i := range list.Items {
			p := &list.Items[i]
			out[p.Name] = p
			status = append(status, fmt.Sprintf("%s on %q %s", p.Name, p.Spec.NodeName, p.Status.Phase))
		}
		for _, n := range names {
			if p, ok := out[n]; !ok || p.Status.Phase != corev1.PodRunning {
				return false, strings.Join(status, "; ")
			}
		}
		return true, ""
	})
	return out
}

// crictlBinary finds the real crictl (PATH or GOPATH/bin) or skips.
func crictlBinary(t *testing.T) string {
	t.Helper()
	return testtool.Need(t, testtool.Crictl)
}

// TestServeEndpoints serves a small fleet (Serve, 50X) and uses what a
// person would: kubectl through the API server's node proxy to each
// kubelet's HTTPS API, and crictl on each node's cri.sock.
func TestServeEndpoints(t *testing.T) {
	f := serveFleet(t, endpointsScenario, endpointsPace)
	pods := f.runningPods(t, "web-0", "web-1", "legacy-0")
	for _, n := range []string{"web-0", "web-1"} {
		if got := pods[n].Spec.NodeName; got != "modern-0" {
			t.Fatalf("pod %s on node %q, want modern-0 (its nodeSelector)", n, got)
		}
	}
	legacyNode := pods["legacy-0"].Spec.NodeName
	if !strings.HasPrefix(legacyNode, "old-") {
		t.Fatalf("pod legacy-0 on node %q, want an old node", legacyNode)
	}

	t.Run("configz", func(t *testing.T) {
		out := f.mustKubectl(t, "get", "--raw", "/api/v1/nodes/modern-0/proxy/configz")
		var body map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &body); err != nil {
			t.Fatalf("configz is not a JSON object: %v\n%s", err, out)
		}
		if len(body) != 1 || body["kubeletconfig"] == nil {
			t.Fatalf("configz has keys %v, want only kubeletconfig", slices.Sorted(maps.Keys(body)))
		}
		var got map[string]any
		if err := json.Unmarshal(body["kubeletconfig"], &got); err != nil {
			t.Fatal(err)
		}
		// The documented results, every other field at the kubelet's
		// default.
		res, err := config.Load(config.Input{Base: []byte(seedResult)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res.Config)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		want["apiVersion"], want["kind"] = "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"
		for _, k := range unionKeys(got, want) {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("configz %s = %v, want %v", k, jsonText(got[k]), jsonText(want[k]))
			}
		}
		// And the merged values themselves, independently of config.Load.
		var kc kubeletconfigv1beta1.KubeletConfiguration
		if err := json.Unmarshal(body["kubeletconfig"], &kc); err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			field     string
			got, want any
		}{
			{"port", kc.Port, int32(20250)},
			{"serializeImagePulls", kc.SerializeImagePulls != nil && *kc.SerializeImagePulls, false},
			{"authorization.mode", string(kc.Authorization.Mode), "AlwaysAllow"},
			{"authorization.webhook.cacheAuthorizedTTL", kc.Authorization.Webhook.CacheAuthorizedTTL.Duration, 8 * time.Minute},
			{"authorization.webhook.cacheUnauthorizedTTL", kc.Authorization.Webhook.CacheUnauthorizedTTL.Duration, 45 * time.Second},
			{"address", kc.Address, "192.168.0.8"},
			{"clusterDNS", kc.ClusterDNS, []string{"192.168.0.2", "192.168.0.3", "192.168.0.5"}},
			{"featureGates", kc.FeatureGates, map[string]bool{"AllAlpha": false, "MemoryQoS": false, "KubeletTracing": true, "DynamicResourceAllocation": true}},
			{"staticPodURLHeader", kc.StaticPodURLHeader, map[string][]string{
				"kubelet-api-support": {"Authorization: 234APSDFA", "X-Custom-Header: 123"},
				"custom-static-pod":   {"Authorization: 223EWRWER", "X-Custom-Header: 345"},
			}},
			// Defaulted once for the base, kept through the merge.
			{"nodeStatusReportFrequency", kc.NodeStatusReportFrequency.Duration, 5 * time.Minute},
			{"maxPods", kc.MaxPods, int32(110)},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("configz %s = %#v, want %#v", c.field, c.got, c.want)
			}
		}
		if kc.APIVersion != "kubelet.config.k8s.io/v1beta1" || kc.Kind != "KubeletConfiguration" {
			t.Errorf("configz apiVersion %q kind %q", kc.APIVersion, kc.Kind)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		for _, node := range []string{"modern-0", "old-0", "old-1"} {
			if out := f.mustKubectl(t, "get", "--raw", "/api/v1/nodes/"+node+"/proxy/healthz"); out != "ok" {
				t.Errorf("node %s healthz = %q, want ok", node, out)
			}
		}
	})

	t.Run("pods", func(t *testing.T) {
		for node, want := range map[string][]string{"modern-0": {"web-0", "web-1"}, legacyNode: {"legacy-0"}} {
			out := f.mustKubectl(t, "get", "--raw", "/api/v1/nodes/"+node+"/proxy/pods")
			var list corev1.PodList
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatalf("/pods of %s: %v\n%s", node, err, out)
			}
			var names []string
			for _, p := range list.Items {
				names = append(names, p.Namespace+"/"+p.Name)
				if p.Spec.NodeName != node {
					t.Errorf("/pods of %s lists %s bound to %q", node, p.Name, p.Spec.NodeName)
				}
			}
			sort.Strings(names)
			var wantNames []string
			for _, n := range want {
				wantNames = append(wantNames, "default/"+n)
			}
			if !slices.Equal(names, wantNames) {
				t.Errorf("/pods of %s = %v, want %v", node, names, wantNames)
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		var lines []string
		waitFor(t, 10*time.Second, "web-0's log to show two ticks", func() (bool, string) {
			out := f.mustKubectl(t, "logs", "web-0", "--timestamps")
			lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			return len(lines) >= 3, out
		})
		// "<RFC3339Nano> start counter=0", then "tick 10", "tick 20", ...
		// each stamped that many virtual seconds after the start.
		var start time.Time
		for i, line := range lines {
			ts, content, ok := strings.Cut(line, " ")
			at, err := time.Parse(time.RFC3339Nano, ts)
			if !ok || err != nil {
				t.Fatalf("log line %d %q has no timestamp: %v", i, line, err)
			}
			if i == 0 {
				if content != "start counter=0" {
					t.Fatalf("first log line %q, want start counter=0", content)
				}
				start = at
				continue
			}
			if want := fmt.Sprintf("tick %d", 10*i); content != want {
				t.Fatalf("log line %d = %q, want %q (log:\n%s)", i, content, want, strings.Join(lines, "\n"))
			}
			if got := at.Sub(start); got != time.Duration(10*i)*time.Second {
				t.Errorf("%q stamped %s after the start, want %ds", content, got, 10*i)
			}
		}
		plain := f.mustKubectl(t, "logs", "web-0", "--tail=1")
		if !strings.HasPrefix(plain, "tick ") || strings.Count(plain, "\n") != 1 {
			t.Errorf("kubectl logs --tail=1 = %q", plain)
		}
	})

	t.Run("checkpoint", func(t *testing.T) {
		out := f.mustKubectl(t, "create", "--raw", "/api/v1/nodes/modern-0/proxy/checkpoint/default/web-0/app", "-f", "/dev/null")
		var body struct {
			Items []string `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &body); err != nil || len(body.Items) != 1 {
			t.Fatalf("checkpoint answered %q (%v), want {\"items\":[path]}", out, err)
		}
		path := body.Items[0]
		dir := filepath.Join(f.stateDir, "modern-0", "checkpoints")
		if filepath.Dir(path) != dir {
			t.Errorf("archive %s, want it in %s", path, dir)
		}
		if base := filepath.Base(path); !strings.HasPrefix(base, "checkpoint-web-0_default-app-") || !strings.HasSuffix(base, ".tar") {
			t.Errorf("archive name %s, want checkpoint-web-0_default-app-<time>.tar", base)
		} else if _, err := time.Parse(time.RFC3339, strings.TrimSuffix(strings.TrimPrefix(base, "checkpoint-web-0_default-app-"), ".tar")); err != nil {
			t.Errorf("archive name %s: time: %v", base, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
			t.Errorf("archive mode %v, want -rw-------", fi.Mode())
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("checkpoints dir mode %v, want drwx------", di.Mode())
		}
		a, err := criruntime.ReadArchive(path)
		if err != nil {
			t.Fatalf("nodesim checkpoint inspect would fail: %v", err)
		}
		if a.Pod != "web-0" || a.Namespace != "default" || a.Container != "app" || a.Node != "modern-0" ||
			a.PodUID != string(pods["web-0"].UID) || a.Image != "nginx:1.27" {
			t.Errorf("archive holds pod %s/%s (uid %s) container %s image %s on node %s, want default/web-0 (uid %s) app nginx:1.27 on modern-0",
				a.Namespace, a.Pod, a.PodUID, a.Container, a.Image, a.Node, pods["web-0"].UID)
		}
		if a.MemoryBytes < 64<<20 || a.MemoryBytes > 128<<20 {
			t.Errorf("archive memory %d bytes, want between the request (64Mi) and the limit (128Mi)", a.MemoryBytes)
		}
		if a.Process.Counter <= 0 {
			t.Errorf("archive process state %+v: the container ran for a while", a.Process)
		}
		// The container keeps running.
		if p, err := f.client.CoreV1().Pods(metav1.NamespaceDefault).Get(context.Background(), "web-0", metav1.GetOptions{}); err != nil || p.Status.Phase != corev1.PodRunning {
			t.Errorf("web-0 after the checkpoint: %v %v", p.Status.Phase, err)
		}
	})

	t.Run("checkpointGateOff", func(t *testing.T) {
		// legacy-0 runs on an old node, whose ContainerCheckpoint gate is
		// off: the kubelet has no /checkpoint/ at all.
		req := "/api/v1/nodes/" + legacyNode + "/proxy/checkpoint/default/legacy-0/app"
		out, err := f.kubectl(t, "create", "--raw", req, "-f", "/dev/null")
		if err == nil || !strings.Contains(err.Error(), "NotFound") {
			t.Errorf("kubectl create --raw %s = %q, %v; want NotFound", req, out, err)
		}
		// The status code itself, through the API server's proxy.
		hc, err := restclient.HTTPClientFor(f.srv.RESTConfig())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Post(f.srv.URL()+req, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %s, want 404", req, resp.Status)
		}
		// With the gate on, the same request succeeds (the 404 is the
		// gate's, not the pod's).
		resp, err = hc.Post(f.srv.URL()+"/api/v1/nodes/modern-0/proxy/checkpoint/default/web-1/app", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("POST checkpoint of web-1 on modern-0: %s, want 200", resp.Status)
		}
		entries, _ := os.ReadDir(filepath.Join(f.stateDir, legacyNode, "checkpoints"))
		if len(entries) != 0 {
			t.Errorf("node %s has checkpoints %v", legacyNode, entries)
		}
	})

	t.Run("nodesWide", func(t *testing.T) {
		out := f.mustKubectl(t, "get", "nodes", "-o", "wide")
		rows := parseTable(t, out)
		// kubectl 1.37's server-side table shows "KERNEL (ARCH)".
		want := map[string][2]string{
			"old-0":    {"4.4.0 (amd64)", "cri-o://1.33.0"},
			"old-1":    {"4.4.0 (amd64)", "cri-o://1.33.0"},
			"modern-0": {"6.8.0-60-generic (amd64)", "containerd://2.1.4"},
		}
		if len(rows) != len(want) {
			t.Fatalf("kubectl get nodes -o wide has %d rows, want %d:\n%s", len(rows), len(want), out)
		}
		for _, r := range rows {
			w, ok := want[r["NAME"]]
			if !ok {
				t.Errorf("unexpected node %q", r["NAME"])
				continue
			}
			if r["KERNEL-VERSION"] != w[0] || r["CONTAINER-RUNTIME"] != w[1] {
				t.Errorf("node %s: KERNEL-VERSION %q CONTAINER-RUNTIME %q, want %q %q", r["NAME"], r["KERNEL-VERSION"], r["CONTAINER-RUNTIME"], w[0], w[1])
			}
			if r["STATUS"] != "Ready" || !strings.HasPrefix(r["INTERNAL-IP"], "172.16.0.") {
				t.Errorf("node %s: STATUS %q INTERNAL-IP %q", r["NAME"], r["STATUS"], r["INTERNAL-IP"])
			}
		}
		if !strings.Contains(out, "Ubuntu 16.04.7 LTS") {
			t.Errorf("OS-IMAGE of the old nodes missing:\n%s", out)
		}
	})

	t.Run("crictl", func(t *testing.T) {
		bin := crictlBinary(t)
		crictl := func(node string, args ...string) string {
			t.Helper()
			sock := "unix://" + filepath.Join(f.stateDir, node, "cri.sock")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"--runtime-endpoint", sock, "--image-endpoint", sock, "--timeout", "10s"}, args...)...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("crictl %s on %s: %v\n%s%s", strings.Join(args, " "), node, err, out, stderr.String())
			}
			return string(out)
		}
		for node, want := range map[string]struct {
			name, version string
			pods          []string
			image         string
		}{
			"modern-0": {"containerd", "2.1.4", []string{"web-0", "web-1"}, "nginx"},
			legacyNode: {"cri-o", "1.33.0", []string{"legacy-0"}, "busybox"},
		} {
			out := crictl(node, "version")
			for _, s := range []string{"RuntimeName:  " + want.name, "RuntimeVersion:  " + want.version, "RuntimeApiVersion:  v1"} {
				if !strings.Contains(out, s) {
					t.Errorf("crictl version on %s lacks %q:\n%s", node, s, out)
				}
			}

			var sandboxes struct {
				Items []struct {
					ID       string `json:"id"`
					Metadata struct {
						Name, Namespace, UID string
					} `json:"metadata"`
					State string `json:"state"`
				} `json:"items"`
			}
			decode(t, crictl(node, "pods", "-o", "json"), &sandboxes)
			var names []string
			for _, s := range sandboxes.Items {
				names = append(names, s.Metadata.Namespace+"/"+s.Metadata.Name)
				if s.State != "SANDBOX_READY" {
					t.Errorf("crictl pods on %s: %s is %s", node, s.Metadata.Name, s.State)
				}
				if p := pods[s.Metadata.Name]; p == nil || s.Metadata.UID != string(p.UID) {
					t.Errorf("crictl pods on %s: sandbox %s has uid %s, not its pod's", node, s.Metadata.Name, s.Metadata.UID)
				}
			}
			sort.Strings(names)
			if want := prefixAll("default/", want.pods); !slices.Equal(names, want) {
				t.Errorf("crictl pods on %s = %v, want %v", node, names, want)
			}

			var containers struct {
				Containers []struct {
					ID           string `json:"id"`
					PodSandboxID string `json:"podSandboxId"`
					Metadata     struct{ Name string }
					State        string            `json:"state"`
					Labels       map[string]string `json:"labels"`
				} `json:"containers"`
			}
			decode(t, crictl(node, "ps", "-o", "json"), &containers)
			names = nil
			for _, c := range containers.Containers {
				pod := c.Labels["io.kubernetes.pod.namespace"] + "/" + c.Labels["io.kubernetes.pod.name"]
				names = append(names, pod)
				if c.Metadata.Name != "app" || c.State != "CONTAINER_RUNNING" {
					t.Errorf("crictl ps on %s: %s container %s is %s", node, pod, c.Metadata.Name, c.State)
				}
				// The container ID is the one the pod's status reports.
				p := pods[c.Labels["io.kubernetes.pod.name"]]
				if p == nil || len(p.Status.ContainerStatuses) != 1 || !strings.HasSuffix(p.Status.ContainerStatuses[0].ContainerID, "://"+c.ID) {
					t.Errorf("crictl ps on %s: container %s of %s is not the one its pod reports", node, c.ID, pod)
				}

				var inspect struct {
					Status struct {
						ID       string `json:"id"`
						Metadata struct{ Name string }
						State    string            `json:"state"`
						Labels   map[string]string `json:"labels"`
					} `json:"status"`
					Info map[string]any `json:"info"`
				}
				decode(t, crictl(node, "inspect", c.ID), &inspect)
				if inspect.Status.ID != c.ID || inspect.Status.Metadata.Name != "app" || inspect.Status.State != "CONTAINER_RUNNING" ||
					inspect.Status.Labels["io.kubernetes.pod.name"] != c.Labels["io.kubernetes.pod.name"] ||
					inspect.Status.Labels["io.kubernetes.pod.namespace"] != "default" {
					t.Errorf("crictl inspect %s on %s: %+v", c.ID, node, inspect.Status)
				}
				if inspect.Info["node"] != node || inspect.Info["sandboxID"] != c.PodSandboxID {
					t.Errorf("crictl inspect %s on %s: info %v", c.ID, node, inspect.Info)
				}
			}
			sort.Strings(names)
			if want := prefixAll("default/", want.pods); !slices.Equal(names, want) {
				t.Errorf("crictl ps on %s = %v, want %v", node, names, want)
			}

			var images struct {
				Images []struct {
					RepoTags []string `json:"repoTags"`
				} `json:"images"`
			}
			decode(t, crictl(node, "images", "-o", "json"), &images)
			found := false
			for _, im := range images.Images {
				for _, tag := range im.RepoTags {
					found = found || strings.Contains(tag, want.image)
				}
			}
			if !found {
				t.Errorf("crictl images on %s has no %s image: %+v", node, want.image, images.Images)
			}
		}
	})
}

// parseTable reads kubectl's table output by the columns of its header
// (cells may hold spaces, as OS-IMAGE does).
func parseTable(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 {
		t.Fatalf("empty table")
	}
	header := lines[0]
	type col struct {
		name  string
		start int
	}
	var cols []col
	for i := 0; i < len(header); {
		if header[i] == ' ' {
			i++
			continue
		}
		j := strings.IndexByte(header[i:], ' ')
		if j < 0 {
			j = len(header) - i
		}
		cols = append(cols, col{header[i : i+j], i})
		i += j
	}
	var rows []map[string]string
	for _, line := range lines[1:] {
		r := map[string]string{}
		for k, c := range cols {
			end := len(line)
			if k+1 < len(cols) {
				end = min(cols[k+1].start, len(line))
			}
			if c.start < len(line) {
				r[c.name] = strings.TrimSpace(line[c.start:end])
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, out)
	}
}

func prefixAll(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonText(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

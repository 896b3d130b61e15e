package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/internal/testtool"
)

// kubectl runs the real kubectl against the shared server with the
// kubeconfig nodesim writes, and returns its combined output.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectlCmd(t, context.Background(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func kubectlCmd(t *testing.T, ctx context.Context, args ...string) *exec.Cmd {
	t.Helper()
	path := testtool.Need(t, testtool.Kubectl)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := testServer.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, path, append([]string{"--kubeconfig", kc, "--request-timeout", "30s"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+t.TempDir(), "HOME="+t.TempDir())
	return cmd
}

func TestKubectlApplyGetDescribe(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "node.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Node
metadata:
  name: kubectl-node
  labels:
    topology.kubernetes.io/zone: zone-a
    node-role.kubernetes.io/worker: ""
---
apiVersion: v1
kind: Pod
metadata:
  name: kubectl-pod
  namespace: default
spec:
  nodeName: kubectl-node
  containers:
  - name: web
    image: nginx:1.27
    resources:
      requests: {cpu: 100m, memory: 64Mi}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := kubectl(t, "apply", "-f", manifest)
	if !strings.Contains(out, "node/kubectl-node created") || !strings.Contains(out, "pod/kubectl-pod created") {
		t.Fatalf("apply: %s", out)
	}
	// Applying again is a no-op; server-side apply works too.
	if out := kubectl(t, "apply", "-f", manifest); !strings.Contains(out, "unchanged") {
		t.Fatalf("re-apply: %s", out)
	}
	if out := kubectl(t, "apply", "--server-side", "-f", manifest); !strings.Contains(out, "serverside-applied") {
		t.Fatalf("server-side apply: %s", out)
	}

	out = kubectl(t, "get", "nodes", "kubectl-node")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "ROLES") || !strings.Contains(out, "worker") {
		t.Fatalf("get nodes: %s", out)
	}
	out = kubectl(t, "get", "pods", "-o", "wide")
	if !strings.Contains(out, "kubectl-pod") || !strings.Contains(out, "kubectl-node") || !strings.Contains(out, "Pending") {
		t.Fatalf("get pods -o wide: %s", out)
	}
	out = kubectl(t, "describe", "node", "kubectl-node")
	for _, want := range []string{"Name:               kubectl-node", "Taints:             node.kubernetes.io/not-ready:NoSchedule", "kubectl-pod"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe node lacks %q:\n%s", want, out)
		}
	}
	out = kubectl(t, "describe", "pod", "kubectl-pod")
	if !strings.Contains(out, "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s") {
		t.Errorf("describe pod lacks the default toleration:\n%s", out)
	}
}

func TestKubectlCordonAndTaint(t *testing.T) {
	c := newClient(t, false)
	n := testNode("kubectl-cordon")
	n.Status.NodeInfo.KernelVersion = "6.8.0-kt"
	n.Status.NodeInfo.ContainerRuntimeVersion = "cri-o://1.33.0"
	if _, err := c.CoreV1().Nodes().Create(ctxT(t), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := kubectl(t, "cordon", "kubectl-cordon"); !strings.Contains(out, "cordoned") {
		t.Fatalf("cordon: %s", out)
	}
	out := kubectl(t, "get", "node", "kubectl-cordon", "-o", "wide", "--no-headers")
	fieldsOut := strings.Fields(out)
	if len(fieldsOut) < 2 || fieldsOut[1] != "Ready,SchedulingDisabled" || !strings.Contains(out, "6.8.0-kt") || !strings.Contains(out, "cri-o://1.33.0") {
		t.Fatalf("cordoned node row: %q", out)
	}
	if out := kubectl(t, "taint", "node", "kubectl-cordon", "dedicated=gpu:NoExecute"); !strings.Contains(out, "tainted") {
		t.Fatalf("taint: %s", out)
	}
	got, err := c.CoreV1().Nodes().Get(ctxT(t), "kubectl-cordon", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, taint := range got.Spec.Taints {
		if taint.Key == "dedicated" && taint.Value == "gpu" && taint.Effect == corev1.TaintEffectNoExecute {
			found = true
		}
	}
	if !found || !got.Spec.Unschedulable {
		t.Fatalf("node after cordon and taint: unschedulable %v taints %v", got.Spec.Unschedulable, got.Spec.Taints)
	}
	kubectl(t, "taint", "node", "kubectl-cordon", "dedicated=gpu:NoExecute-")
	if out := kubectl(t, "uncordon", "kubectl-cordon"); !strings.Contains(out, "uncordoned") {
		t.Fatalf("uncordon: %s", out)
	}
}

func TestKubectlExplainAndRaw(t *testing.T) {
	out := kubectl(t, "explain", "pods.spec.tolerations")
	if !strings.Contains(out, "tolerationSeconds") || !strings.Contains(out, "KIND:       Pod") {
		t.Fatalf("explain: %s", out)
	}
	out = kubectl(t, "explain", "leases.spec")
	if !strings.Contains(out, "renewTime") {
		t.Fatalf("explain leases: %s", out)
	}
	if out := kubectl(t, "get", "--raw", "/healthz"); strings.TrimSpace(out) != "ok" {
		t.Fatalf("get --raw /healthz: %q", out)
	}
	if out := kubectl(t, "get", "--raw", "/api/v1/namespaces/kube-node-lease"); !strings.Contains(out, `"name":"kube-node-lease"`) {
		t.Fatalf("get --raw namespace: %s", out)
	}
	if out := kubectl(t, "version"); !strings.Contains(out, "Server Version: v1.") {
		t.Fatalf("kubectl version: %s", out)
	}
	for _, short := range []string{"ns", "no", "po", "ev", "all"} {
		kubectl(t, "get", short, "-A")
	}
	out = kubectl(t, "api-resources")
	for _, want := range []string{"nodes", "pods", "leases", "events", "namespaces"} {
		if !strings.Contains(out, want) {
			t.Errorf("api-resources lacks %s:\n%s", want, out)
		}
	}
}

func TestKubectlWatch(t *testing.T) {
	c := newClient(t, false)
	if _, err := c.CoreV1().Nodes().Create(ctxT(t), testNode("kubectl-watch"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := kubectlCmd(t, ctx, "get", "node", "kubectl-watch", "--watch", "--output-watch-events", "--no-headers")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		scan := bufio.NewScanner(stdout)
		for scan.Scan() {
			lines <- scan.Text()
		}
	}()
	if first := <-lines; !strings.HasPrefix(first, "ADDED") {
		t.Fatalf("first watch line: %q", first)
	}
	// kubectl opens its watch after printing the list; cordon and uncordon
	// by turns until the watch reports a cordon, so the test does not
	// depend on that moment.
	patch := time.NewTicker(200 * time.Millisecond)
	defer patch.Stop()
	cordon := true
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("kubectl watch ended before reporting the cordon")
			}
			if strings.HasPrefix(line, "MODIFIED") && strings.Contains(line, "SchedulingDisabled") {
				return
			}
		case <-patch.C:
			body := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, cordon)
			cordon = !cordon
			if _, err := c.CoreV1().Nodes().Patch(ctx, "kubectl-watch", "application/merge-patch+json", []byte(body), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("kubectl watch did not report the cordon in time")
		}
	}
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodesim/nodesim/internal/testtool"
)

// deployScenario exercises every kind of API call a shard makes, so that
// the deploy/ RBAC is shown sufficient: registration, heartbeats and
// events, a cordon, a node added and the last one deleted.
const deployScenario = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: rbac}
spec:
  duration: 1h
  nodePools:
  - {name: p, count: 20}
  timeline:
  - {at: 3s, do: cordon, nodes: {names: [p-00]}}
  - {at: 4s, do: addNodes, pool: p, count: 1}
  - {at: 8s, do: deleteNodes, pool: p, count: 2}
`

// TestDeployManifests: `kubectl apply -k deploy/ --dry-run=server`
// against `nodesim serve` (kube-apiserver with its whole API and
// admission) accepts every object; and a shard acting as deploy/'s
// ServiceAccount, with only the ClusterRole deploy/rbac.yaml grants, runs
// its nodes: registered and Ready, cordoned, added and deleted as its
// timeline says, its shard Lease held.
func TestDeployManifests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodesim processes")
	}
	kubectlPath := testtool.Need(t, testtool.Kubectl)
	tmp := t.TempDir()
	kc := filepath.Join(tmp, "kubeconfig")
	cluster := startNodesim(t, tmp, "serve", "--nodes", "0", "--write-kubeconfig", kc)
	cluster.waitOutput(t, 30*time.Second, "nodesim: serving 0 virtual nodes")
	kubectl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", kc}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// A server-side dry run does not create the namespace the other
	// objects go in: it has to exist for them to be judged.
	kubectl("create", "namespace", "nodesim")
	out := kubectl("apply", "-k", "../../deploy", "--dry-run=server")
	for _, want := range []string{"serviceaccount/nodesim", "clusterrole.rbac.authorization.k8s.io/nodesim-shard",
		"clusterrolebinding.rbac.authorization.k8s.io/nodesim-shard", "service/nodesim", "statefulset.apps/nodesim", "configmap/nodesim-scenario-"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl apply -k deploy/ --dry-run=server did not apply %s:\n%s", want, out)
		}
	}

	// The ServiceAccount and its ClusterRole for real, and a kubeconfig
	// with the ServiceAccount's token alone.
	kubectl("apply", "-n", "nodesim", "-f", "../../deploy/rbac.yaml")
	token := strings.TrimSpace(kubectl("create", "token", "nodesim", "-n", "nodesim", "--duration", "1h"))
	cfg, err := clientcmd.LoadFromFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range cfg.AuthInfos {
		user.ClientCertificate, user.ClientKey, user.ClientCertificateData, user.ClientKeyData = "", "", nil, nil
		user.Token = token
	}
	saKubeconfig := filepath.Join(tmp, "sa.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, saKubeconfig); err != nil {
		t.Fatal(err)
	}
	shardLog := filepath.Join(tmp, "shard.log")
	shardProc := startNodesim(t, tmp, "serve", writeScenario(t, deployScenario), "--kubeconfig", saKubeconfig, "--shard", "0/1",
		"--shard-lease-duration", "8s", "--log-file", shardLog)
	client := clientFor(t, kc)
	ctx := context.Background()
	waitFor(t, 40*time.Second, func() bool {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) != 19 { // 20, one added, two deleted
			return false
		}
		for _, n := range nodes.Items {
			if !nodeReady(&n) || n.Spec.Unschedulable != (n.Name == "p-00") || n.Name == "p-19" || n.Name == "p-20" {
				return false
			}
		}
		return true
	})
	lease, err := client.CoordinationV1().Leases("kube-node-lease").Get(ctx, "nodesim-shard-0-of-1", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		t.Fatalf("shard Lease: %v, %v", lease, err)
	}
	shardProc.stop(t)
	cluster.stop(t)
	// Nothing the shard did was refused: the ClusterRole grants all it
	// needs (a reflector refused a list or watch logs it and retries).
	logged, err := os.ReadFile(shardLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(logged), "\n") {
		if strings.Contains(line, "forbidden") {
			t.Errorf("the shard was refused something deploy/rbac.yaml should grant: %s", line)
		}
	}
}

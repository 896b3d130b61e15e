package run

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodesim/nodesim/node"
)

// TestFullAPIWithKubectl: `nodesim serve` serves kube-apiserver's whole
// built-in API with its authorization, and the cluster behaves as users
// expect of one, through the real kubectl: Deployments become Running pods
// on the virtual nodes, manifests and CRDs apply, nodes cannot touch each
// other, and a deleted namespace takes its content with it.
func TestFullAPIWithKubectl(t *testing.T) {
	f := serveFleet(t, `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: full-api}
spec:
  duration: 1h
  nodePools:
  - {name: n, count: 3}
`, 20)
	waitFor(t, 60*time.Second, "3 nodes Ready", func() (bool, string) {
		out, err := f.kubectl(t, "get", "nodes", "--no-headers")
		return err == nil && strings.Count(out, " Ready ") == 3, out
	})

	t.Run("node addresses", func(t *testing.T) {
		// InternalIP on the node network, which the API server reaches
		// (nodes/proxy); the kubelet API itself at the annotated loopback
		// address, which a person reaches.
		n, err := f.client.CoreV1().Nodes().Get(t.Context(), "n-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var internal string
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				internal = a.Address
			}
		}
		listen := n.Annotations[node.AnnotationListenAddress]
		if !strings.HasPrefix(internal, "172.16.") || !strings.HasPrefix(listen, "127.") {
			t.Fatalf("InternalIP %q, listen address %q", internal, listen)
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(listen, fmt.Sprint(n.Status.DaemonEndpoints.KubeletEndpoint.Port)), 5*time.Second)
		if err != nil {
			t.Fatalf("kubelet API at the annotated address: %v", err)
		}
		conn.Close()
		if out := f.mustKubectl(t, "get", "--raw", "/api/v1/nodes/n-0/proxy/healthz"); out != "ok" {
			t.Errorf("nodes/proxy healthz: %q", out)
		}
	})

	t.Run("api-resources", func(t *testing.T) {
		out := f.mustKubectl(t, "api-resources", "-o", "name")
		for _, want := range []string{
			"pods", "services", "configmaps", "serviceaccounts", "persistentvolumeclaims", "replicationcontrollers",
			"deployments.apps", "daemonsets.apps", "statefulsets.apps", "replicasets.apps", "jobs.batch", "cronjobs.batch",
			"leases.coordination.k8s.io", "events.events.k8s.io", "poddisruptionbudgets.policy",
			"customresourcedefinitions.apiextensions.k8s.io", "apiservices.apiregistration.k8s.io",
			"clusterroles.rbac.authorization.k8s.io", "subjectaccessreviews.authorization.k8s.io",
			"selfsubjectreviews.authentication.k8s.io", "storageclasses.storage.k8s.io", "csinodes.storage.k8s.io",
			"resourceslices.resource.k8s.io", "deviceclasses.resource.k8s.io", "priorityclasses.scheduling.k8s.io",
			"validatingadmissionpolicies.admissionregistration.k8s.io", "flowschemas.flowcontrol.apiserver.k8s.io",
		} {
			if !strings.Contains("\n"+out, "\n"+want+"\n") {
				t.Errorf("kubectl api-resources lacks %s", want)
			}
		}
		if out := f.mustKubectl(t, "cluster-info"); !strings.Contains(out, "Kubernetes control plane is running at https://") {
			t.Errorf("cluster-info: %s", out)
		}
		if out := f.mustKubectl(t, "auth", "whoami"); !strings.Contains(out, "nodesim-admin") {
			t.Errorf("auth whoami: %s", out)
		}
	})

	t.Run("create deployment", func(t *testing.T) {
		f.mustKubectl(t, "create", "deployment", "web", "--image=nginx", "--replicas=3")
		waitFor(t, 60*time.Second, "3 Running pods of deployment web", func() (bool, string) {
			out, err := f.kubectl(t, "get", "pods", "-l", "app=web", "--no-headers")
			return err == nil && strings.Count(out, " Running ") == 3, out
		})
		pods, err := f.client.CoreV1().Pods("default").List(t.Context(), metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			// The ServiceAccount admission plugin's work.
			if p.Spec.ServiceAccountName != "default" || !hasProjectedTokenVolume(p) {
				t.Errorf("pod %s: serviceAccountName %q, volumes %v", p.Name, p.Spec.ServiceAccountName, p.Spec.Volumes)
			}
		}
	})

	t.Run("apply", func(t *testing.T) {
		manifest := filepath.Join(t.TempDir(), "app.yaml")
		if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {greeting: hello}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: app
        image: nginx
        envFrom: [{configMapRef: {name: app-config}}]
---
apiVersion: v1
kind: Service
metadata: {name: app}
spec:
  selector: {app: app}
  ports: [{port: 80}]
`), 0o600); err != nil {
			t.Fatal(err)
		}
		out := f.mustKubectl(t, "apply", "-f", manifest)
		for _, want := range []string{"configmap/app-config created", "deployment.apps/app created", "service/app created"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl apply: %s, want %q", out, want)
			}
		}
		if out := f.mustKubectl(t, "get", "svc", "app", "-o", "jsonpath={.spec.clusterIP}"); !strings.HasPrefix(out, "10.") {
			t.Errorf("service cluster IP %q", out)
		}
		waitFor(t, 60*time.Second, "2 Running pods of deployment app", func() (bool, string) {
			out, err := f.kubectl(t, "get", "pods", "-l", "app=app", "--no-headers")
			return err == nil && strings.Count(out, " Running ") == 2, out
		})
		if _, err := f.kubectl(t, "apply", "-f", manifest, "--dry-run=server"); err != nil {
			t.Errorf("server-side dry run: %v", err)
		}
	})

	t.Run("custom resource", func(t *testing.T) {
		crd := filepath.Join(t.TempDir(), "crd.yaml")
		if err := os.WriteFile(crd, []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties: {size: {type: integer}}
`), 0o600); err != nil {
			t.Fatal(err)
		}
		f.mustKubectl(t, "apply", "-f", crd)
		f.mustKubectl(t, "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
		cr := filepath.Join(t.TempDir(), "cr.yaml")
		if err := os.WriteFile(cr, []byte("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f.mustKubectl(t, "apply", "-f", cr)
		if out := f.mustKubectl(t, "get", "widget", "w1", "-o", "jsonpath={.spec.size}"); out != "3" {
			t.Errorf("widget size %q", out)
		}
		// The CRD's schema is enforced.
		if err := os.WriteFile(cr, []byte("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: big}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := f.kubectl(t, "apply", "-f", cr); err == nil || !strings.Contains(err.Error(), "spec.size") {
			t.Errorf("an invalid widget: %v", err)
		}
	})

	t.Run("authorization", func(t *testing.T) {
		_, err := f.kubectl(t, "--as=system:node:n-0", "--as-group=system:nodes", "label", "node", "n-1", "x=y")
		if err == nil || !strings.Contains(err.Error(), "Forbidden") && !strings.Contains(err.Error(), "forbidden") {
			t.Errorf("node n-0 labels node n-1: %v", err)
		}
		_, err = f.kubectl(t, "--as=system:node:n-0", "--as-group=system:nodes", "delete", "lease", "-n", "kube-node-lease", "n-1")
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "forbidden") {
			t.Errorf("node n-0 deletes n-1's lease: %v", err)
		}
		out, _ := f.kubectl(t, "--as=alice", "auth", "can-i", "create", "pods")
		if strings.TrimSpace(out) != "no" {
			t.Errorf("alice can-i create pods: %q", out)
		}
		if out := f.mustKubectl(t, "--as=system:node:n-0", "--as-group=system:nodes", "auth", "can-i", "get", "nodes/n-0"); strings.TrimSpace(out) != "yes" {
			t.Errorf("node n-0 can-i get its own node: %q", out)
		}
		// Each kubelet writes as its node: its Lease's renewals and its
		// status pass the Node authorizer and NodeRestriction.
		lease, err := f.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(t.Context(), "n-1", metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "n-1" {
			t.Errorf("lease of n-1: %v %+v", err, lease)
		}
	})

	t.Run("namespace deletion", func(t *testing.T) {
		f.mustKubectl(t, "create", "namespace", "doomed")
		waitFor(t, 30*time.Second, "the default service account of doomed", func() (bool, string) {
			_, err := f.client.CoreV1().ServiceAccounts("doomed").Get(t.Context(), "default", metav1.GetOptions{})
			return err == nil, "none yet"
		})
		f.mustKubectl(t, "-n", "doomed", "create", "deployment", "d", "--image=nginx", "--replicas=2")
		waitFor(t, 60*time.Second, "2 Running pods in doomed", func() (bool, string) {
			out, err := f.kubectl(t, "-n", "doomed", "get", "pods", "--no-headers")
			return err == nil && strings.Count(out, " Running ") == 2, out
		})
		f.mustKubectl(t, "delete", "namespace", "doomed", "--wait=false")
		ns, err := f.client.CoreV1().Namespaces().Get(t.Context(), "doomed", metav1.GetOptions{})
		if err == nil && ns.Status.Phase != corev1.NamespaceTerminating {
			t.Errorf("deleted namespace is %s, want Terminating", ns.Status.Phase)
		}
		waitFor(t, 60*time.Second, "namespace doomed gone with its pods", func() (bool, string) {
			_, err := f.client.CoreV1().Namespaces().Get(t.Context(), "doomed", metav1.GetOptions{})
			pods, listErr := f.client.CoreV1().Pods("doomed").List(t.Context(), metav1.ListOptions{LabelSelector: labels.Everything().String()})
			return apierrors.IsNotFound(err) && listErr == nil && len(pods.Items) == 0, fmt.Sprint(err)
		})
	})
}

// hasProjectedTokenVolume says whether the pod has the kube-api-access-*
// projected volume the ServiceAccount admission plugin adds.
func hasProjectedTokenVolume(p corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") && v.Projected != nil {
			return true
		}
	}
	return false
}

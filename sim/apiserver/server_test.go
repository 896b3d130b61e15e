package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func testNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("8"),
				corev1.ResourceMemory: resource.MustParse("32Gi"),
				corev1.ResourcePods:   resource.MustParse("110"),
			},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
		},
	}
}

func testPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSystemNamespacesExist(t *testing.T) {
	c := newClient(t, false)
	for _, ns := range SystemNamespaces {
		got, err := c.CoreV1().Namespaces().Get(ctxT(t), ns, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("namespace %s: %v", ns, err)
		}
		if got.Status.Phase != corev1.NamespaceActive || got.Labels[corev1.LabelMetadataName] != ns {
			t.Errorf("namespace %s: phase %q labels %v", ns, got.Status.Phase, got.Labels)
		}
	}
}

// TestAnonymousAndBadCredentials: kube-apiserver's defaults, as kubeadm
// keeps them: a request without credentials is system:anonymous, whom RBAC
// lets read only the health and version endpoints; a bad token is 401.
func TestAnonymousAndBadCredentials(t *testing.T) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(testServer.CACert())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	status := func(path, token string) int {
		req, _ := http.NewRequest("GET", testServer.URL()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/nodes", "", http.StatusForbidden},
		{"/readyz", "", http.StatusOK},
		{"/version", "", http.StatusOK},
		{"/api/v1/nodes", "not-a-token", http.StatusUnauthorized},
	} {
		if got := status(c.path, c.token); got != c.want {
			t.Errorf("GET %s (token %q): %d, want %d", c.path, c.token, got, c.want)
		}
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	if !strings.HasPrefix(testServer.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s is not loopback https", testServer.URL())
	}
}

func TestNodeCreateGetsNotReadyTaint(t *testing.T) {
	c := newClient(t, true)
	n, err := c.CoreV1().Nodes().Create(ctxT(t), testNode("taint-on-create"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != want.Key || n.Spec.Taints[0].Effect != want.Effect {
		t.Fatalf("taints %v, want [%v]", n.Spec.Taints, want)
	}
	if n.Status.Capacity.Cpu().String() != "8" {
		t.Errorf("status not kept on create: %v", n.Status.Capacity)
	}
}

func TestPodGetsDefaultTolerationsAndDefaults(t *testing.T) {
	c := newClient(t, false)
	p, err := c.CoreV1().Pods("default").Create(ctxT(t), testPod("default", "tolerations"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, tol := range p.Spec.Tolerations {
		if tol.Effect == corev1.TaintEffectNoExecute && tol.Operator == corev1.TolerationOpExists && tol.TolerationSeconds != nil {
			got[tol.Key] = *tol.TolerationSeconds
		}
	}
	if got[corev1.TaintNodeNotReady] != 300 || got[corev1.TaintNodeUnreachable] != 300 || len(p.Spec.Tolerations) != 2 {
		t.Fatalf("tolerations %+v", p.Spec.Tolerations)
	}
	if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status %q qos %q", p.Status.Phase, p.Status.QOSClass)
	}
	if p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.SchedulerName != "default-scheduler" ||
		p.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("defaults not applied: %+v", p.Spec)
	}

	own := testPod("default", "own-toleration")
	own.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](5)}}
	p, err = c.CoreV1().Pods("default").Create(ctxT(t), own, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spec.Tolerations) != 2 || *p.Spec.Tolerations[0].TolerationSeconds != 5 || p.Spec.Tolerations[1].Key != corev1.TaintNodeNotReady {
		t.Fatalf("own toleration not kept: %+v", p.Spec.Tolerations)
	}
}

func TestCreateInMissingNamespaceIsNotFound(t *testing.T) {
	c := newClient(t, false)
	_, err := c.CoreV1().Pods("no-such-ns").Create(ctxT(t), testPod("no-such-ns", "p"), metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("err %v, want NotFound", err)
	}
	err = c.CoreV1().Namespaces().Delete(ctxT(t), "kube-system", metav1.DeleteOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("deleting kube-system: %v, want Forbidden", err)
	}
}

func TestValidationErrorsAre422WithField(t *testing.T) {
	c := newClient(t, false)
	cases := map[string]struct {
		create func() error
		field  string
	}{
		"pod without containers": {func() error {
			p := testPod("default", "no-containers")
			p.Spec.Containers = nil
			_, err := c.CoreV1().Pods("default").Create(ctxT(t), p, metav1.CreateOptions{})
			return err
		}, "spec.containers"},
		"duplicate container names": {func() error {
			p := testPod("default", "dup")
			p.Spec.Containers = append(p.Spec.Containers, p.Spec.Containers[0])
			_, err := c.CoreV1().Pods("default").Create(ctxT(t), p, metav1.CreateOptions{})
			return err
		}, "spec.containers[1].name"},
		"bad taint effect": {func() error {
			n := testNode("bad-taint")
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: "Sometimes"}}
			_, err := c.CoreV1().Nodes().Create(ctxT(t), n, metav1.CreateOptions{})
			return err
		}, "metadata.taints[0].effect"}, // upstream's path, kept as clients see it
		"negative lease duration": {func() error {
			l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: corev1.NamespaceNodeLease},
				Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](-1)}}
			_, err := c.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctxT(t), l, metav1.CreateOptions{})
			return err
		}, "spec.leaseDurationSeconds"},
		"bad name": {func() error {
			_, err := c.CoreV1().Nodes().Create(ctxT(t), testNode("Not_A_Name"), metav1.CreateOptions{})
			return err
		}, "metadata.name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.create()
			if !apierrors.IsInvalid(err) {
				t.Fatalf("err %v, want 422 Invalid", err)
			}
			status := err.(apierrors.APIStatus).Status()
			if status.Code != http.StatusUnprocessableEntity {
				t.Fatalf("code %d", status.Code)
			}
			found := false
			for _, cause := range status.Details.Causes {
				if cause.Field == tc.field {
					found = true
				}
			}
			if !found {
				t.Fatalf("no cause on field %s: %+v", tc.field, status.Details.Causes)
			}
		})
	}
}

func TestNodeNameImmutableOnceBound(t *testing.T) {
	c := newClient(t, false)
	ctx := ctxT(t)
	p := testPod("default", "bound")
	p.Spec.NodeName = "node-a"
	p, err := c.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.NodeName = "node-b"
	if _, err := c.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("moving a bound pod: %v, want Invalid", err)
	}
}

func TestBindingAndEviction(t *testing.T) {
	c := newClient(t, false)
	ctx := ctxT(t)
	if _, err := c.CoreV1().Pods("default").Create(ctx, testPod("default", "to-bind"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bind := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "to-bind"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-x"}}
	if err := c.CoreV1().Pods("default").Bind(ctx, bind, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := c.CoreV1().Pods("default").Get(ctx, "to-bind", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "node-x" || len(p.Status.Conditions) != 1 || p.Status.Conditions[0].Type != corev1.PodScheduled {
		t.Fatalf("after binding: node %q conditions %+v", p.Spec.NodeName, p.Status.Conditions)
	}
	bind.Target.Name = "node-y"
	if err := c.CoreV1().Pods("default").Bind(ctx, bind, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("second binding: %v, want Conflict", err)
	}

	// A bound pod is deleted gracefully: it stays, marked, until its
	// kubelet finishes the delete with grace period 0. The delete path starts
	// from the watch cache's copy, so wait until the cache has the binding,
	// as any client that saw the binding through a watch would have.
	if _, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=to-bind", ResourceVersion: p.ResourceVersion,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
	}); err != nil {
		t.Fatal(err)
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "to-bind", Namespace: "default"}}
	if err := c.PolicyV1().Evictions("default").Evict(ctx, ev); err != nil {
		t.Fatalf("evict: %v", err)
	}
	p, err = c.CoreV1().Pods("default").Get(ctx, "to-bind", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("evicted pod not terminating with 30s grace: %v %v", p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	if err := c.CoreV1().Pods("default").Delete(ctx, "to-bind", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Pods("default").Get(ctx, "to-bind", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after final delete: %v", err)
	}
}

func TestFieldSelectors(t *testing.T) {
	c := newClient(t, true)
	ctx := ctxT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "field-selectors"}}
	if _, err := c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitServiceAccount(t, ns.Name)
	for i, node := range []string{"fs-1", "fs-1", "fs-2", ""} {
		p := testPod(ns.Name, "p"+string(rune('a'+i)))
		p.Spec.NodeName = node
		if _, err := c.CoreV1().Pods(ns.Name).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sel string) int {
		l, err := c.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return len(l.Items)
	}
	for sel, want := range map[string]int{
		"spec.nodeName=fs-1":                      2,
		"spec.nodeName=fs-2":                      1,
		"spec.nodeName=":                          1,
		"metadata.name=pa":                        1,
		"status.phase=Pending":                    4,
		"status.phase!=Pending":                   0,
		"spec.nodeName=fs-1,status.phase=Running": 0,
	} {
		if got := count(sel); got != want {
			t.Errorf("%s: %d pods, want %d", sel, got, want)
		}
	}
	_, err := c.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{FieldSelector: "spec.nope=x"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("unknown field label: %v, want BadRequest", err)
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "no-such-node").String()})
	if err != nil || len(nodes.Items) != 0 {
		t.Errorf("nodes by name: %v %v", nodes, err)
	}
}

func TestPatchesAndStatusSubresource(t *testing.T) {
	c := newClient(t, true)
	ctx := ctxT(t)
	if _, err := c.CoreV1().Nodes().Create(ctx, testNode("patch-me"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Strategic merge: cordon.
	n, err := c.CoreV1().Nodes().Patch(ctx, "patch-me", types.StrategicMergePatchType, []byte(`{"spec":{"unschedulable":true}}`), metav1.PatchOptions{})
	if err != nil || !n.Spec.Unschedulable {
		t.Fatalf("strategic merge: %v %v", err, n.Spec.Unschedulable)
	}
	// Merge patch: a label.
	n, err = c.CoreV1().Nodes().Patch(ctx, "patch-me", types.MergePatchType, []byte(`{"metadata":{"labels":{"zone":"a"}}}`), metav1.PatchOptions{})
	if err != nil || n.Labels["zone"] != "a" || n.Labels["kubernetes.io/hostname"] != "patch-me" {
		t.Fatalf("merge patch: %v %v", err, n.Labels)
	}
	// JSON patch: a taint.
	n, err = c.CoreV1().Nodes().Patch(ctx, "patch-me", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/taints/-","value":{"key":"k","value":"v","effect":"NoSchedule"}}]`), metav1.PatchOptions{})
	if err != nil || len(n.Spec.Taints) != 2 {
		t.Fatalf("json patch: %v %v", err, n.Spec.Taints)
	}
	// The main resource ignores status; nodes/status ignores spec.
	n, err = c.CoreV1().Nodes().Patch(ctx, "patch-me", types.StrategicMergePatchType, []byte(`{"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady"}]}}`), metav1.PatchOptions{})
	if err != nil || n.Status.Conditions[0].Status != corev1.ConditionTrue {
		t.Fatalf("status through main resource changed: %v %+v", err, n.Status.Conditions)
	}
	n, err = c.CoreV1().Nodes().Patch(ctx, "patch-me", types.StrategicMergePatchType,
		[]byte(`{"spec":{"unschedulable":false},"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady"}]}}`), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	if n.Status.Conditions[0].Status != corev1.ConditionFalse || !n.Spec.Unschedulable {
		t.Fatalf("status patch: ready %s unschedulable %v", n.Status.Conditions[0].Status, n.Spec.Unschedulable)
	}
	// Server-side apply.
	applied, err := c.CoreV1().Nodes().Patch(ctx, "patch-me", types.ApplyPatchType,
		[]byte(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"patch-me","labels":{"applied":"yes"}}}`),
		metav1.PatchOptions{FieldManager: "test", Force: ptr.To(true)})
	if err != nil || applied.Labels["applied"] != "yes" || applied.Labels["zone"] != "a" {
		t.Fatalf("apply: %v %v", err, applied)
	}
}

func TestLeaseUpdateNeedsResourceVersion(t *testing.T) {
	c := newClient(t, true)
	ctx := ctxT(t)
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "lease-rv", Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("lease-rv"), LeaseDurationSeconds: ptr.To[int32](40)},
	}
	created, err := c.CoordinationV1().Leases(l.Namespace).Create(ctx, l, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale := created.DeepCopy()
	created.Spec.RenewTime = &metav1.MicroTime{Time: time.Unix(1700000000, 0)}
	if _, err := c.CoordinationV1().Leases(l.Namespace).Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Spec.RenewTime = &metav1.MicroTime{Time: time.Unix(1700000001, 0)}
	if _, err := c.CoordinationV1().Leases(l.Namespace).Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v, want Conflict", err)
	}
	stale.ResourceVersion = ""
	if _, err := c.CoordinationV1().Leases(l.Namespace).Update(ctx, stale, metav1.UpdateOptions{}); err == nil {
		t.Fatalf("unconditional lease update allowed")
	}
}

func TestInformerSeesAddUpdateDelete(t *testing.T) {
	eachTransport(t, testInformerSeesAddUpdateDelete)
}

func testInformerSeesAddUpdateDelete(t *testing.T, c kubernetes.Interface, suffix string) {
	ctx := ctxT(t)
	name := "informed" + suffix
	factory := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = "informer-test=yes"
	}))
	var mu sync.Mutex
	var seen []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, s)
	}
	_, err := factory.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { record("add " + obj.(*corev1.Node).Name) },
		UpdateFunc: func(_, obj any) { record("update " + obj.(*corev1.Node).Name) },
		DeleteFunc: func(obj any) {
			if n, ok := obj.(*corev1.Node); ok {
				record("delete " + n.Name)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())

	n := testNode(name)
	n.Labels["informer-test"] = "yes"
	if _, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "add " + name + ",update " + name + ",delete " + name
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(seen, ",")
		mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("informer saw %q, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatchResumesFromResourceVersion(t *testing.T) {
	eachTransport(t, testWatchResumesFromResourceVersion)
}

func testWatchResumesFromResourceVersion(t *testing.T, c kubernetes.Interface, suffix string) {
	ctx := ctxT(t)
	ns := corev1.NamespaceNodeLease
	mk := func(name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"watch-test": "yes" + suffix}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name)}}
	}
	first, err := c.CoordinationV1().Leases(ns).Create(ctx, mk("w-1"+suffix), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"w-2" + suffix, "w-3" + suffix} {
		if _, err := c.CoordinationV1().Leases(ns).Create(ctx, mk(name), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.CoordinationV1().Leases(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "watch-test=yes" + suffix, ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var got []string
	for len(got) < 2 {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Added {
				t.Fatalf("event %s %v", ev.Type, ev.Object)
			}
			got = append(got, ev.Object.(*coordinationv1.Lease).Name)
		case <-ctx.Done():
			t.Fatalf("watch from rv %s saw only %v", first.ResourceVersion, got)
		}
	}
	if want := "w-2" + suffix + ",w-3" + suffix; strings.Join(got, ",") != want {
		t.Fatalf("resumed watch saw %v, want %s (not w-1)", got, want)
	}
}

func TestTablesForKubectl(t *testing.T) {
	c := newClient(t, false)
	ctx := ctxT(t)
	n := testNode("table-node")
	n.Spec.Unschedulable = true
	n.Status.NodeInfo = corev1.NodeSystemInfo{KernelVersion: "6.8.0-test", ContainerRuntimeVersion: "containerd://2.1.4", KubeletVersion: "v1.37.2"}
	if _, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType,
		mustJSON(t, map[string]any{"status": map[string]any{"nodeInfo": n.Status.NodeInfo}}), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	body, err := c.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/table-node").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	cells := map[string]any{}
	for i, col := range table.ColumnDefinitions {
		cells[col.Name] = table.Rows[0].Cells[i]
	}
	if cells["Status"] != "Ready,SchedulingDisabled" || cells["Kernel-Version"] != "6.8.0-test" || cells["Container-Runtime"] != "containerd://2.1.4" {
		t.Fatalf("table cells %v", cells)
	}
}

func TestStopRemovesTemporaryDirectory(t *testing.T) {
	s, err := Start(ctxT(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := s.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(kc); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig %v %v", fi, err)
	}
	// A watch still open over the network (kubectl get -w, a user's
	// informer) does not hold the stop for the 60 s request timeout.
	w, err := clientFor(t, s.RESTConfig(), false).CoreV1().Namespaces().Watch(ctxT(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Stop took %s with a watch open, want a few seconds", took.Round(time.Second))
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Stop: %v", dir, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// Nothing keeps a stopped server: a process that starts many (the
	// tests) held 61 MiB of each through client-go's transport cache.
	stopped := weak.Make(s)
	s = nil
	for i := 0; stopped.Value() != nil; i++ {
		if i == 40 {
			t.Fatal("the stopped server is still reachable 10 s after Stop")
		}
		runtime.GC()
		time.Sleep(250 * time.Millisecond)
	}
}

func TestStartErrorsSayWhich(t *testing.T) {
	// A port already taken.
	_, port, _ := strings.Cut(strings.TrimPrefix(testServer.URL(), "https://"), ":")
	_, err := Start(ctxT(t), Config{Port: atoi(t, port)})
	var se *StartError
	if err == nil || !asStartError(err, &se) || se.What != "port" {
		t.Fatalf("taken port: %v", err)
	}
	// A directory that cannot be made.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Start(ctxT(t), Config{Dir: filepath.Join(file, "sub")})
	if err == nil || !asStartError(err, &se) || se.What != "directory" {
		t.Fatalf("bad directory: %v", err)
	}
	_, err = Start(ctxT(t), Config{BindAddress: "not-an-ip"})
	if err == nil || !asStartError(err, &se) || se.What != "bind address" {
		t.Fatalf("bad bind address: %v", err)
	}
}

// An in-process watch streams events as they happen and its handler ends
// when the client closes the body. It starts at the latest revision,
// which a write to another resource has just moved past the lease watch
// cache's: the cache must learn of it from etcd's progress notifications
// (else: 504 "Too large resource version" after 3 s).
func TestInProcessWatchEndsWhenClosed(t *testing.T) {
	ctx := ctxT(t)
	ended := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		testServer.handler.ServeHTTP(w, r)
		if isWatch(r) {
			close(ended)
		}
	})
	cfg := testServer.InProcessConfig()
	cfg.Transport = handlerTransport{handler: handler}
	c := clientFor(t, cfg, true)
	ns := corev1.NamespaceNodeLease
	if _, err := c.CoreV1().Nodes().Create(ctx, testNode("moves-the-revision"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.CoreV1().Nodes().Delete(context.Background(), "moves-the-revision", metav1.DeleteOptions{})
		c.CoordinationV1().Leases(ns).Delete(context.Background(), "streamed", metav1.DeleteOptions{})
	})
	w, err := c.CoordinationV1().Leases(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=streamed"})
	if err != nil {
		t.Fatal(err)
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "streamed", Namespace: ns}}
	if _, err := c.CoordinationV1().Leases(ns).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Added || ev.Object.(*coordinationv1.Lease).Name != "streamed" {
			t.Fatalf("event %s %v", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no event on the in-process watch")
	}
	w.Stop()
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the watch's handler went on after the client closed it")
	}
}

// TestStartInterrupted: a start interrupted at any moment returns (an
// error, or the server if it was quick), and Stop ends it without
// kube-apiserver's post-start hooks killing the process and leaves no
// temporary directory.
func TestStartInterrupted(t *testing.T) {
	for _, after := range []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 800 * time.Millisecond} {
		t.Setenv("TMPDIR", t.TempDir())
		ctx, cancel := context.WithTimeout(context.Background(), after)
		s, err := Start(ctx, Config{})
		cancel()
		if err == nil {
			if stopErr := s.Stop(); stopErr != nil {
				t.Errorf("after %s: stop: %v", after, stopErr)
			}
		}
		entries, _ := os.ReadDir(os.Getenv("TMPDIR"))
		if len(entries) != 0 {
			t.Errorf("interrupted after %s (%v): left %d entries in the temporary directory", after, err, len(entries))
		}
	}
}

// TestEtcdListensOnNoTCPPort: etcd's only listener is a unix socket, mode
// 0600 in a 0700 directory; it has no peer listener. Nothing local but the
// API server's own process reaches the cluster state.
func TestEtcdListensOnNoTCPPort(t *testing.T) {
	if len(testServer.etcd.Peers) != 0 {
		t.Errorf("etcd has %d peer listeners", len(testServer.etcd.Peers))
	}
	if len(testServer.etcd.Clients) == 0 {
		t.Fatal("etcd has no client listener")
	}
	for _, l := range testServer.etcd.Clients {
		addr := l.Addr()
		if addr.Network() != "unix" {
			t.Errorf("etcd listens on %s %s", addr.Network(), addr)
			continue
		}
		info, err := os.Stat(addr.String())
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 || info.Mode()&os.ModeSocket == 0 {
			t.Errorf("etcd socket %s: mode %s", addr, info.Mode())
		}
		dir, err := os.Stat(filepath.Dir(addr.String()))
		if err != nil {
			t.Fatal(err)
		}
		if dir.Mode().Perm() != 0o700 {
			t.Errorf("etcd socket's directory: mode %s", dir.Mode())
		}
	}
}

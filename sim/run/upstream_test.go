package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-base/configz"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/kcm"
)

// TestUpstreamSchedulerAndControllerManager runs kube-scheduler's and
// kube-controller-manager's own code in process against a served fleet
// whose nodesim scheduler, node lifecycle and taint eviction models are
// off, as a user replaces them with the real components: pods get bound
// and run, a Deployment's ReplicaSet makes its pods, a DaemonSet puts one
// pod on every node, and a stopped kubelet's node goes Unknown, gets the
// unreachable taints and loses its pods.
func TestUpstreamSchedulerAndControllerManager(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server, err := apiserver.Start(ctx, apiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Stop() })
	// 10 virtual seconds per wall second: a kubelet renews its Lease
	// every wall second, and the real node lifecycle controller's grace
	// period of 5 s (wall) is 50 virtual seconds, its default.
	const pace = 10
	sc, err := scenarios.Parse("upstream.yaml", []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: upstream}
spec:
  duration: 1h
  nodePools:
  - {name: n, count: 3, labels: {topology.kubernetes.io/zone: z}}
  timeline:
  - {at: 3m, do: stopKubelet, nodes: {names: [n-2]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	// Of nodesim's controllers only the workloads model runs (the scenario
	// has none); a process holds one kube-controller-manager, the test's.
	sel, err := kcm.ParseControllers([]string{kcm.Workloads})
	if err != nil {
		t.Fatal(err)
	}
	stateDir, err := os.MkdirTemp("", "up")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	start := time.Now()
	w, err := newWorld(ctx, sc, server, sim.Config{Seed: 1, Trace: io.Discard, Pace: pace, Start: start, MaxWindow: 100 * time.Millisecond},
		worldOptions{controllers: &sel, stateDir: stateDir, endpoints: server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	runDone := make(chan error, 1)
	go func() { runDone <- w.engine.Run(w.ctx, start.Add(time.Hour)) }()
	t.Cleanup(func() {
		w.cancel()
		<-runDone
	})

	// kube-controller-manager with its default controllers, the node
	// monitor's periods at the pace.
	cmCfg, err := server.ControllerManagerConfig([]string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	cmCfg.Flags = []string{"--node-monitor-period=500ms", "--node-monitor-grace-period=5s", "--node-startup-grace-period=6s"}
	cm, err := kcm.Start(ctx, cmCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cm.Stop)
	startScheduler(t, ctx, server)

	admin, err := kubernetes.NewForConfig(server.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, timeout time.Duration, done func() (bool, string)) {
		t.Helper()
		last := ""
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
			ok, state := done()
			last = state
			return ok, nil
		})
		if err != nil {
			t.Fatalf("%s: not after %s: %s", what, timeout, last)
		}
	}
	podsOf := func(selector string) []corev1.Pod {
		l, err := admin.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	running := func(selector string, want int) func() (bool, string) {
		return func() (bool, string) {
			pods := podsOf(selector)
			n := 0
			state := ""
			for _, p := range pods {
				if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
					n++
				}
				state += fmt.Sprintf("%s on %q %s; ", p.Name, p.Spec.NodeName, p.Status.Phase)
			}
			return n == want, state
		}
	}
	waitFor("3 nodes Ready", 60*time.Second, func() (bool, string) {
		nodes, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == 3, fmt.Sprintf("%d Ready", ready)
	})

	waitFor("the default service account", 30*time.Second, func() (bool, string) {
		_, err := admin.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})

	// Pods without nodeName: bound by kube-scheduler, started by the
	// virtual kubelets. They leave an unreachable node at once.
	for i := range 3 {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bare-%d", i), Labels: map[string]string{"app": "bare"}},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
				Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
					Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64)}},
				TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelHostname,
					WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "bare"}}}},
			},
		}
		if _, err := admin.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("bare pods Running", 60*time.Second, running("app=bare", 3))

	// A Deployment: its ReplicaSet makes the pods, kube-scheduler binds
	// them.
	replicas := int32(3)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
		},
	}
	if _, err := admin.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("Deployment's pods Running", 60*time.Second, running("app=web", 3))

	// A DaemonSet: one pod on every node.
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "busybox"}}},
			},
		},
	}
	if _, err := admin.AppsV1().DaemonSets("default").Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("a DaemonSet pod on every node", 60*time.Second, func() (bool, string) {
		ok, state := running("app=agent", 3)()
		nodes := map[string]bool{}
		for _, p := range podsOf("app=agent") {
			nodes[p.Spec.NodeName] = true
		}
		return ok && len(nodes) == 3, state
	})

	// At 3m (virtual) n-2's kubelet stops: the real node lifecycle
	// controller marks it Unknown and taints it unreachable; the real
	// taint eviction controller deletes the bare pod there.
	waitFor("n-2 Unknown with the unreachable taints", 90*time.Second, func() (bool, string) {
		n, err := admin.CoreV1().Nodes().Get(ctx, "n-2", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		unknown, noExecute, noSchedule := false, false, false
		for _, c := range n.Status.Conditions {
			unknown = unknown || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionUnknown)
		}
		for _, taint := range n.Spec.Taints {
			if taint.Key == corev1.TaintNodeUnreachable {
				noExecute = noExecute || taint.Effect == corev1.TaintEffectNoExecute
				noSchedule = noSchedule || taint.Effect == corev1.TaintEffectNoSchedule
			}
		}
		return unknown && noExecute && noSchedule, fmt.Sprintf("conditions %v taints %v", n.Status.Conditions, n.Spec.Taints)
	})
	waitFor("the bare pod on n-2 evicted", 60*time.Second, func() (bool, string) {
		state := ""
		for _, p := range podsOf("app=bare") {
			if p.Spec.NodeName == "n-2" && p.DeletionTimestamp == nil {
				return false, p.Name + " still on n-2"
			}
			state += p.Name + " "
		}
		return true, state
	})
	if leases, err := w.informer.Coordination().V1().Leases().Lister().List(labels.Everything()); err != nil || len(leases) < 3 {
		t.Errorf("leases %d: %v", len(leases), err)
	}
}

// startScheduler runs kube-scheduler in process as kubeadm configures it
// (its kubeconfig as system:kube-scheduler), without leader election or a
// serving port.
func startScheduler(t *testing.T, ctx context.Context, server *apiserver.Server) {
	t.Helper()
	kubeconfig, err := server.KubeconfigFor(apiserver.SchedulerUser)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scheduler.conf")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := scheduleroptions.NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	for _, f := range opts.Flags.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse([]string{"--kubeconfig=" + path, "--leader-elect=false", "--secure-port=0"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cc, sched, err := schedulerapp.Setup(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := schedulerapp.Run(ctx, cc, sched); err != nil && ctx.Err() == nil {
			t.Errorf("kube-scheduler: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		configz.Delete("componentconfig")
	})
}

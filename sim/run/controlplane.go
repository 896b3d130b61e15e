package run

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/controlplane"
	"github.com/nodesim/nodesim/sim/kcm"
)

// controlPlane is kube-controller-manager's and kube-scheduler's part in a
// run: the node lifecycle and taint eviction controllers, the workloads and
// the scheduler.
type controlPlane struct {
	w         *world
	env       *controlplane.Env
	lifecycle *controlplane.NodeLifecycle
	eviction  *controlplane.TaintEviction
	workloads *controlplane.Workloads
	scheduler *controlplane.Scheduler
	// ipam is the node IPAM controller's client (node-controller, as in
	// kube-controller-manager).
	ipam kubernetes.Interface
}

// newControlPlane builds the models sel chooses; a model left out is left
// to whatever else runs against the API server (kube-controller-manager,
// kube-scheduler).
func newControlPlane(sc *scenarios.Scenario, w *world, sel kcm.Selection) (*controlPlane, error) {
	env := &controlplane.Env{
		Client:     w.client,
		Nodes:      w.informer.Core().V1().Nodes().Lister(),
		Leases:     w.informer.Coordination().V1().Leases().Lister(),
		Pods:       w.informer.Core().V1().Pods().Lister(),
		PodsOnNode: w.podsOnNode,
		Engine:     w.engine,
		Wrote:      w.observer.controllerWrote,
		Gone:       w.tracker.deleted,
	}
	// Each controller acts as kube-controller-manager's (its own service
	// account, --use-service-account-credentials) or kube-scheduler does,
	// with the rights the bootstrap RBAC roles give it.
	as := func(user string, groups ...string) (*controlplane.Env, error) {
		client, err := w.identity(user, groups...)
		if err != nil {
			return nil, err
		}
		e := *env
		e.Client = client
		return &e, nil
	}
	controllerGroups := []string{apiserver.ServiceAccountsGroup, apiserver.KubeSystemServiceAccounts}
	nodeController, err := as(apiserver.NodeControllerUser, controllerGroups...)
	if err != nil {
		return nil, err
	}
	replicaSetController, err := as(apiserver.ReplicaSetControllerUser, controllerGroups...)
	if err != nil {
		return nil, err
	}
	scheduler, err := as(apiserver.SchedulerUser)
	if err != nil {
		return nil, err
	}
	c := &controlPlane{w: w, env: env, ipam: nodeController.Client}
	if sel.Model(kcm.NodeLifecycle) {
		cp := sc.ControlPlane
		if c.lifecycle, err = controlplane.NewNodeLifecycle(controlplane.LifecycleConfig{
			NodeMonitorPeriod:         cp.NodeMonitorPeriod,
			NodeMonitorGracePeriod:    cp.NodeMonitorGracePeriod,
			NodeStartupGracePeriod:    cp.NodeStartupGracePeriod,
			NodeEvictionRate:          cp.NodeEvictionRate,
			SecondaryNodeEvictionRate: cp.SecondaryNodeEvictionRate,
			LargeClusterSizeThreshold: cp.LargeClusterSizeThreshold,
			UnhealthyZoneThreshold:    cp.UnhealthyZoneThreshold,
		}, nodeController); err != nil {
			return nil, err
		}
		// The lifecycle controller reacts to every node update with the
		// NoSchedule taints its conditions call for.
		w.observer.reconcile = func(n *corev1.Node) *corev1.Node {
			updated, err := controlplane.ReconcileNoSchedule(context.Background(), nodeController.Client, n)
			if err != nil {
				return nil
			}
			return updated
		}
	}
	if sel.Model(kcm.TaintEviction) {
		c.eviction = controlplane.NewTaintEviction(nodeController)
		// The taint eviction controller reacts to every taint change the
		// lifecycle controller makes.
		w.observer.nodeChanged = func(n *corev1.Node) { c.eviction.NodeChanged(w.engine.Now(), n) }
	}
	if sel.Model(kcm.Workloads) {
		var workloads []controlplane.Workload
		for _, wl := range sc.Workloads {
			workloads = append(workloads, controlplane.Workload{Name: wl.Name, Namespace: wl.Namespace, Replicas: wl.Replicas, Template: wl.Template})
		}
		c.workloads = controlplane.NewWorkloads(replicaSetController, workloads)
	}
	if sel.Model(kcm.Scheduler) {
		c.scheduler = controlplane.NewScheduler(scheduler)
	}
	return c, nil
}

func (c *controlPlane) start(now time.Time) {
	if c.lifecycle != nil {
		c.lifecycle.Start(now)
	}
}

// allocatePodCIDR is the node IPAM controller's range allocator
// (kube-controller-manager --allocate-node-cidrs): a node without a pod
// CIDR gets one, patched into spec.podCIDR and spec.podCIDRs as
// PatchNodeCIDRs does. The range is the one the node's runtime already
// gives pod IPs from. It returns the patched node, or nil.
func (c *controlPlane) allocatePodCIDR(n *corev1.Node) *corev1.Node {
	if len(n.Spec.PodCIDRs) > 0 || n.Spec.PodCIDR != "" {
		return nil
	}
	k, ok := c.w.observer.kubelets[n.Name]
	if !ok || k.PodCIDR() == nil {
		return nil
	}
	cidr := k.PodCIDR().String()
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"podCIDR": cidr, "podCIDRs": []string{cidr}}})
	if err != nil {
		return nil
	}
	updated, err := c.ipam.CoreV1().Nodes().Patch(context.Background(), n.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return nil // the next change of the node retries
	}
	c.env.Wrote("nodes", updated)
	return updated
}

// leaderElectionRenewDeadline is kube-controller-manager's
// --leader-elect-renew-deadline: unable to renew its leader lease for this
// long, it stops and restarts with nothing remembered.
const leaderElectionRenewDeadline = 10 * time.Second

// restart is a new controller-manager taking over: the controllers forget
// what they saw and look at every node afresh.
func (c *controlPlane) restart() {
	if c.lifecycle != nil {
		c.lifecycle.Reset()
	}
	if c.eviction != nil {
		c.eviction.Reset()
	}
	if nodes, err := c.env.Nodes.List(labels.Everything()); err == nil {
		c.w.mu.Lock()
		for _, n := range nodes {
			c.w.dirtyNodes[n.Name] = true
		}
		c.w.mu.Unlock()
	}
}

// react runs the controllers that follow watch events, on what changed
// since the last barrier, then keeps the workloads and schedules.
func (c *controlPlane) react(now time.Time, nodes []string, pods map[string]*podChange) {
	for _, name := range nodes {
		n, err := c.env.Nodes.Get(name)
		if err != nil {
			continue
		}
		if patched := c.allocatePodCIDR(n); patched != nil {
			n = patched
		}
		if c.eviction != nil {
			c.eviction.NodeChanged(now, n)
		}
	}
	if c.eviction != nil {
		c.podsChanged(now, pods)
	}
	if c.workloads != nil {
		c.workloads.Sync()
	}
	if c.scheduler == nil {
		return
	}
	if err := c.w.tracker.wait(c.w.ctx); err != nil {
		c.w.fail(err)
		return
	}
	c.scheduler.Schedule()
}

// podsChanged shows the taint eviction controller the pods that changed.
func (c *controlPlane) podsChanged(now time.Time, pods map[string]*podChange) {
	keys := make([]string, 0, len(pods))
	for k, ch := range pods {
		if !ch.deleted {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := pods[k].pod
		if current, err := c.env.Pods.Pods(p.Namespace).Get(p.Name); err == nil {
			c.eviction.PodChanged(now, current)
		}
	}
}

// startControllerManager runs kube-controller-manager's controllers that
// sel chooses in process against server, with the scenario's control plane
// settings as their flags.
func startControllerManager(ctx context.Context, server *apiserver.Server, sel kcm.Selection, settings scenarios.ControlPlane) (*kcm.ControllerManager, error) {
	cfg, err := server.ControllerManagerConfig(sel.KubeControllerManager())
	if err != nil {
		return nil, err
	}
	cfg.Flags = settings.ControllerManagerFlags()
	return kcm.Start(ctx, cfg)
}

// serviceAccountWait bounds how long a run waits for kube-controller-manager
// to make the default service accounts.
const serviceAccountWait = time.Minute

// waitServiceAccounts waits until the default service account exists in
// every namespace the workloads use: the ServiceAccount admission plugin
// refuses pods until kube-controller-manager's serviceaccount-controller
// has made it, and a run must not start before its pods can be created.
func waitServiceAccounts(ctx context.Context, client kubernetes.Interface, workloads []scenarios.Workload) error {
	namespaces := map[string]bool{metav1.NamespaceDefault: true}
	for _, wl := range workloads {
		namespaces[wl.Namespace] = true
	}
	ctx, cancel := context.WithTimeout(ctx, serviceAccountWait)
	defer cancel()
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
		if err != nil {
			return fmt.Errorf("service account %s/default not made by kube-controller-manager's serviceaccount-controller (is it in --controllers?): %w", ns, err)
		}
	}
	return nil
}

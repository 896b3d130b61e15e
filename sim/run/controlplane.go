package run

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/controlplane"
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
}

func newControlPlane(sc *scenarios.Scenario, w *world) (*controlPlane, error) {
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
	cp := sc.ControlPlane
	lifecycle, err := controlplane.NewNodeLifecycle(controlplane.LifecycleConfig{
		NodeMonitorPeriod:         cp.NodeMonitorPeriod,
		NodeMonitorGracePeriod:    cp.NodeMonitorGracePeriod,
		NodeStartupGracePeriod:    cp.NodeStartupGracePeriod,
		NodeEvictionRate:          cp.NodeEvictionRate,
		SecondaryNodeEvictionRate: cp.SecondaryNodeEvictionRate,
		LargeClusterSizeThreshold: cp.LargeClusterSizeThreshold,
		UnhealthyZoneThreshold:    cp.UnhealthyZoneThreshold,
	}, env)
	if err != nil {
		return nil, err
	}
	var workloads []controlplane.Workload
	for _, wl := range sc.Workloads {
		workloads = append(workloads, controlplane.Workload{Name: wl.Name, Namespace: wl.Namespace, Replicas: wl.Replicas, Template: wl.Template})
	}
	c := &controlPlane{
		w: w, env: env, lifecycle: lifecycle,
		eviction:  controlplane.NewTaintEviction(env),
		workloads: controlplane.NewWorkloads(env, workloads),
		scheduler: controlplane.NewScheduler(env),
	}
	// The lifecycle controller reacts to every node update with the
	// NoSchedule taints its conditions call for; the taint eviction
	// controller to every taint change it makes.
	w.observer.reconcile = func(n *corev1.Node) *corev1.Node {
		updated, err := controlplane.ReconcileNoSchedule(context.Background(), w.client, n)
		if err != nil {
			return nil
		}
		return updated
	}
	w.observer.nodeChanged = func(n *corev1.Node) { c.eviction.NodeChanged(w.engine.Now(), n) }
	return c, nil
}

func (c *controlPlane) start(now time.Time) { c.lifecycle.Start(now) }

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
	updated, err := c.w.client.CoreV1().Nodes().Patch(context.Background(), n.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
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
	c.lifecycle.Reset()
	c.eviction.Reset()
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
		c.eviction.NodeChanged(now, n)
	}
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
	c.workloads.Sync()
	if err := c.w.tracker.wait(); err != nil {
		c.w.fail(err)
		return
	}
	c.scheduler.Schedule()
}

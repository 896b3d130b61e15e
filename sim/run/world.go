package run

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	kcmnames "k8s.io/kubernetes/cmd/kube-controller-manager/names"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/kcm"
)

// world is a scenario put on an engine against an API server: the fleet,
// the control plane, the watches that connect them, the faults.
type world struct {
	sc       *scenarios.Scenario
	engine   *sim.Engine
	fleet    *fleet
	traffic  *traffic
	tracker  *tracker
	observer *observer
	client   kubernetes.Interface
	// identity is a client of the simulation acting as user in groups.
	identity func(user string, groups ...string) (kubernetes.Interface, error)
	control  *controlPlane // nil against an external cluster
	kcm      *kcm.ControllerManager
	faults   *faults
	// owns says which of the scenario's nodes this process runs: all but
	// in a shard of the fleet (serve --shard).
	owns func(node string) bool
	// othersWrite: the cluster's own controllers write the fleet's Nodes
	// too (an external cluster), and the trace has what they changed.
	othersWrite bool
	ctx         context.Context
	cancel      context.CancelFunc
	informer    informers.SharedInformerFactory
	podIndex    cache.Indexer

	mu         sync.Mutex
	dirtyNodes map[string]bool
	dirtyPods  map[string]*podChange
	err        error // the first error of a barrier, ends the run
}

type podChange struct {
	pod     *corev1.Pod
	deleted bool
}

// worldOptions choose what runs besides the fleet.
type worldOptions struct {
	traceFull bool
	// controllers, if set, chooses nodesim's models of the control plane
	// and, on the embedded API server, kube-controller-manager's
	// controllers to run in process.
	controllers *kcm.Selection
	progress    func(time.Duration)
	// metrics, if set, instruments the world (sim/run/metrics.go).
	metrics *runMetrics
	// stateDir holds every node's root dir (checkpoints, sockets).
	stateDir string
	// endpoints, when set, serves each node's kubelet API, CRI and device
	// plugin sockets, trusted by this embedded API server.
	endpoints *apiserver.Server
	// owns, if set, says which of the scenario's nodes run here (a shard
	// of the fleet); the others are another process's.
	owns func(node string) bool
}

func newWorld(ctx context.Context, sc *scenarios.Scenario, backend apiserver.Backend, cfg sim.Config, o worldOptions) (_ *world, err error) {
	cfg.Progress = o.progress
	cfg.Trace = o.metrics.traceWriter(cfg.Trace) // metrics hook: every trace record
	e, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		if err != nil {
			cancel()
		}
	}()
	w := &world{sc: sc, engine: e, traffic: newTraffic(), tracker: newTracker(), ctx: ctx, cancel: cancel,
		dirtyNodes: map[string]bool{}, dirtyPods: map[string]*podChange{}, owns: o.owns}
	if w.owns == nil {
		w.owns = func(string) bool { return true }
	}
	_, embedded := backend.(*apiserver.Server)
	w.othersWrite = !embedded
	w.observer = newObserver(w.tracker, e)
	w.faults = newFaults(w)
	w.traffic.fault = w.faults.roundTrip
	o.metrics.observeRequests(w.traffic) // metrics hook: every API request
	// Every request of the simulation (heartbeats, watches, the control
	// plane's writes) skips the network when the server is embedded.
	rest := simClientConfig(backend.InProcessConfig(), w.traffic)
	if w.client, err = kubernetes.NewForConfig(rest); err != nil {
		return nil, err
	}
	w.identity = func(user string, groups ...string) (kubernetes.Interface, error) {
		cfg, err := backend.IdentityConfig(user, groups...)
		if err != nil {
			return nil, err
		}
		return kubernetes.NewForConfig(simClientConfig(cfg, w.traffic))
	}
	// Each kubelet is its node (system:node:<name>): the Node authorizer
	// and NodeRestriction judge its every request.
	kubeletClients := func(name string) (node.Clients, error) {
		cfg, err := backend.NodeConfig(name)
		if err != nil {
			return node.Clients{}, err
		}
		cfg = simClientConfig(cfg, w.traffic)
		core, err := corev1client.NewForConfig(cfg)
		if err != nil {
			return node.Clients{}, err
		}
		coordination, err := coordinationv1client.NewForConfig(cfg)
		if err != nil {
			return node.Clients{}, err
		}
		return node.Clients{Core: core, Coordination: coordination}, nil
	}
	server, embedded := backend.(*apiserver.Server)
	if embedded {
		// The cluster's time is the simulation's: the watch caches keep
		// their history by it (apiserver.historyClock).
		server.FollowClock(e.Clock())
	}
	// nodesim's models act on the whole cluster and need all of it; a
	// shard that runs none keeps only its own part (shardView).
	whole := o.owns == nil || o.controllers != nil && o.controllers.AnyModel()
	if err := w.startInformers(ctx, whole); err != nil {
		return nil, err
	}
	if embedded && o.controllers != nil {
		if w.kcm, err = startControllerManager(ctx, server, *o.controllers, sc.ControlPlane); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				w.kcm.Stop()
			}
		}()
		if slices.Contains(o.controllers.KubeControllerManager(), kcmnames.ServiceAccountController) {
			if err := waitServiceAccounts(ctx, w.client, sc.Workloads); err != nil {
				return nil, err
			}
		}
	}
	if o.controllers != nil {
		if w.control, err = newControlPlane(sc, w, *o.controllers); err != nil {
			return nil, err
		}
	}
	if w.fleet, err = newFleet(ctx, sc, e, kubeletClients, w.observer, o, w.faults); err != nil {
		return nil, err
	}
	if err := w.faults.schedule(ctx); err != nil {
		return nil, err
	}
	e.BeforeBarriers(func(time.Time) {
		if err := w.tracker.wait(w.ctx); err != nil {
			w.fail(err)
		}
	})
	e.AfterBarriers(w.afterBarriers)
	if w.control != nil {
		w.control.start(e.Now())
	}
	o.metrics.watch(w) // metrics hook: fleet and time gauges at barriers, after the control plane's
	return w, nil
}

// simClientConfig is the configuration of every client of the simulation:
// protobuf, no client-side rate limit (the kubelet's heartbeat client has
// none), counted by the traffic meter.
func simClientConfig(base *restclient.Config, t *traffic) *restclient.Config {
	cfg := restclient.CopyConfig(base)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = -1
	cfg.UserAgent = "nodesim"
	cfg.Wrap(t.wrap)
	return cfg
}

// startInformers watches nodes, leases and pods (one watch each for the
// whole fleet and control plane) and waits for their first list. The
// watches keep what the models read (modelView); unless whole, as a shard
// needs it (shardView), and Leases are not watched: nothing but nodesim's
// models reads them.
func (w *world) startInformers(ctx context.Context, whole bool) error {
	w.informer = informers.NewSharedInformerFactoryWithOptions(w.client, 0, informers.WithTransform(w.modelView(whole)))
	nodes := w.informer.Core().V1().Nodes().Informer()
	pods := w.informer.Core().V1().Pods().Informer()
	if err := pods.AddIndexers(cache.Indexers{"spec.nodeName": func(obj any) ([]string, error) {
		return []string{obj.(*corev1.Pod).Spec.NodeName}, nil
	}}); err != nil {
		return err
	}
	w.podIndex = pods.GetIndexer()
	w.tracker.watch("nodes", nodes.GetStore())
	w.tracker.watch("pods", pods.GetStore())
	// One handler per watch, so that the tracker hears of an event only
	// after the dirty sets have it.
	if _, err := nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.nodeDirty(obj); w.tracker.saw("nodes", obj) },
		UpdateFunc: func(_, obj any) { w.nodeDirty(obj); w.tracker.saw("nodes", obj) },
		DeleteFunc: func(obj any) { w.tracker.saw("nodes", obj) },
	}); err != nil {
		return err
	}
	if whole {
		leases := w.informer.Coordination().V1().Leases().Informer()
		w.tracker.watch("leases", leases.GetStore())
		if _, err := leases.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.tracker.saw("leases", obj) },
			UpdateFunc: func(_, obj any) { w.tracker.saw("leases", obj) },
			DeleteFunc: func(obj any) { w.tracker.saw("leases", obj) },
		}); err != nil {
			return err
		}
	}
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.podDirty(obj, false); w.tracker.saw("pods", obj) },
		UpdateFunc: func(_, obj any) { w.podDirty(obj, false); w.tracker.saw("pods", obj) },
		DeleteFunc: func(obj any) { w.podDirty(obj, true); w.tracker.saw("pods", obj) },
	}); err != nil {
		return err
	}
	w.informer.Start(ctx.Done())
	for typ, ok := range w.informer.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("watch %v did not sync", typ)
		}
	}
	return nil
}

// modelView is what the simulation's watches keep of an object: all but
// its managed fields, which no model reads (kube-scheduler trims its pods
// the same way): a quarter of a decoded Node's memory in a heap profile of
// 2,000 nodes. An update from a model that leaves them out keeps the
// server's.
func (w *world) modelView(whole bool) cache.TransformFunc {
	return func(obj any) (any, error) {
		if m, err := meta.Accessor(obj); err == nil && m.GetManagedFields() != nil {
			m.SetManagedFields(nil)
		}
		if whole {
			return obj, nil
		}
		return w.shardView(obj)
	}
}

// shardView is what a shard's watches keep of an object (an informer
// transform): its own nodes and the pods on them whole, and of every other
// Node and bound Pod only what identifies it (name, UID, resource version,
// a pod's node). A cluster of 100,000 nodes would otherwise be held in
// every shard, the whole of it, whatever the shard's size.
func (w *world) shardView(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Node:
		if !w.owns(o.Name) {
			return &corev1.Node{ObjectMeta: nameOnly(o.ObjectMeta)}, nil
		}
	case *corev1.Pod:
		if o.Spec.NodeName != "" && !w.owns(o.Spec.NodeName) {
			return &corev1.Pod{ObjectMeta: nameOnly(o.ObjectMeta), Spec: corev1.PodSpec{NodeName: o.Spec.NodeName}}, nil
		}
	}
	return obj, nil
}

// nameOnly is the part of an object's metadata that names it.
func nameOnly(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion}
}

func (w *world) nodeDirty(obj any) {
	if n, ok := obj.(*corev1.Node); ok {
		w.mu.Lock()
		w.dirtyNodes[n.Name] = true
		w.mu.Unlock()
	}
}

func (w *world) podDirty(obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if p, ok := obj.(*corev1.Pod); ok {
		w.mu.Lock()
		w.dirtyPods[p.Namespace+"/"+p.Name] = &podChange{pod: p, deleted: deleted}
		w.mu.Unlock()
	}
}

// podsOnNode lists the pods bound to a node from the pod watch.
func (w *world) podsOnNode(node string) []*corev1.Pod {
	objs, err := w.podIndex.ByIndex("spec.nodeName", node)
	if err != nil {
		return nil
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

// afterBarriers runs at every window boundary: once the watches have seen
// every write so far, the control plane reacts to what changed and the
// kubelets get their pods, in a fixed order.
func (w *world) afterBarriers(now time.Time) {
	if err := w.tracker.wait(w.ctx); err != nil {
		w.fail(err)
		return
	}
	w.mu.Lock()
	nodes, pods := w.dirtyNodes, w.dirtyPods
	w.dirtyNodes, w.dirtyPods = map[string]bool{}, map[string]*podChange{}
	w.mu.Unlock()
	if w.othersWrite {
		w.traceOthersWrites(sortedKeys(nodes))
	}
	if w.control != nil {
		w.control.react(now, sortedKeys(nodes), pods)
		if err := w.tracker.wait(w.ctx); err != nil {
			w.fail(err)
			return
		}
		w.mu.Lock()
		for k, v := range w.dirtyPods {
			pods[k] = v
		}
		w.dirtyPods = map[string]*podChange{}
		w.mu.Unlock()
	}
	w.dispatch(now, pods)
}

// traceOthersWrites traces what changed on the fleet's nodes by writes
// the simulation did not make (the cluster's node lifecycle controller's
// taints and conditions, a person's cordon), from the watch, which has
// every write so far at a barrier: the simulation's own writes are in the
// observer's views already, so only the others' show.
func (w *world) traceOthersWrites(names []string) {
	lister := w.informer.Core().V1().Nodes().Lister()
	for _, name := range names {
		if _, ours := w.observer.views[name]; !ours {
			continue
		}
		n, err := lister.Get(name)
		if err != nil {
			continue
		}
		for _, r := range w.observer.changes(n) {
			w.engine.Trace(r)
		}
	}
}

// dispatch hands each changed pod's latest state to its node's kubelet, on
// the kubelet's timeline, in pod key order.
func (w *world) dispatch(now time.Time, pods map[string]*podChange) {
	keys := make([]string, 0, len(pods))
	for k := range pods {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		ch := pods[key]
		k, ok := w.observer.kubelets[ch.pod.Spec.NodeName]
		if !ok || k.Entity() == nil {
			continue
		}
		pod, deleted := ch.pod, ch.deleted
		k.Entity().At(now, func() {
			if deleted {
				k.HandlePodDeleted(pod)
			} else {
				k.HandlePod(pod)
			}
		})
	}
}

func (w *world) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.cancel()
}

func (w *world) close() {
	w.cancel()
	w.engine.Close()
	w.informer.Shutdown()
	if w.kcm != nil {
		w.kcm.Stop()
	}
	if w.fleet != nil {
		w.fleet.close()
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

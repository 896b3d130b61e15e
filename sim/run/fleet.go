package run

import (
	"fmt"
	"net"

	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	restclient "k8s.io/client-go/rest"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

// latestPatch is the newest patch release of a Kubernetes minor that
// nodesim knows of; other minors report .0.
var latestPatch = map[string]string{"1.37": "v1.37.2"}

// KubeletVersion is the version the kubelets of a scenario report.
func KubeletVersion(kubernetesVersion string) string {
	if v, ok := latestPatch[kubernetesVersion]; ok {
		return v
	}
	return "v" + kubernetesVersion + ".0"
}

// NodeIP is the InternalIP of the fleet's i-th node: one loopback address
// per node (127.1.0.1, 127.1.0.2, ...), where its kubelet API can listen.
func NodeIP(i int) net.IP {
	n := i + 1
	return net.IPv4(127, byte(1+n>>16), byte(n>>8), byte(n))
}

// PodCIDR is the pod address range of the fleet's i-th node: a /24 of
// 10.0.0.0/8, as a node IPAM controller would hand out.
func PodCIDR(i int) *net.IPNet {
	return &net.IPNet{IP: net.IPv4(10, byte(i>>8), byte(i), 0).To4(), Mask: net.CIDRMask(24, 32)}
}

// fleet is the scenario's virtual nodes.
type fleet struct {
	sc        *scenarios.Scenario
	clients   node.Clients
	traceFull bool
	faults    *faults
	kubelets  []*node.Kubelet
	sizes     map[string]int // current node count by pool
	next      int            // the next node's fleet index (for its addresses)
}

// newClients builds the kubelets' API clients on one connection pool.
func newClients(cfg *restclient.Config) (node.Clients, error) {
	httpClient, err := restclient.HTTPClientFor(cfg)
	if err != nil {
		return node.Clients{}, fmt.Errorf("kubelet clients: %w", err)
	}
	core, err := corev1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return node.Clients{}, fmt.Errorf("kubelet clients: %w", err)
	}
	coordination, err := coordinationv1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return node.Clients{}, fmt.Errorf("kubelet clients: %w", err)
	}
	return node.Clients{Core: core, Coordination: coordination}, nil
}

// newFleet builds and starts a kubelet per node of every pool, in file
// order, each on its own entity.
func newFleet(sc *scenarios.Scenario, e *sim.Engine, clients node.Clients, obs *observer, traceFull bool, f *faults) (*fleet, error) {
	fl := &fleet{sc: sc, clients: clients, traceFull: traceFull, faults: f, sizes: map[string]int{}}
	for _, pool := range sc.NodePools {
		for i := range pool.Count {
			if err := fl.start(e, obs, pool, i); err != nil {
				return nil, err
			}
		}
		fl.sizes[pool.Name] = pool.Count
	}
	return fl, nil
}

// start builds the i-th node of pool and starts its kubelet now.
func (fl *fleet) start(e *sim.Engine, obs *observer, pool scenarios.NodePool, i int) error {
	name := pool.NodeName(i)
	idx := fl.next
	fl.next++
	cfg := node.Config{
		Name:                    name,
		InternalIP:              NodeIP(idx),
		PodCIDR:                 PodCIDR(idx),
		Labels:                  pool.Labels,
		RegisterWithTaints:      pool.Taints,
		Capacity:                pool.Capacity,
		KernelVersion:           pool.KernelVersion,
		OSImage:                 pool.OSImage,
		Architecture:            pool.Architecture,
		ContainerRuntimeVersion: pool.ContainerRuntime,
		KubeletVersion:          KubeletVersion(fl.sc.KubernetesVersion),
		TraceAllHeartbeats:      fl.traceFull,
	}
	runtime := &faultyRuntime{base: &node.StartupRuntime{Started: e.Now(), NetworkReadyAfter: pool.NetworkReadyAfter}, name: name, f: fl.faults}
	k, err := node.New(cfg, fl.clients, runtime, obs)
	if err != nil {
		return err
	}
	obs.add(k)
	k.Start(e.NewEntity(name))
	fl.kubelets = append(fl.kubelets, k)
	return nil
}

// add grows a pool by count nodes, started now (addNodes), tracing each
// as a fault started on it.
func (fl *fleet) add(w *world, poolName string, count int) {
	for _, pool := range fl.sc.NodePools {
		if pool.Name != poolName {
			continue
		}
		for range count {
			i := fl.sizes[poolName]
			w.engine.Trace(sim.Record{Event: sim.EventFaultStarted, Type: "addNodes", Node: pool.NodeName(i)})
			if err := fl.start(w.engine, w.observer, pool, i); err != nil {
				w.fail(err)
				return
			}
			fl.sizes[poolName] = i + 1
		}
	}
}

// remove stops the last count nodes of a pool and deletes their Nodes
// (deleteNodes), tracing each as a fault started on it.
func (fl *fleet) remove(w *world, poolName string, count int) {
	for _, pool := range fl.sc.NodePools {
		if pool.Name != poolName {
			continue
		}
		for range count {
			i := fl.sizes[poolName] - 1
			if i < 0 {
				return
			}
			name := pool.NodeName(i)
			if k, ok := w.observer.kubelets[name]; ok {
				k.Stop()
			}
			w.engine.Trace(sim.Record{Event: sim.EventFaultStarted, Type: "deleteNodes", Node: name})
			w.deleteNode(name)
			fl.sizes[poolName] = i
		}
	}
}

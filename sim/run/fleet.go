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
	kubelets []*node.Kubelet
	names    []string
}

// newClients builds the kubelets' API clients: protobuf, no client-side
// rate limit (the kubelet's heartbeat client has none), one connection
// pool for the whole fleet.
func newClients(base *restclient.Config, t *traffic) (node.Clients, error) {
	cfg := restclient.CopyConfig(base)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = -1
	cfg.UserAgent = "nodesim-kubelet"
	cfg.Wrap(t.wrap)
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

// newFleet builds a kubelet per node of every pool, in file order, and
// starts each on its own entity at the engine's current time.
func newFleet(sc *scenarios.Scenario, e *sim.Engine, clients node.Clients, traceFull bool) (*fleet, *observer, error) {
	f := &fleet{}
	for _, pool := range sc.NodePools {
		for i := range pool.Count {
			f.names = append(f.names, pool.NodeName(i))
		}
	}
	obs := newObserver(f.names)
	idx := 0
	for _, pool := range sc.NodePools {
		for i := range pool.Count {
			name := pool.NodeName(i)
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
				KubeletVersion:          KubeletVersion(sc.KubernetesVersion),
				TraceAllHeartbeats:      traceFull,
			}
			idx++
			runtime := &node.StartupRuntime{Started: e.Now(), NetworkReadyAfter: pool.NetworkReadyAfter}
			k, err := node.New(cfg, clients, runtime, obs)
			if err != nil {
				return nil, nil, err
			}
			k.Start(e.NewEntity(name))
			f.kubelets = append(f.kubelets, k)
		}
	}
	return f, obs, nil
}

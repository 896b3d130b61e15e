package run

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/node/devices"
	"github.com/nodesim/nodesim/node/kernel"
	criruntime "github.com/nodesim/nodesim/runtime"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
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

// NodeAddress is the InternalIP of the fleet's i-th node, in the node
// network 172.16.0.0/12 (172.16.0.1, 172.16.0.2, ...), as a cloud's
// subnet hands them out. Its kubelet API listens at NodeIP; the embedded
// API server reaches one through the other (apiserver.RouteKubelet).
func NodeAddress(i int) net.IP {
	n := i + 1
	return net.IPv4(172, 16+byte(n>>16), byte(n>>8), byte(n))
}

// NodeIP is where the fleet's i-th node's kubelet API listens: one
// loopback address per node in 127.<base>.0.0/16 (127.1.0.1, 127.1.0.2,
// ... for base 1).
func NodeIP(base byte, i int) net.IP {
	n := i + 1
	return net.IPv4(127, base+byte(n>>16), byte(n>>8), byte(n))
}

// reserveAddresses picks the /16s of 127.0.0.0/8 the fleet's kubelet APIs
// listen in, from 127.1 on, so that runs at the same time on one machine
// (tests in parallel) do not collide, and holds them: it binds port on the
// first two addresses of each /16 the fleet's nodes span (127.B.0.0, not a
// node's address in the fleet's first /16, and 127.B.0.1, its first node's;
// the nodes 65535 and 65536, ... in the next ones) and keeps those
// listeners until the fleet closes or the node of that address takes its
// listener over. Choosing by listening,
// closing and binding later let two runs choose the same range ("bind:
// address already in use"). Addresses are in no trace, so the choice
// changes no run's outcome.
func reserveAddresses(ports []int32, nodes int) (byte, map[string]net.Listener, error) {
	span := nodes>>16 + 1 // node i is n = i+1 in its base's /16
	want := 2 * span * len(ports)
	for base := 1; base+span <= 250; base++ {
		held := map[string]net.Listener{}
	reserve:
		for k := range span {
			// 127.B.0.1 too: the first node's address, which a run of an
			// earlier nodesim (which reserved nothing) takes first.
			for _, last := range []byte{0, 1} {
				for _, port := range ports {
					addr := net.JoinHostPort(net.IPv4(127, byte(base+k), 0, last).String(), strconv.Itoa(int(port)))
					ln, err := net.Listen("tcp", addr)
					if err != nil {
						break reserve
					}
					held[addr] = ln
				}
			}
		}
		if len(held) == want {
			return byte(base), held, nil
		}
		for _, ln := range held {
			ln.Close()
		}
	}
	return 0, nil, fmt.Errorf("no free loopback range for the kubelets' ports %v", ports)
}

// kubeletPorts are the distinct ports the pools' kubelets listen on, in
// order: a range must be free on each.
func kubeletPorts(sc *scenarios.Scenario) []int32 {
	var ports []int32
	for _, pool := range sc.NodePools {
		port := int32(10250)
		if kc := pool.KubeletConfig; kc != nil {
			port = kc.Port
		}
		if !slices.Contains(ports, port) {
			ports = append(ports, port)
		}
	}
	return ports
}

// PodCIDR is the pod address range of the fleet's i-th node: a /24, as a
// node IPAM controller hands them out with its default
// --node-cidr-mask-size, from 10.0.0.0/8 for the first 65,536 nodes and
// on through 11.0.0.0/8, 12.0.0.0/8, ... for larger fleets (up to
// scenarios.MaxNodes), as clusters that outgrow RFC 1918 space do: the
// addresses are never routed, and no two nodes share one.
func PodCIDR(i int) *net.IPNet {
	return &net.IPNet{IP: net.IPv4(10+byte(i>>16), byte(i>>8), byte(i), 0).To4(), Mask: net.CIDRMask(24, 32)}
}

// fleet is the scenario's virtual nodes.
type fleet struct {
	sc *scenarios.Scenario
	// clients makes a node's kubelet clients, with the node's identity.
	clients   func(node string) (node.Clients, error)
	traceFull bool
	faults    *faults
	// owns says which nodes run here; the fleet's indices (addresses)
	// count the others too, so that every node has the same address in
	// whichever shard runs it.
	owns     func(node string) bool
	kubelets []*node.Kubelet
	members  map[string]*member // by node name
	sizes    map[string]int     // current node count by pool
	next     int                // the next node's fleet index (for its addresses)
	base     byte               // the second byte of the nodes' addresses
	// stateDir holds every node's root dir; sockDir is the same folder
	// under a path short enough to bind unix sockets in.
	stateDir, sockDir string
	unlinkSockDir     func()
	// endpoints, when set, serves each node's kubelet API, CRI socket and
	// device plugin Registration socket, with the embedded API server's
	// certificates and authorization.
	endpoints *apiserver.Server
	// reserved are the listeners that hold the fleet's address ranges
	// (reserveAddresses), by ip:port, until the fleet closes or the node
	// at that address takes its one over.
	reserved map[string]net.Listener
}

// member is one virtual node: its kubelet and the parts of its machine
// that outlive a kubelet restart.
type member struct {
	kubelet *node.Kubelet
	runtime *criruntime.Runtime
	devices *devices.Manager
	plugins map[string]*devices.FakePlugin // by resource name
	server  *node.Server
	// ip is the node's address; listen is where its kubelet API listens.
	ip, listen net.IP
	config     *kubeletconfigv1beta1.KubeletConfiguration
	// cniReady is when the pod network's plugin is up.
	cniReady time.Time
}

// close releases the node's sockets and listener.
func (m *member) close() {
	if m.server != nil {
		m.server.Close()
	}
	for _, name := range slices.Sorted(maps.Keys(m.plugins)) {
		_ = m.plugins[name].Stop(context.Background())
	}
	if m.devices != nil {
		m.devices.Close()
	}
	m.runtime.Close()
}

// newFleet builds and starts a kubelet per node of every pool, in file
// order, each on its own entity.
// It stops, releasing what it made, when ctx is done: a large fleet takes
// long to set up, and an interrupt must not wait for it.
func newFleet(ctx context.Context, sc *scenarios.Scenario, e *sim.Engine, clients func(string) (node.Clients, error), obs *observer, o worldOptions, f *faults) (*fleet, error) {
	fl := &fleet{sc: sc, clients: clients, traceFull: o.traceFull, faults: f, sizes: map[string]int{},
		members: map[string]*member{}, stateDir: o.stateDir, owns: f.w.owns}
	if !sc.NoNodeEndpoints {
		fl.endpoints = o.endpoints
	}
	if fl.endpoints != nil {
		most := sc.NodeCount()
		for _, st := range sc.Timeline {
			if st.Do == "addNodes" {
				most += st.Count
			}
		}
		if err := ensureFileLimit(most); err != nil {
			return nil, err
		}
	}
	fl.base = 1
	if fl.endpoints != nil && len(sc.NodePools) > 0 {
		most := sc.NodeCount()
		for _, st := range sc.Timeline {
			if st.Do == "addNodes" {
				most += st.Count
			}
		}
		var err error
		if fl.base, fl.reserved, err = reserveAddresses(kubeletPorts(sc), most); err != nil {
			return nil, err
		}
	}
	longest := 0
	for _, pool := range sc.NodePools {
		longest = max(longest, len(pool.NodeName(0)))
	}
	if err := os.MkdirAll(fl.stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	var err error
	if fl.sockDir, fl.unlinkSockDir, err = socketDir(fl.stateDir, longest+3); err != nil {
		return nil, err
	}
	for _, pool := range sc.NodePools {
		for i := range pool.Count {
			if i%256 == 0 && ctx.Err() != nil {
				fl.close()
				return nil, ctx.Err()
			}
			if err := fl.start(e, obs, pool, i); err != nil {
				fl.close()
				return nil, err
			}
		}
		fl.sizes[pool.Name] = pool.Count
	}
	return fl, nil
}

// close releases every node's sockets and listeners.
func (fl *fleet) close() {
	for _, k := range fl.kubelets {
		if m, ok := fl.members[k.Name()]; ok {
			m.close()
			delete(fl.members, k.Name())
		}
	}
	if fl.unlinkSockDir != nil {
		fl.unlinkSockDir()
	}
	for addr, ln := range fl.reserved {
		ln.Close()
		delete(fl.reserved, addr)
	}
}

// start builds the i-th node of pool and starts its kubelet now, if it is
// one of the fleet's own.
func (fl *fleet) start(e *sim.Engine, obs *observer, pool scenarios.NodePool, i int) error {
	name := pool.NodeName(i)
	idx := fl.next
	fl.next++
	if !fl.owns(name) {
		return nil
	}
	kc := kubeletConfig(pool)
	ip := NodeAddress(idx)
	var listenAddress net.IP // published where the kubelet API listens
	if fl.endpoints != nil {
		listenAddress = NodeIP(fl.base, idx)
	}
	rootDir := filepath.Join(fl.stateDir, name)
	kv, err := kernel.Parse(pool.KernelVersion)
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	userns, rro := kernel.RuntimeFeatures(kv)
	rt, err := criruntime.New(criruntime.Config{
		Node: name, RootDir: rootDir, RuntimeVersion: pool.ContainerRuntime, PodCIDR: PodCIDR(idx).String(), Clock: e.Clock(),
		HostIO:   sim.BoundedHost(sim.DefaultHostTimeout),
		Features: criruntime.Features{UserNamespaces: userns, RecursiveReadOnlyMounts: rro},
	})
	if err != nil {
		return err
	}
	m := &member{runtime: rt, plugins: map[string]*devices.FakePlugin{}, cniReady: e.Now().Add(pool.NetworkReadyAfter)}
	fl.members[name] = m
	en := e.NewEntity(name)
	// The pod network's plugin (a DaemonSet) is up a while after the node.
	rt.SetNetworkReady(false)
	en.At(m.cniReady, func() { fl.faults.syncRuntime(name, en.Now()) })
	if fl.endpoints != nil {
		if err := rt.Serve(filepath.Join(fl.sockDir, name, "cri.sock")); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
	}
	if fl.endpoints != nil || len(pool.DevicePlugins) > 0 {
		if m.devices, err = devices.NewManager(devices.ManagerConfig{Dir: filepath.Join(fl.sockDir, name, "device-plugins"), Clock: e.Clock(),
			BoundCall: boundPluginCall}); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		ctx := sim.WithEntity(context.Background(), en)
		for _, dp := range pool.DevicePlugins {
			plugin, err := devices.NewFakePlugin(devices.FakePluginConfig{Dir: m.devices.Dir(), ResourceName: dp.ResourceName, Count: dp.Count, Manager: m.devices})
			if err != nil {
				return fmt.Errorf("node %s: %w", name, err)
			}
			if err := plugin.Start(ctx); err != nil {
				return fmt.Errorf("node %s: device plugin %s: %w", name, dp.ResourceName, err)
			}
			m.plugins[dp.ResourceName] = plugin
		}
	}
	cfg := node.Config{
		Name:                    name,
		InternalIP:              ip,
		ListenAddress:           listenAddress,
		PodCIDR:                 PodCIDR(idx),
		Labels:                  pool.Labels,
		RegisterWithTaints:      pool.Taints,
		Capacity:                pool.Capacity,
		KernelVersion:           pool.KernelVersion,
		CgroupVersion:           pool.CgroupVersion,
		Swap:                    pool.Swap,
		OSImage:                 pool.OSImage,
		Architecture:            pool.Architecture,
		ContainerRuntimeVersion: pool.ContainerRuntime,
		KubeletVersion:          KubeletVersion(fl.sc.KubernetesVersion),
		KubeletConfig:           kc,
		RootDir:                 rootDir,
		Devices:                 m.devices,
		TraceAllHeartbeats:      fl.traceFull,
	}
	clients, err := fl.clients(name)
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	k, err := node.New(cfg, clients, rt, obs)
	if err != nil {
		return err
	}
	m.kubelet, m.ip, m.listen, m.config = k, ip, NodeIP(fl.base, idx), kubeletConfigOrDefault(kc, k)
	if fl.endpoints != nil {
		if m.server, err = fl.serve(k, name, m.ip, m.listen, m.config); err != nil {
			return err
		}
	}
	obs.add(k)
	k.Start(en)
	fl.kubelets = append(fl.kubelets, k)
	return nil
}

// boundPluginCall gives a call to a device plugin sim.DefaultHostTimeout
// of wall time: a plugin that never answers fails the pod's admission (as
// a failed Allocate does on a kubelet), not the window every node waits
// for.
func boundPluginCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, sim.DefaultHostTimeout)
}

// serve starts a node's kubelet API at its listening address, routed from
// its node address, with a serving certificate from the run's CA for both
// and the API server's authentication and authorization.
func (fl *fleet) serve(k *node.Kubelet, name string, ip, listen net.IP, kc *kubeletconfigv1beta1.KubeletConfiguration) (*node.Server, error) {
	cert, err := fl.endpoints.KubeletServingCert(name, []net.IP{ip, listen})
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(int(kc.Port))
	addr := net.JoinHostPort(listen.String(), port)
	fl.endpoints.RouteKubelet(net.JoinHostPort(ip.String(), port), addr)
	held := fl.reserved[addr] // the node of a reserved address serves on its listener
	delete(fl.reserved, addr)
	srv, err := node.StartServer(node.ServerConfig{
		NodeName:          name,
		Address:           addr,
		Listener:          held,
		Certificate:       cert,
		Authenticator:     fl.endpoints.KubeletAuthenticator(),
		AuthorizationMode: string(kc.Authorization.Mode),
		Authorizer:        fl.endpoints.Authorizer(),
		Backend:           k,
	})
	if err != nil && held != nil {
		held.Close()
	}
	return srv, err
}

// stopKubelet stops a node's kubelet as killing the process does: its
// loops end and its API stops listening; the runtime and the device
// plugins go on.
func (fl *fleet) stopKubelet(name string) {
	m, ok := fl.members[name]
	if !ok {
		return
	}
	m.kubelet.Stop()
	if m.server != nil {
		m.server.Close()
		m.server = nil
	}
}

// startKubelet starts a node's kubelet again: a new boot that registers,
// and its API listening again.
func (fl *fleet) startKubelet(name string) {
	m, ok := fl.members[name]
	if !ok {
		return
	}
	m.kubelet.Start(m.kubelet.Entity())
	if fl.endpoints != nil && m.server == nil {
		server, err := fl.serve(m.kubelet, name, m.ip, m.listen, m.config)
		if err != nil {
			fl.faults.w.fail(err)
			return
		}
		m.server = server
	}
}

// kubeletConfig is a pool's kubelet configuration; a pool's capacity.pods
// other than the default stands for maxPods when the configuration leaves
// maxPods at its default.
func kubeletConfig(pool scenarios.NodePool) *kubeletconfigv1beta1.KubeletConfiguration {
	kc := pool.KubeletConfig
	if kc == nil {
		return nil
	}
	kc = kc.DeepCopy()
	if pods, ok := pool.Capacity[corev1.ResourcePods]; ok && kc.MaxPods == defaultMaxPods && pods.Value() != defaultMaxPods {
		kc.MaxPods = int32(pods.Value())
	}
	return kc
}

// defaultMaxPods is maxPods' default.
const defaultMaxPods = 110

// add grows a pool by count nodes, started now (addNodes), tracing each
// as a fault started on it.
func (fl *fleet) add(w *world, poolName string, count int) {
	for _, pool := range fl.sc.NodePools {
		if pool.Name != poolName {
			continue
		}
		for range count {
			i := fl.sizes[poolName]
			if !fl.owns(pool.NodeName(i)) {
				fl.next++ // another shard's node, with its address
				fl.sizes[poolName] = i + 1
				continue
			}
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
			if !fl.owns(name) {
				fl.sizes[poolName] = i // another shard's node
				continue
			}
			if k, ok := w.observer.kubelets[name]; ok {
				k.Stop()
			}
			if m, ok := fl.members[name]; ok {
				m.close()
				delete(fl.members, name)
			}
			w.engine.Trace(sim.Record{Event: sim.EventFaultStarted, Type: "deleteNodes", Node: name})
			w.deleteNode(name)
			fl.sizes[poolName] = i
		}
	}
}

// kubeletConfigOrDefault is the configuration a kubelet runs with: its
// pool's, or the defaults the kubelet filled in.
func kubeletConfigOrDefault(kc *kubeletconfigv1beta1.KubeletConfiguration, k *node.Kubelet) *kubeletconfigv1beta1.KubeletConfiguration {
	if kc != nil {
		return kc
	}
	return k.KubeletConfig(context.Background()).(*kubeletconfigv1beta1.KubeletConfiguration)
}

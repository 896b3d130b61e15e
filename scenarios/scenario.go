package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/internal/hostfile"
)

// The document's type.
const (
	// APIVersion is the only apiVersion a scenario file may have.
	APIVersion = "nodesim.dev/v1alpha1"
	// Kind is the only kind a scenario file may have.
	Kind = "Scenario"
)

// Defaults of the scenario and of each node pool. The node defaults are
// those of a current Ubuntu server running containerd.
const (
	// DefaultSeed is spec.seed when the file has none.
	DefaultSeed uint64 = 1
	// DefaultKubernetesVersion is spec.kubernetesVersion when the file has
	// none: the release whose upstream defaults nodesim reproduces.
	DefaultKubernetesVersion = "1.37"
	// MinKubernetesMinor and MaxKubernetesMinor bound the 1.X releases a
	// scenario may ask for.
	MinKubernetesMinor = 28
	MaxKubernetesMinor = 37

	// DefaultKernelVersion is a pool's kernelVersion when it has none
	// (Ubuntu 24.04's).
	DefaultKernelVersion = "6.8.0-60-generic"
	// DefaultCgroupVersion is a pool's cgroupVersion when it has none.
	DefaultCgroupVersion = 2
	// DefaultOSImage is a pool's osImage when it has none.
	DefaultOSImage = "Ubuntu 24.04.2 LTS"
	// DefaultContainerRuntime is a pool's containerRuntime when it has none,
	// as the node reports it in status.nodeInfo.containerRuntimeVersion.
	DefaultContainerRuntime = "containerd://2.1.4"
	// DefaultArchitecture is a pool's architecture when it has none.
	DefaultArchitecture = "amd64"
	// DefaultNetworkReadyAfter is a pool's networkReadyAfter when it has
	// none: how long after its kubelet starts a node's runtime reports the
	// pod network ready (the CNI plugin is up).
	DefaultNetworkReadyAfter = 5 * time.Second

	// DefaultCPU, DefaultMemory, DefaultPods and DefaultEphemeralStorage
	// are a pool's capacity for the keys it does not set. DefaultPods is the
	// kubelet's default maxPods.
	DefaultCPU              = "8"
	DefaultMemory           = "32Gi"
	DefaultPods             = "110"
	DefaultEphemeralStorage = "100Gi"
)

// Limits that keep a bad file from exhausting the machine.
const (
	// MaxNodes is the most nodes a scenario may declare, over all pools.
	// A run also needs the memory for them: nodesim run and serve
	// estimate it before they start and refuse a fleet this machine
	// cannot hold (sim/run, about 256 KiB a node).
	MaxNodes = 1_000_000
	// MaxPools is the most node pools a scenario may declare. Each pool
	// has its own defaulted kubelet configuration (kilobytes each), so
	// that 150,000 empty pools took over a gigabyte to validate; real
	// clusters have tens. The count is checked before any pool is parsed.
	MaxPools = 1_000
	// MaxFileSize is the largest scenario file Load reads.
	MaxFileSize = 8 << 20
	// MaxErrors is the most errors Parse reports for one file; the rest are
	// counted in a last message.
	MaxErrors = 50
)

// Scenario is a parsed and validated scenario file with every default
// filled in.
type Scenario struct {
	File              string        // path it was loaded from
	Name              string        // metadata.name
	Seed              uint64        // spec.seed (default DefaultSeed)
	Duration          time.Duration // spec.duration: virtual time the run lasts, > 0
	KubernetesVersion string        // spec.kubernetesVersion, "1.X" (default DefaultKubernetesVersion)
	// NoNodeEndpoints is spec.nodeEndpoints: false: the nodes serve no
	// kubelet API, CRI or device plugin sockets (a fleet too large for the
	// machine's open-file limit; heartbeats, pods and checkpoints through
	// the timeline work as ever).
	NoNodeEndpoints bool
	NodePools       []NodePool   // spec.nodePools, in file order
	ControlPlane    ControlPlane // spec.controlPlane, defaults filled in for KubernetesVersion
	Workloads       []Workload   // spec.workloads, in file order
	// Timeline is spec.timeline in the order the steps happen: by At; at
	// one instant addNodes and deleteNodes first, then the others, each
	// group in file order (Step.Line keeps the place in the file).
	Timeline []Step
	Expect   []Expectation // spec.expect, in file order
}

// NodePool is a group of identical virtual nodes.
type NodePool struct {
	// Name is a DNS-1123 label, unique among the scenario's pools; node
	// names are <pool>-<index> (see NodeName).
	Name string
	// Count is how many nodes the pool starts with; 0 is allowed.
	Count int
	// Labels are added to each node's labels at registration, as the
	// kubelet's --node-labels are.
	Labels map[string]string
	// Taints are set on each node at registration, as the kubelet's
	// registerWithTaints are (YAML: registerWithTaints or taints).
	Taints []corev1.Taint
	// Capacity is each node's status.capacity: the defaults (DefaultCPU,
	// DefaultMemory, DefaultPods, DefaultEphemeralStorage) with the file's
	// values overriding them key by key.
	Capacity corev1.ResourceList
	// KernelVersion is status.nodeInfo.kernelVersion (default
	// DefaultKernelVersion).
	KernelVersion string
	// CgroupVersion is 1 or 2 (default DefaultCgroupVersion).
	CgroupVersion int
	// OSImage is status.nodeInfo.osImage (default DefaultOSImage).
	OSImage string
	// ContainerRuntime is status.nodeInfo.containerRuntimeVersion,
	// "containerd://X.Y.Z" or "cri-o://X.Y.Z" (default
	// DefaultContainerRuntime).
	ContainerRuntime string
	// Architecture is amd64 or arm64 (default DefaultArchitecture).
	Architecture string
	// NetworkReadyAfter is a nodesim extension: how long after the kubelet
	// starts its runtime reports the pod network ready (default
	// DefaultNetworkReadyAfter); until then the node is not Ready.
	NetworkReadyAfter time.Duration
	// KubeletConfig is each node's kubelet configuration: the pool's
	// kubeletConfig with its kubeletConfigDropins (or the .conf files of
	// kubeletConfigDir) merged as the kubelet merges --config-dir, every
	// default filled in (node/config). Never nil after Parse.
	KubeletConfig *kubeletconfigv1beta1.KubeletConfiguration
	// DevicePlugins are the fake device plugins each node runs.
	DevicePlugins []DevicePlugin
	// KubeProxyMode is kube-proxy's mode (KubeProxyConfiguration mode):
	// iptables, nftables or ipvs (default DefaultKubeProxyMode).
	KubeProxyMode string
	// KubeProxyNFTablesSkipKernelVersionCheck is kube-proxy's
	// KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK set: nftables mode
	// down to kernel 5.4 instead of 5.13.
	KubeProxyNFTablesSkipKernelVersionCheck bool
	// Swap says the nodes have swap on (default false). The kubelet then
	// refuses to start unless failSwapOn is false, and warns
	// (PossibleMemoryBackedVolumesOnDisk) on kernels without tmpfs noswap.
	Swap bool
}

// DevicePlugin is a fake device plugin of a pool: it registers with each
// node's kubelet and advertises Count devices of ResourceName.
type DevicePlugin struct {
	// ResourceName is an extended resource name, domain/name, outside
	// kubernetes.io (for example example.com/gpu).
	ResourceName string
	// Count is how many devices each node has, >= 0.
	Count int
}

// Kube-proxy modes (pkg/proxy/apis/config ProxyMode, Linux).
const (
	KubeProxyModeIPTables = "iptables"
	KubeProxyModeNFTables = "nftables"
	KubeProxyModeIPVS     = "ipvs"
	// DefaultKubeProxyMode is a pool's kubeProxyMode when it has none:
	// kube-proxy's default on Linux.
	DefaultKubeProxyMode = KubeProxyModeIPTables
	// MaxDevices bounds a device plugin's count.
	MaxDevices = 1024
)

// DefaultCapacity returns a fresh copy of the capacity a pool has when its
// file sets none.
func DefaultCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(DefaultCPU),
		corev1.ResourceMemory:           resource.MustParse(DefaultMemory),
		corev1.ResourcePods:             resource.MustParse(DefaultPods),
		corev1.ResourceEphemeralStorage: resource.MustParse(DefaultEphemeralStorage),
	}
}

// Load reads the scenario file at path and parses it (see Parse).
func Load(path string) (*Scenario, error) {
	// A FIFO, socket or device is refused after a stat, never opened: a
	// read from one could block forever.
	data, err := hostfile.ReadFile(path, MaxFileSize)
	switch {
	case errors.Is(err, hostfile.ErrTooLarge):
		return nil, &Error{File: path, Message: fmt.Sprintf("file is larger than %d bytes, too large for a scenario", MaxFileSize)}
	case errors.Is(err, hostfile.ErrNotRegular):
		return nil, &Error{File: path, Message: fmt.Sprintf("not a scenario file: %v", err)}
	case err != nil:
		return nil, unreadable(path, err)
	}
	return Parse(path, data)
}

// unreadable is the error of a scenario file that cannot be read, in the
// format of every scenario error: "FILE: cannot read the scenario: REASON".
func unreadable(path string, err error) error {
	reason := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		reason = pe.Err
	}
	return &Error{File: path, Message: fmt.Sprintf("cannot read the scenario: %v", reason), Err: err}
}

// Parse parses and validates a scenario file's contents and fills in the
// defaults. file names the file in error messages only.
//
// A file with one problem gives an *Error; one with several gives an
// ErrorList of them, in line order. Either way errors.As(err, &e) with
// e *Error finds the (first) problem.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{file: file}
	s := d.document(data)
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// NodeName returns the name of the pool's node at index: "<pool>-<index>",
// the index zero-padded to as many digits as the pool's count has (count
// 1000: zone-a-0000 .. zone-a-0999; count 80: b-00 .. b-79; count 10:
// b-00 .. b-09; count 1 to 9: one digit).
//
// The padding is fixed by the count the pool starts with, so that the
// names of existing nodes never change: nodes an addNodes step adds past it
// get more digits only when their index needs them (count 80 grown to 120:
// b-00 .. b-99, then b-100 .. b-119).
func (p NodePool) NodeName(index int) string {
	idx := strconv.Itoa(index)
	width := digits(p.Count)
	buf := make([]byte, 0, len(p.Name)+1+max(width, len(idx)))
	buf = append(buf, p.Name...)
	buf = append(buf, '-')
	if index >= 0 {
		for i := len(idx); i < width; i++ {
			buf = append(buf, '0')
		}
	}
	return string(append(buf, idx...))
}

// digits is how many decimal digits n has (1 for 0).
func digits(n int) int {
	d := 1
	for n >= 10 || n <= -10 {
		n /= 10
		d++
	}
	return d
}

// NodeCount is the number of nodes the scenario starts with, over all pools.
func (s *Scenario) NodeCount() int {
	n := 0
	for _, p := range s.NodePools {
		n += p.Count
	}
	return n
}

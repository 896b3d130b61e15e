package node

import (
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/node/config"
	"github.com/nodesim/nodesim/node/devices"
)

// Constants of the kubelet's code, not of its configuration.
const (
	// nodeLeaseRenewIntervalFraction: the lease is renewed every quarter of
	// its duration.
	nodeLeaseRenewIntervalFraction = 0.25
	// heartbeatJitter is the jitter factor of the status and lease loops.
	heartbeatJitter = 0.04
	// nodeStatusUpdateRetry is how many times a status update is tried.
	nodeStatusUpdateRetry = 5
	// maxUpdateRetries is how many immediate lease update tries are made.
	maxUpdateRetries = 5
	// leaseMaxBackoff caps the lease controller's backoff.
	leaseMaxBackoff = 7 * time.Second
	// registrationFirstWait and registrationMaxWait: registration sleeps
	// 100 ms before its first try, doubling to 7 s.
	registrationFirstWait = 100 * time.Millisecond
	registrationMaxWait   = 7 * time.Second
	// fastStatusUpdatePeriod and nodeReadyGracePeriod: until the node is
	// first Ready, its status is checked every 100 ms for up to 120 s.
	fastStatusUpdatePeriod = 100 * time.Millisecond
	nodeReadyGracePeriod   = 120 * time.Second
	// runtimeUpPeriod is how often the runtime's status is polled.
	runtimeUpPeriod = 5 * time.Second
	// maxWaitForContainerRuntime: without a good runtime status for this
	// long, the runtime counts as down.
	maxWaitForContainerRuntime = 30 * time.Second
)

// Config is one virtual node: its identity, its machine and its kubelet's
// configuration.
type Config struct {
	// Name is the node name (--hostname-override, lower-cased).
	Name string
	// InternalIP is the node's address; the kubelet API listens there.
	InternalIP net.IP
	// PodCIDR is the node's pod address range (what the node IPAM
	// controller would assign); pod IPs come from it.
	PodCIDR *net.IPNet
	// Labels are --node-labels (pool labels such as zone and instance type).
	Labels map[string]string
	// ListenAddress, when set, is where the kubelet API listens if not at
	// InternalIP: the kubelet writes it into the Node's
	// AnnotationListenAddress at registration, so that a person or a test
	// can reach the API directly.
	ListenAddress net.IP
	// RegisterWithTaints is --register-with-taints.
	RegisterWithTaints []corev1.Taint
	// Capacity is what the machine has (cpu, memory, pods, ephemeral-storage, ...).
	Capacity corev1.ResourceList
	// KernelVersion, OSImage, OperatingSystem and Architecture describe the machine.
	KernelVersion, OSImage, OperatingSystem, Architecture string
	// ContainerRuntimeVersion is what the runtime reports, e.g. containerd://2.1.4.
	ContainerRuntimeVersion string
	// KubeletVersion is the kubelet's version, e.g. v1.37.2.
	KubeletVersion string

	// CgroupVersion is the host's cgroup version (1 or 2).
	CgroupVersion int
	// Swap says whether the host has swap on.
	Swap bool
	// KubeletConfig is the kubelet's configuration, merged from its file
	// and drop-ins (node/config); nil means the defaults. It decides the
	// status and lease cadence, reservations and eviction thresholds that
	// make allocatable, maxPods, the API port and authorization, feature
	// gates and allowed unsafe sysctls.
	KubeletConfig *kubeletconfigv1beta1.KubeletConfiguration
	// RootDir is the kubelet's --root-dir (checkpoints/ lives there).
	RootDir string
	// Devices is the node's device manager; nil when it has no device
	// plugins.
	Devices *devices.Manager

	// TraceAllHeartbeats traces every lease renewal and status post, not
	// only the posts that changed something (--trace full).
	TraceAllHeartbeats bool
}

func (c *Config) complete() error {
	if c.Name == "" {
		return fmt.Errorf("node: name is required")
	}
	if c.InternalIP == nil {
		return fmt.Errorf("node %s: internal IP is required", c.Name)
	}
	if c.PodCIDR == nil || c.PodCIDR.IP.To4() == nil {
		return fmt.Errorf("node %s: an IPv4 pod CIDR is required", c.Name)
	}
	if c.OperatingSystem == "" {
		c.OperatingSystem = "linux"
	}
	if c.Architecture == "" {
		c.Architecture = "amd64"
	}
	if c.CgroupVersion == 0 {
		c.CgroupVersion = 2
	}
	if c.KubeletConfig == nil {
		defaults, err := config.Load(config.Input{})
		if err != nil {
			return fmt.Errorf("node %s: default kubelet configuration: %w", c.Name, err)
		}
		c.KubeletConfig = defaults.Config
	}
	return nil
}

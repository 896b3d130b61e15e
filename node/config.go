package node

import (
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Kubelet defaults, as KubeletConfiguration (kubelet.config.k8s.io/v1beta1)
// defaults them.
const (
	// DefaultNodeStatusUpdateFrequency is nodeStatusUpdateFrequency.
	DefaultNodeStatusUpdateFrequency = 10 * time.Second
	// DefaultNodeStatusReportFrequency is nodeStatusReportFrequency.
	DefaultNodeStatusReportFrequency = 5 * time.Minute
	// DefaultNodeLeaseDurationSeconds is nodeLeaseDurationSeconds.
	DefaultNodeLeaseDurationSeconds = 40
	// DefaultMaxPods is maxPods.
	DefaultMaxPods = 110
	// DefaultKubeletPort is port: where the kubelet's HTTPS API listens.
	DefaultKubeletPort = 10250
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

// DefaultEvictionHard is evictionHard's default, less the signals that do
// not reduce allocatable (imagefs, inodes).
var DefaultEvictionHard = map[string]string{
	"memory.available":  "100Mi",
	"nodefs.available":  "10%",
	"imagefs.available": "15%",
	"nodefs.inodesFree": "5%",
}

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

	// NodeStatusUpdateFrequency, NodeStatusReportFrequency and
	// NodeLeaseDurationSeconds are the kubelet configuration's fields.
	NodeStatusUpdateFrequency time.Duration
	NodeStatusReportFrequency time.Duration
	NodeLeaseDurationSeconds  int32
	// SystemReserved and KubeReserved are subtracted from capacity.
	SystemReserved, KubeReserved corev1.ResourceList
	// EvictionHard thresholds (memory.available, nodefs.available) are
	// subtracted from capacity too.
	EvictionHard map[string]string
	// Port is the kubelet API's port.
	Port int32

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
	if c.NodeStatusUpdateFrequency == 0 {
		c.NodeStatusUpdateFrequency = DefaultNodeStatusUpdateFrequency
	}
	if c.NodeStatusReportFrequency == 0 {
		c.NodeStatusReportFrequency = DefaultNodeStatusReportFrequency
	}
	if c.NodeLeaseDurationSeconds == 0 {
		c.NodeLeaseDurationSeconds = DefaultNodeLeaseDurationSeconds
	}
	if c.EvictionHard == nil {
		c.EvictionHard = DefaultEvictionHard
	}
	if c.Port == 0 {
		c.Port = DefaultKubeletPort
	}
	if c.OperatingSystem == "" {
		c.OperatingSystem = "linux"
	}
	if c.Architecture == "" {
		c.Architecture = "amd64"
	}
	if _, ok := c.Capacity[corev1.ResourcePods]; !ok {
		if c.Capacity == nil {
			c.Capacity = corev1.ResourceList{}
		}
		c.Capacity[corev1.ResourcePods] = *resource.NewQuantity(DefaultMaxPods, resource.DecimalSI)
	}
	return nil
}

package node

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodesim/nodesim/node/config"
	"github.com/nodesim/nodesim/node/kernel"
)

// settings is what the kubelet's configuration and its host decide, read
// once when the kubelet is built.
type settings struct {
	statusUpdateFrequency time.Duration
	statusReportFrequency time.Duration
	leaseDurationSeconds  int32
	systemReserved        corev1.ResourceList
	kubeReserved          corev1.ResourceList
	evictionHard          map[string]string
	maxPods               int64
	port                  int32
	// containerCheckpoint is the ContainerCheckpoint feature gate.
	containerCheckpoint bool
	// sysctls is the sysctl allowlist: the kernel's safe sysctls and
	// allowedUnsafeSysctls.
	sysctls *kernel.Allowlist
	// memoryBackedVolumesOnDisk: swap is on and tmpfs cannot refuse it,
	// so memory-backed volumes may be swapped out.
	memoryBackedVolumesOnDisk bool
	// cgroupWarning is the kubelet's cgroup v1 warning, if any.
	cgroupWarning string
	// nodeStatusMaxImages is how many images status.images lists (-1: all).
	nodeStatusMaxImages int32
}

func newSettings(c *Config) (settings, error) {
	kc := c.KubeletConfig
	s := settings{
		statusUpdateFrequency: kc.NodeStatusUpdateFrequency.Duration,
		statusReportFrequency: kc.NodeStatusReportFrequency.Duration,
		evictionHard:          kc.EvictionHard,
		maxPods:               int64(kc.MaxPods),
		port:                  kc.Port,
		containerCheckpoint:   config.FeatureEnabled(kc.FeatureGates, config.GateContainerCheckpoint),
		leaseDurationSeconds:  kc.NodeLeaseDurationSeconds,
		nodeStatusMaxImages:   50,
	}
	if kc.NodeStatusMaxImages != nil {
		s.nodeStatusMaxImages = *kc.NodeStatusMaxImages
	}
	var err error
	if s.systemReserved, err = reservation(kc.SystemReserved); err != nil {
		return s, fmt.Errorf("node %s: systemReserved: %w", c.Name, err)
	}
	if s.kubeReserved, err = reservation(kc.KubeReserved); err != nil {
		return s, fmt.Errorf("node %s: kubeReserved: %w", c.Name, err)
	}
	kv, err := kernel.Parse(c.KernelVersion)
	if err != nil {
		return s, fmt.Errorf("node %s: %w", c.Name, err)
	}
	if s.sysctls, err = kernel.NewAllowlist(kv, kc.AllowedUnsafeSysctls); err != nil {
		return s, fmt.Errorf("node %s: allowedUnsafeSysctls: %w", c.Name, err)
	}
	failSwapOn := kc.FailSwapOn == nil || *kc.FailSwapOn
	if s.memoryBackedVolumesOnDisk, err = kernel.CheckSwap(kv, c.Swap, failSwapOn); err != nil {
		return s, fmt.Errorf("node %s: %w", c.Name, err)
	}
	failCgroupV1 := kc.FailCgroupV1 != nil && *kc.FailCgroupV1
	if s.cgroupWarning, err = kernel.CheckCgroup(c.CgroupVersion, failCgroupV1); err != nil {
		return s, fmt.Errorf("node %s: %w", c.Name, err)
	}
	return s, nil
}

// reservation parses systemReserved or kubeReserved.
func reservation(m map[string]string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for name, v := range m {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a quantity: %w", name, v, err)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}

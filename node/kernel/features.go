package kernel

import (
	"errors"
	"fmt"
)

// Event reasons and messages of the kubelet (pkg/kubelet/events, v1.37.2)
// that a kernel mismatch produces.
const (
	// ReasonFailedCreatePodSandBox is the Warning event of a sandbox the
	// runtime could not create.
	ReasonFailedCreatePodSandBox = "FailedCreatePodSandBox"
	// ReasonFailed is the Warning event reason of a container that could
	// not be created (events.FailedToCreateContainer).
	ReasonFailed = "Failed"
	// ReasonCreateContainerConfigError is the container's waiting reason
	// when its configuration cannot be generated
	// (kuberuntime.ErrCreateContainerConfig).
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	// ReasonPossibleMemoryBackedVolumesOnDisk is the Warning event on the
	// node when swap is on and tmpfs cannot be mounted noswap.
	ReasonPossibleMemoryBackedVolumesOnDisk = "PossibleMemoryBackedVolumesOnDisk"
	// MessagePossibleMemoryBackedVolumesOnDisk is that event's message
	// (pkg/kubelet/cm/container_manager_linux.go).
	MessagePossibleMemoryBackedVolumesOnDisk = "The tmpfs noswap option is not supported. Memory-backed volumes (e.g. secrets, emptyDirs, etc.) " +
		"might be swapped to disk and should no longer be considered secure."
	// ReasonCgroupV1 is the Warning event on the node the kubelet records
	// on a cgroup v1 host (pkg/kubelet/kubelet_linux.go cgroupVersionCheck).
	ReasonCgroupV1 = "CgroupV1"
	// CgroupV1Warning is that event's message and the warning the kubelet
	// logs (pkg/kubelet/cm CgroupV1DeprecatedWarning): cgroup v1 is in
	// maintenance mode, deprecated, to be removed.
	CgroupV1Warning = "cgroup v1 detected. cgroup v1 support is deprecated and will be removed in a future release. Please migrate to cgroup v2. More information at https://git.k8s.io/enhancements/keps/sig-node/5573-remove-cgroup-v1"
	// CgroupV1Refused is the kubelet's start-up error on a cgroup v1 host
	// while failCgroupV1 is true, its default since v1.35
	// (pkg/kubelet/apis/config/validation/validation_linux.go).
	CgroupV1Refused = "kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release"
	// SwapOnRefused is the kubelet's start-up error with swap on while
	// failSwapOn is true (pkg/kubelet/cm/container_manager_linux.go).
	SwapOnRefused = "running with swap on is not supported, please disable swap or set --fail-swap-on flag to false"
)

// RuntimeFeatures returns what the runtime handler reports on kernel v
// (status.runtimeHandlers[].features): user namespaces from 6.3,
// recursive read-only mounts from 5.12.
func RuntimeFeatures(v Version) (userNamespaces, recursiveReadOnlyMounts bool) {
	return v.AtLeast(minKernel(FeatureUserNamespaces)), v.AtLeast(minKernel(FeatureRecursiveReadOnlyMounts))
}

// SupportsTmpfsNoswap says whether tmpfs takes the noswap option on
// kernel v (6.4 and later).
func SupportsTmpfsNoswap(v Version) bool {
	return v.AtLeast(minKernel(FeatureTmpfsNoswap))
}

// UserNamespacesUnsupported is the sandbox error for a pod with
// hostUsers: false on a runtime handler without user namespaces
// (pkg/kubelet/userns/userns_manager.go); runtimeHandler is the pod's
// RuntimeClass handler, "" for the default.
func UserNamespacesUnsupported(runtimeHandler string) string {
	if runtimeHandler != "" {
		return fmt.Sprintf("can't set `spec.hostUsers: false`, RuntimeClass handler %q does not support user namespaces", runtimeHandler)
	}
	return "can't set `spec.hostUsers: false`, runtime does not support user namespaces"
}

// FailedCreatePodSandBoxMessage is the FailedCreatePodSandBox event's
// message for a sandbox error (pkg/kubelet/kuberuntime
// kuberuntime_manager.go): "Failed to create pod sandbox: ERR". The pod
// stays Pending and the kubelet retries.
func FailedCreatePodSandBoxMessage(err string) string {
	return "Failed to create pod sandbox: " + err
}

// RecursiveReadOnlyUnsupported is the container's CreateContainerConfigError
// message for a volume mount with recursiveReadOnly: Enabled on a runtime
// without support (pkg/kubelet/kubelet_pods.go makeMounts and
// resolveRecursiveReadOnly).
func RecursiveReadOnlyUnsupported(volumeName string) string {
	return fmt.Sprintf("failed to resolve recursive read-only mode: volume %q requested recursive read-only mode, but it is not supported by the runtime", volumeName)
}

// FailedContainerMessage is the Failed event's message for a container
// that could not be created: "Error: MSG" (kuberuntime_container.go).
func FailedContainerMessage(msg string) string {
	return "Error: " + msg
}

// ErrNFTablesKernel is kube-proxy's refusal to run in nftables mode on an
// old kernel (pkg/proxy/nftables/supported.go, wrapped by
// cmd/kube-proxy/app/server_linux.go).
var ErrNFTablesKernel = errors.New("unable to create proxier: kube-proxy in nftables mode requires kernel 5.13 or later")

// CheckKubeProxyNFTables says whether kube-proxy may run in nftables mode
// on kernel v. skipCheck is KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK
// set: kube-proxy then skips its 5.13 check, and works back to 5.4
// (older kernels lack the nftables features it uses; that refusal is
// nodesim's wording, as the real failure comes from nft itself).
func CheckKubeProxyNFTables(v Version, skipCheck bool) error {
	if !skipCheck {
		if v.LessThan(minKernel(FeatureKubeProxyNFTables)) {
			return ErrNFTablesKernel
		}
		return nil
	}
	if min := minKernel(FeatureKubeProxyNFTablesSkip); v.LessThan(min) {
		return fmt.Errorf("unable to create proxier: kube-proxy in nftables mode needs kernel %d.%d or later even with the kernel version check skipped, not %s", min.Major, min.Minor, v.Release)
	}
	return nil
}

// CheckCgroup says what the kubelet does on a host of cgroupVersion with
// failCgroupV1: an error when it refuses to start, else the warning it
// logs and records as a CgroupV1 event ("" for none).
func CheckCgroup(cgroupVersion int, failCgroupV1 bool) (warning string, err error) {
	switch cgroupVersion {
	case 2:
		return "", nil
	case 1:
		if failCgroupV1 {
			return "", errors.New(CgroupV1Refused)
		}
		return CgroupV1Warning, nil
	}
	return "", fmt.Errorf("unsupported cgroup version: %d", cgroupVersion)
}

// CheckSwap says what the kubelet does with swap on: an error when
// failSwapOn makes it refuse to start, else whether it records the
// PossibleMemoryBackedVolumesOnDisk warning (tmpfs noswap unsupported on
// kernel v).
func CheckSwap(v Version, swapOn, failSwapOn bool) (memoryBackedVolumesWarning bool, err error) {
	if !swapOn {
		return false, nil
	}
	if failSwapOn {
		return false, errors.New(SwapOnRefused)
	}
	return !SupportsTmpfsNoswap(v), nil
}

package kernel

// Fact is one kernel requirement and where upstream states it.
type Fact struct {
	// Name is the sysctl, or the feature for a feature row.
	Name string
	// MinKernel is the oldest kernel that has it ("" for every kernel).
	MinKernel string
	// Sysctl says the row is a safe sysctl (allowed to every pod).
	Sysctl bool
	// Source is the upstream file, KEP or document the row comes from.
	Source string
}

// Feature rows of Facts.
const (
	FeatureUserNamespaces          = "user namespaces (runtime handler)"
	FeatureRecursiveReadOnlyMounts = "recursive read-only mounts (runtime handler)"
	FeatureTmpfsNoswap             = "tmpfs noswap"
	FeatureKubeProxyNFTables       = "kube-proxy nftables mode"
	FeatureKubeProxyNFTablesSkip   = "kube-proxy nftables mode, kernel check skipped"
)

const (
	srcSafeSysctls = "kubernetes v1.37.2 pkg/kubelet/sysctl/safe_sysctls.go, versions from pkg/util/kernel/constants.go"
	srcKernelDoc   = "kubernetes.io/docs/reference/node/kernel-version-requirements"
)

// Facts returns the kernel facts nodesim uses, one row each, in the
// order upstream lists the safe sysctls, then the features.
func Facts() []Fact {
	return []Fact{
		{Name: "kernel.shm_rmid_forced", Sysctl: true, Source: srcSafeSysctls},
		{Name: "net.ipv4.ip_local_port_range", Sysctl: true, Source: srcSafeSysctls},
		{Name: "net.ipv4.tcp_syncookies", Sysctl: true, Source: srcSafeSysctls},
		{Name: "net.ipv4.ping_group_range", Sysctl: true, Source: srcSafeSysctls},
		{Name: "net.ipv4.ip_unprivileged_port_start", Sysctl: true, Source: srcSafeSysctls},
		{Name: "net.ipv4.ip_local_reserved_ports", MinKernel: "3.16", Sysctl: true, Source: srcSafeSysctls + " (IPLocalReservedPortsNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_keepalive_time", MinKernel: "4.5", Sysctl: true, Source: srcSafeSysctls + " (TCPKeepAliveTimeNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_fin_timeout", MinKernel: "4.6", Sysctl: true, Source: srcSafeSysctls + " (TCPFinTimeoutNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_keepalive_intvl", MinKernel: "4.5", Sysctl: true, Source: srcSafeSysctls + " (TCPKeepAliveIntervalNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_keepalive_probes", MinKernel: "4.5", Sysctl: true, Source: srcSafeSysctls + " (TCPKeepAliveProbesNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_rmem", MinKernel: "4.15", Sysctl: true, Source: srcSafeSysctls + " (TCPReceiveMemoryNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_wmem", MinKernel: "4.15", Sysctl: true, Source: srcSafeSysctls + " (TCPTransmitMemoryNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_slow_start_after_idle", MinKernel: "4.15", Sysctl: true, Source: srcSafeSysctls + " (TCPSlowStartAfterIdleNamespacedKernelVersion)"},
		{Name: "net.ipv4.tcp_notsent_lowat", MinKernel: "4.6", Sysctl: true, Source: srcSafeSysctls + " (TCPNotSentLowatNamespacedKernelVersion)"},
		// containerd and CRI-O report UserNamespaces in the runtime
		// handler features on idmap-mount capable kernels; the kubelet
		// refuses hostUsers: false otherwise (pkg/kubelet/userns).
		{Name: FeatureUserNamespaces, MinKernel: "6.3", Source: "KEP-127 (idmap mounts on tmpfs, 6.3); " + srcKernelDoc + "; kubelet pkg/kubelet/userns/userns_manager.go"},
		// mount_setattr(2) with AT_RECURSIVE.
		{Name: FeatureRecursiveReadOnlyMounts, MinKernel: "5.12", Source: "KEP-3857; " + srcKernelDoc + "; kubelet pkg/kubelet/kubelet_pods.go resolveRecursiveReadOnly"},
		{Name: FeatureTmpfsNoswap, MinKernel: "6.4", Source: "kubernetes v1.37.2 pkg/util/kernel/constants.go TmpfsNoswapSupportKernelVersion; pkg/kubelet/util/swap/swap_util.go"},
		{Name: FeatureKubeProxyNFTables, MinKernel: "5.13", Source: "kubernetes v1.37.2 pkg/util/kernel/constants.go NFTablesKubeProxyKernelVersion; pkg/proxy/nftables/supported.go"},
		{Name: FeatureKubeProxyNFTablesSkip, MinKernel: "5.4", Source: srcKernelDoc + " (KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK)"},
	}
}

// minKernel returns the minimum kernel of the named row.
func minKernel(name string) Version {
	for _, f := range Facts() {
		if f.Name == name {
			return MustParse(f.MinKernel)
		}
	}
	panic("kernel: no fact " + name)
}

package config

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logsapi "k8s.io/component-base/logs/api/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
)

// Defaults of the kubelet (v1.37.2) that are not plain literals in
// SetDefaults; named after upstream's constants.
const (
	// DefaultKubeletPort is port (pkg/cluster/ports.KubeletPort).
	DefaultKubeletPort = 10250
	// DefaultIPTablesMasqueradeBit and DefaultIPTablesDropBit are
	// iptablesMasqueradeBit and iptablesDropBit.
	DefaultIPTablesMasqueradeBit = 14
	DefaultIPTablesDropBit       = 15
	// DefaultVolumePluginDir is volumePluginDir.
	DefaultVolumePluginDir = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/"
	// DefaultPodLogsDir is podLogsDir.
	DefaultPodLogsDir = "/var/log/pods"
	// DefaultResolvConf is resolvConf (kubetypes.ResolvConfDefault).
	DefaultResolvConf = "/etc/resolv.conf"
	// DefaultOOMScoreAdj is oomScoreAdj (qos.KubeletOOMScoreAdj).
	DefaultOOMScoreAdj = -999
	// DefaultContainerRuntimeEndpoint is containerRuntimeEndpoint.
	DefaultContainerRuntimeEndpoint = "unix:///run/containerd/containerd.sock"
	// DefaultMaxContainerBackOff is crashLoopBackOff.maxContainerRestartPeriod
	// while the KubeletCrashLoopBackOffMax gate is on.
	DefaultMaxContainerBackOff = 300 * time.Second
)

// DefaultEvictionHard returns the kubelet's hard eviction thresholds on
// Linux (pkg/kubelet/eviction/defaults_linux.go), which the kubelet sets
// after loading its config file when the file has no evictionHard.
func DefaultEvictionHard() map[string]string {
	return map[string]string{
		"memory.available":   "100Mi",
		"nodefs.available":   "10%",
		"nodefs.inodesFree":  "5%",
		"imagefs.available":  "15%",
		"imagefs.inodesFree": "5%",
	}
}

// Default fills in every field of c that the kubelet defaults (upstream
// SetDefaults_KubeletConfiguration, v1.37.2), in the same order, so that
// fields whose default depends on another (nodeStatusReportFrequency on
// nodeStatusUpdateFrequency, serializeImagePulls on maxParallelImagePulls,
// gate-dependent ones on featureGates) come out as the kubelet's do.
func Default(c *kubeletconfigv1beta1.KubeletConfiguration) {
	gates := featureGates(c.FeatureGates)
	zero := metav1.Duration{}
	dur := func(f *metav1.Duration, d time.Duration) {
		if *f == zero {
			*f = metav1.Duration{Duration: d}
		}
	}
	str := func(f *string, v string) {
		if *f == "" {
			*f = v
		}
	}
	if c.EnableServer == nil {
		c.EnableServer = ptr.To(true)
	}
	dur(&c.SyncFrequency, time.Minute)
	dur(&c.FileCheckFrequency, 20*time.Second)
	dur(&c.HTTPCheckFrequency, 20*time.Second)
	str(&c.Address, "0.0.0.0")
	if c.Port == 0 {
		c.Port = DefaultKubeletPort
	}
	if c.Authentication.Anonymous.Enabled == nil {
		c.Authentication.Anonymous.Enabled = ptr.To(false)
	}
	if c.Authentication.Webhook.Enabled == nil {
		c.Authentication.Webhook.Enabled = ptr.To(true)
	}
	dur(&c.Authentication.Webhook.CacheTTL, 2*time.Minute)
	if c.Authorization.Mode == "" {
		c.Authorization.Mode = kubeletconfigv1beta1.KubeletAuthorizationModeWebhook
	}
	dur(&c.Authorization.Webhook.CacheAuthorizedTTL, 5*time.Minute)
	dur(&c.Authorization.Webhook.CacheUnauthorizedTTL, 30*time.Second)
	if c.RegistryPullQPS == nil {
		c.RegistryPullQPS = ptr.To[int32](5)
	}
	if c.RegistryBurst == 0 {
		c.RegistryBurst = 10
	}
	if c.EventRecordQPS == nil {
		c.EventRecordQPS = ptr.To[int32](50)
	}
	if c.EventBurst == 0 {
		c.EventBurst = 100
	}
	if c.EnableDebuggingHandlers == nil {
		c.EnableDebuggingHandlers = ptr.To(true)
	}
	if c.HealthzPort == nil {
		c.HealthzPort = ptr.To[int32](10248)
	}
	str(&c.HealthzBindAddress, "127.0.0.1")
	if c.OOMScoreAdj == nil {
		c.OOMScoreAdj = ptr.To[int32](DefaultOOMScoreAdj)
	}
	dur(&c.StreamingConnectionIdleTimeout, 4*time.Hour)
	if c.NodeStatusReportFrequency == zero {
		// As upstream, for backward compatibility: an explicit update
		// frequency is also the report frequency.
		if c.NodeStatusUpdateFrequency == zero {
			c.NodeStatusReportFrequency = metav1.Duration{Duration: 5 * time.Minute}
		} else {
			c.NodeStatusReportFrequency = c.NodeStatusUpdateFrequency
		}
	}
	dur(&c.NodeStatusUpdateFrequency, 10*time.Second)
	if c.NodeLeaseDurationSeconds == 0 {
		c.NodeLeaseDurationSeconds = 40
	}
	dur(&c.ImageMinimumGCAge, 2*time.Minute)
	if c.ImageGCHighThresholdPercent == nil {
		c.ImageGCHighThresholdPercent = ptr.To[int32](85)
	}
	if c.ImageGCLowThresholdPercent == nil {
		c.ImageGCLowThresholdPercent = ptr.To[int32](80)
	}
	dur(&c.VolumeStatsAggPeriod, time.Minute)
	if c.CgroupsPerQOS == nil {
		c.CgroupsPerQOS = ptr.To(true)
	}
	str(&c.CgroupDriver, "cgroupfs")
	str(&c.CPUManagerPolicy, "none")
	dur(&c.CPUManagerReconcilePeriod, 10*time.Second)
	str(&c.MemoryManagerPolicy, kubeletconfigv1beta1.NoneMemoryManagerPolicy)
	str(&c.TopologyManagerPolicy, kubeletconfigv1beta1.NoneTopologyManagerPolicy)
	str(&c.TopologyManagerScope, kubeletconfigv1beta1.ContainerTopologyManagerScope)
	dur(&c.RuntimeRequestTimeout, 2*time.Minute)
	str(&c.HairpinMode, kubeletconfigv1beta1.PromiscuousBridge)
	if c.MaxPods == 0 {
		c.MaxPods = 110
	}
	if c.PodPidsLimit == nil || *c.PodPidsLimit < 0 {
		c.PodPidsLimit = ptr.To[int64](-1)
	}
	if c.ResolverConfig == nil {
		c.ResolverConfig = ptr.To(DefaultResolvConf)
	}
	if c.CPUCFSQuota == nil {
		c.CPUCFSQuota = ptr.To(true)
	}
	if c.CPUCFSQuotaPeriod == nil {
		c.CPUCFSQuotaPeriod = &metav1.Duration{Duration: 100 * time.Millisecond}
	}
	if c.NodeStatusMaxImages == nil {
		c.NodeStatusMaxImages = ptr.To[int32](50)
	}
	if c.MaxOpenFiles == 0 {
		c.MaxOpenFiles = 1000000
	}
	str(&c.ContentType, "application/vnd.kubernetes.protobuf")
	if c.KubeAPIQPS == nil {
		c.KubeAPIQPS = ptr.To[int32](50)
	}
	if c.KubeAPIBurst == 0 {
		c.KubeAPIBurst = 100
	}
	if c.SerializeImagePulls == nil {
		// Serial pulls unless parallel pulls were asked for.
		c.SerializeImagePulls = ptr.To(c.MaxParallelImagePulls == nil || *c.MaxParallelImagePulls < 2)
	}
	dur(&c.EvictionPressureTransitionPeriod, 5*time.Minute)
	if c.MergeDefaultEvictionSettings == nil {
		c.MergeDefaultEvictionSettings = ptr.To(false)
	}
	if c.EnableControllerAttachDetach == nil {
		c.EnableControllerAttachDetach = ptr.To(true)
	}
	if c.MakeIPTablesUtilChains == nil {
		c.MakeIPTablesUtilChains = ptr.To(true)
	}
	if c.IPTablesMasqueradeBit == nil {
		c.IPTablesMasqueradeBit = ptr.To[int32](DefaultIPTablesMasqueradeBit)
	}
	if c.IPTablesDropBit == nil {
		c.IPTablesDropBit = ptr.To[int32](DefaultIPTablesDropBit)
	}
	if c.FailSwapOn == nil {
		c.FailSwapOn = ptr.To(true)
	}
	str(&c.ContainerLogMaxSize, "10Mi")
	if c.ContainerLogMaxFiles == nil {
		c.ContainerLogMaxFiles = ptr.To[int32](5)
	}
	if c.ContainerLogMaxWorkers == nil {
		c.ContainerLogMaxWorkers = ptr.To[int32](1)
	}
	if c.ContainerLogMonitorInterval == nil {
		c.ContainerLogMonitorInterval = &metav1.Duration{Duration: 10 * time.Second}
	}
	if c.ConfigMapAndSecretChangeDetectionStrategy == "" {
		c.ConfigMapAndSecretChangeDetectionStrategy = kubeletconfigv1beta1.WatchChangeDetectionStrategy
	}
	if c.EnforceNodeAllocatable == nil {
		c.EnforceNodeAllocatable = []string{"pods"}
	}
	str(&c.VolumePluginDir, DefaultVolumePluginDir)
	logsapi.SetRecommendedLoggingConfiguration(&c.Logging)
	if c.EnableSystemLogHandler == nil {
		c.EnableSystemLogHandler = ptr.To(true)
	}
	if c.EnableProfilingHandler == nil {
		c.EnableProfilingHandler = ptr.To(true)
	}
	if c.EnableDebugFlagsHandler == nil {
		c.EnableDebugFlagsHandler = ptr.To(true)
	}
	if c.SeccompDefault == nil {
		c.SeccompDefault = ptr.To(false)
	}
	if c.FailCgroupV1 == nil {
		c.FailCgroupV1 = ptr.To(true)
	}
	if c.MemoryReservationPolicy == "" {
		c.MemoryReservationPolicy = kubeletconfigv1beta1.NoneMemoryReservationPolicy
	}
	if c.RegisterNode == nil {
		c.RegisterNode = ptr.To(true)
	}
	if c.LocalStorageCapacityIsolation == nil {
		c.LocalStorageCapacityIsolation = ptr.To(true)
	}
	str(&c.ContainerRuntimeEndpoint, DefaultContainerRuntimeEndpoint)
	str(&c.PodLogsDir, DefaultPodLogsDir)
	if gates.enabled(GateKubeletCrashLoopBackOffMax) && c.CrashLoopBackOff.MaxContainerRestartPeriod == nil {
		c.CrashLoopBackOff.MaxContainerRestartPeriod = &metav1.Duration{Duration: DefaultMaxContainerBackOff}
	}
	if gates.enabled(GateKubeletEnsureSecretPulledImages) && c.ImagePullCredentialsVerificationPolicy == "" {
		c.ImagePullCredentialsVerificationPolicy = kubeletconfigv1beta1.NeverVerifyPreloadedImages
	}
	roundTrip(c)
}

// roundTrip gives c the shape the kubelet's configuration has after its
// conversion to the internal type and back (which the kubelet does after
// loading the file, and /configz shows): fields that are pointers in
// v1beta1 but plain values internally come back as pointers to their zero
// value.
func roundTrip(c *kubeletconfigv1beta1.KubeletConfiguration) {
	if c.EnableSystemLogQuery == nil {
		c.EnableSystemLogQuery = ptr.To(false)
	}
}

// evictionDefaults is what the kubelet does to evictionHard after loading
// its config file (cmd/kubelet/app/server.go loadConfigFile): the Linux
// defaults when the file has none, else the missing defaults too when
// mergeDefaultEvictionSettings is true.
func evictionDefaults(c *kubeletconfigv1beta1.KubeletConfiguration) {
	if c.EvictionHard == nil {
		c.EvictionHard = DefaultEvictionHard()
		return
	}
	if c.MergeDefaultEvictionSettings != nil && *c.MergeDefaultEvictionSettings {
		for k, v := range DefaultEvictionHard() {
			if _, ok := c.EvictionHard[k]; !ok {
				c.EvictionHard[k] = v
			}
		}
	}
}

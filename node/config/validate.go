package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilsysctl "k8s.io/component-helpers/node/util/sysctl"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
)

// Sysctl name patterns of allowedUnsafeSysctls (upstream
// pkg/apis/policy/validation IsValidSysctlPattern).
var sysctlPattern = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$`)

const (
	sysctlMaxLength     = 253
	sysctlPatternString = `([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`
)

// ValidSysctlPattern says whether s is a valid allowedUnsafeSysctls entry
// (a sysctl name, or a prefix ending in *).
func ValidSysctlPattern(s string) bool {
	return len(s) <= sysctlMaxLength && sysctlPattern.MatchString(s)
}

// evictionSignals are the kubelet's eviction signals
// (pkg/kubelet/eviction/api/types.go).
var evictionSignals = []string{
	"memory.available", "allocatableMemory.available", "nodefs.available", "nodefs.inodesFree",
	"imagefs.available", "imagefs.inodesFree", "containerfs.available", "containerfs.inodesFree", "pid.available",
}

// MinNodeStatusUpdateFrequency is the shortest nodeStatusUpdateFrequency
// nodesim runs. The kubelet checks only that it is positive, but below a
// second its loop spins: its heartbeat client's timeout is this frequency,
// too short for a round trip to an API server under load, and a
// nanosecond would make a virtual node's status loop a billion events per
// virtual second, so that a run never ends.
const MinNodeStatusUpdateFrequency = time.Second

// validate checks what the kubelet checks at start-up
// (pkg/kubelet/apis/config/validation, v1.37.2, and the parsing of
// reserved resources, eviction thresholds, the sysctl allowlist and the
// authorization mode in cmd/kubelet/app), with its messages. Checks of
// fields nodesim does not simulate (cgroup names, CPU sets, tracing) are
// left out.
func validate(c *kubeletconfigv1beta1.KubeletConfiguration) Errors {
	var errs Errors
	add := func(path string, format string, args ...any) {
		var p []string
		if path != "" {
			p = strings.Split(path, ".")
		}
		errs = append(errs, &Error{Path: p, Message: fmt.Sprintf(format, args...)})
	}
	addAt := func(p []string, format string, args ...any) {
		errs = append(errs, &Error{Path: p, Message: fmt.Sprintf(format, args...)})
	}
	gates := featureGates(c.FeatureGates)
	for _, p := range gates.check() {
		path := []string{"featureGates"}
		if p.gate != "" {
			path = append(path, p.gate)
		}
		addAt(path, "%s", p.msg)
	}
	i32 := func(p *int32) int32 { return ptr.Deref(p, 0) }

	if c.NodeLeaseDurationSeconds <= 0 {
		add("nodeLeaseDurationSeconds", "invalid configuration: nodeLeaseDurationSeconds must be greater than 0")
	}
	// Not checked by the kubelet, whose status loop would spin; nodesim
	// refuses a frequency it cannot schedule.
	switch d := c.NodeStatusUpdateFrequency.Duration; {
	case d <= 0:
		add("nodeStatusUpdateFrequency", "invalid configuration: nodeStatusUpdateFrequency must be greater than 0")
	case d < MinNodeStatusUpdateFrequency:
		add("nodeStatusUpdateFrequency", "invalid configuration: nodeStatusUpdateFrequency %v must be at least %v: nodesim schedules a status update per node that often", d, MinNodeStatusUpdateFrequency)
	}
	if c.NodeStatusReportFrequency.Duration <= 0 {
		add("nodeStatusReportFrequency", "invalid configuration: nodeStatusReportFrequency must be greater than 0")
	}
	if c.SyncFrequency.Duration <= 0 {
		add("syncFrequency", "invalid configuration: syncFrequency must be greater than 0")
	}
	if c.EventBurst < 0 {
		add("eventBurst", "invalid configuration: eventBurst (--event-burst) %v must not be a negative number", c.EventBurst)
	}
	if i32(c.EventRecordQPS) < 0 {
		add("eventRecordQPS", "invalid configuration: eventRecordQPS (--event-qps) %v must not be a negative number", i32(c.EventRecordQPS))
	}
	if hp := i32(c.HealthzPort); hp != 0 && !validPort(hp) {
		add("healthzPort", "invalid configuration: healthzPort (--healthz-port) %v must be between 1 and 65535, inclusive", hp)
	}
	if p := c.CPUCFSQuotaPeriod; p != nil {
		if !gates.enabled(GateCustomCPUCFSQuotaPeriod) && p.Duration != 100*time.Millisecond {
			add("cpuCFSQuotaPeriod", "invalid configuration: cpuCFSQuotaPeriod (--cpu-cfs-quota-period) %v requires feature gate CustomCPUCFSQuotaPeriod", *p)
		}
		if gates.enabled(GateCustomCPUCFSQuotaPeriod) && (p.Duration < time.Millisecond || p.Duration > time.Second) {
			add("cpuCFSQuotaPeriod", "invalid configuration: cpuCFSQuotaPeriod (--cpu-cfs-quota-period) %v must be between 1ms and 1sec, inclusive", *p)
		}
	}
	high, low := i32(c.ImageGCHighThresholdPercent), i32(c.ImageGCLowThresholdPercent)
	if high < 0 || high > 100 {
		add("imageGCHighThresholdPercent", "invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) %v must be between 0 and 100, inclusive", high)
	}
	if low < 0 || low > 100 {
		add("imageGCLowThresholdPercent", "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) %v must be between 0 and 100, inclusive", low)
	}
	if low >= high {
		add("imageGCLowThresholdPercent", "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) %v must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) %v", low, high)
	}
	if c.ImageMinimumGCAge.Duration < 0 {
		add("imageMinimumGCAge", "invalid configuration: imageMinimumGCAge %v must not be negative", c.ImageMinimumGCAge.Duration)
	}
	if c.ImageMaximumGCAge.Duration < 0 {
		add("imageMaximumGCAge", "invalid configuration: imageMaximumGCAge %v must not be negative", c.ImageMaximumGCAge.Duration)
	}
	if c.ImageMaximumGCAge.Duration > 0 && c.ImageMaximumGCAge.Duration <= c.ImageMinimumGCAge.Duration {
		add("imageMaximumGCAge", "invalid configuration: imageMaximumGCAge %v must be greater than imageMinimumGCAge %v", c.ImageMaximumGCAge.Duration, c.ImageMinimumGCAge.Duration)
	}
	if b := i32(c.IPTablesDropBit); b < 0 || b > 31 {
		add("iptablesDropBit", "invalid configuration: iptablesDropBit (--iptables-drop-bit) %v must be between 0 and 31, inclusive", b)
	}
	if b := i32(c.IPTablesMasqueradeBit); b < 0 || b > 31 {
		add("iptablesMasqueradeBit", "invalid configuration: iptablesMasqueradeBit (--iptables-masquerade-bit) %v must be between 0 and 31, inclusive", b)
	}
	if c.KubeAPIBurst < 0 {
		add("kubeAPIBurst", "invalid configuration: kubeAPIBurst (--kube-api-burst) %v must not be a negative number", c.KubeAPIBurst)
	}
	if i32(c.KubeAPIQPS) < 0 {
		add("kubeAPIQPS", "invalid configuration: kubeAPIQPS (--kube-api-qps) %v must not be a negative number", i32(c.KubeAPIQPS))
	}
	if n := i32(c.NodeStatusMaxImages); n < -1 {
		add("nodeStatusMaxImages", "invalid configuration: nodeStatusMaxImages (--node-status-max-images) %v must be -1 or greater", n)
	}
	if c.MaxOpenFiles < 0 {
		add("maxOpenFiles", "invalid configuration: maxOpenFiles (--max-open-files) %v must not be a negative number", c.MaxOpenFiles)
	}
	if c.MaxPods < 0 {
		add("maxPods", "invalid configuration: maxPods (--max-pods) %v must not be a negative number", c.MaxPods)
	}
	if o := i32(c.OOMScoreAdj); o < -1000 || o > 1000 {
		add("oomScoreAdj", "invalid configuration: oomScoreAdj (--oom-score-adj) %v must be between -1000 and 1000, inclusive", o)
	}
	if c.PodsPerCore < 0 {
		add("podsPerCore", "invalid configuration: podsPerCore (--pods-per-core) %v must not be a negative number", c.PodsPerCore)
	}
	if !validPort(c.Port) {
		add("port", "invalid configuration: port (--port) %v must be between 1 and 65535, inclusive", c.Port)
	}
	if c.ReadOnlyPort != 0 && !validPort(c.ReadOnlyPort) {
		add("readOnlyPort", "invalid configuration: readOnlyPort (--read-only-port) %v must be between 0 and 65535, inclusive", c.ReadOnlyPort)
	}
	if c.RegistryBurst < 0 {
		add("registryBurst", "invalid configuration: registryBurst (--registry-burst) %v must not be a negative number", c.RegistryBurst)
	}
	if i32(c.RegistryPullQPS) < 0 {
		add("registryPullQPS", "invalid configuration: registryPullQPS (--registry-qps) %v must not be a negative number", i32(c.RegistryPullQPS))
	}
	if m := c.MaxParallelImagePulls; m != nil && *m < 1 {
		add("maxParallelImagePulls", "invalid configuration: maxParallelImagePulls %v must be a positive number", *m)
	}
	if ptr.Deref(c.SerializeImagePulls, true) && c.MaxParallelImagePulls != nil && *c.MaxParallelImagePulls > 1 {
		add("maxParallelImagePulls", "invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls (--serialize-image-pulls) is set to false")
	}
	if c.RunOnce {
		add("runOnce", "invalid configuration: runOnce (--runOnce) %v, Runonce mode has been deprecated and should not be set", c.RunOnce)
	}
	if p := c.TopologyManagerPolicy; !slices.Contains([]string{"none", "best-effort", "restricted", "single-numa-node"}, p) {
		add("topologyManagerPolicy", "invalid configuration: topologyManagerPolicy (--topology-manager-policy) %q must be one of: %q", p, []string{"none", "best-effort", "restricted", "single-numa-node"})
	}
	if s := c.TopologyManagerScope; s != "container" && s != "pod" {
		add("topologyManagerScope", "invalid configuration: topologyManagerScope (--topology-manager-scope) %q must be one of: %q, or %q", s, "container", "pod")
	}
	if gates.enabled(GateGracefulNodeShutdown) {
		g, gc := c.ShutdownGracePeriod.Duration, c.ShutdownGracePeriodCriticalPods.Duration
		if gc > g {
			add("shutdownGracePeriodCriticalPods", "invalid configuration: shutdownGracePeriodCriticalPods %v must be <= shutdownGracePeriod %v", c.ShutdownGracePeriodCriticalPods, c.ShutdownGracePeriod)
		}
		if g < 0 || (g > 0 && g < time.Second) {
			add("shutdownGracePeriod", "invalid configuration: shutdownGracePeriod %v must be either zero or otherwise >= 1 sec", c.ShutdownGracePeriod)
		}
		if gc < 0 || (gc > 0 && gc < time.Second) {
			add("shutdownGracePeriodCriticalPods", "invalid configuration: shutdownGracePeriodCriticalPods %v must be either zero or otherwise >= 1 sec", c.ShutdownGracePeriodCriticalPods)
		}
	}
	switch c.MemorySwap.SwapBehavior {
	case "", "NoSwap", "LimitedSwap":
	default:
		add("memorySwap.swapBehavior", "invalid configuration: memorySwap.swapBehavior %q must be one of: \"\", %q or %q", c.MemorySwap.SwapBehavior, "LimitedSwap", "NoSwap")
	}
	if gates.enabled(GateKubeletCrashLoopBackOffMax) {
		m := c.CrashLoopBackOff.MaxContainerRestartPeriod
		if m == nil {
			add("crashLoopBackOff.maxContainerRestartPeriod", "invalid configuration: FeatureGate KubeletCrashLoopBackOffMax is enabled, CrashLoopBackOff.MaxContainerRestartPeriod must be set")
		} else if ms := m.Duration.Milliseconds(); ms < 1000 || ms > 300000 {
			add("crashLoopBackOff.maxContainerRestartPeriod", "invalid configuration: CrashLoopBackOff.MaxContainerRestartPeriod (got: %v seconds) must be set between 1s and 300s", m.Seconds())
		}
	} else if c.CrashLoopBackOff.MaxContainerRestartPeriod != nil {
		add("crashLoopBackOff.maxContainerRestartPeriod", "invalid configuration: FeatureGate KubeletCrashLoopBackOffMax not enabled, CrashLoopBackOff.MaxContainerRestartPeriod must not be set")
	}
	errs = append(errs, validateEnforceNodeAllocatable(c)...)
	switch c.HairpinMode {
	case kubeletconfigv1beta1.HairpinNone, kubeletconfigv1beta1.HairpinVeth, kubeletconfigv1beta1.PromiscuousBridge:
	default:
		add("hairpinMode", "invalid configuration: option %q specified for hairpinMode (--hairpin-mode). Valid options are %q, %q or %q",
			c.HairpinMode, kubeletconfigv1beta1.HairpinNone, kubeletconfigv1beta1.HairpinVeth, kubeletconfigv1beta1.PromiscuousBridge)
	}
	if c.ContainerRuntimeEndpoint == "" {
		add("containerRuntimeEndpoint", "invalid configuration: the containerRuntimeEndpoint was not specified or empty")
	}
	if w := c.ContainerLogMaxWorkers; w != nil && *w < 1 {
		add("containerLogMaxWorkers", "invalid configuration: containerLogMaxWorkers must be greater than or equal to 1")
	}
	if i := c.ContainerLogMonitorInterval; i != nil && i.Duration < 3*time.Second {
		add("containerLogMonitorInterval", "invalid configuration: containerLogMonitorInterval must be a positive time duration greater than or equal to 3s")
	}
	if f := c.ContainerLogMaxFiles; f != nil && *f <= 1 {
		add("containerLogMaxFiles", "invalid configuration: containerLogMaxFiles must be greater than 1")
	}
	// cmd/kubelet/app/auth.go BuildAuthz.
	switch c.Authorization.Mode {
	case kubeletconfigv1beta1.KubeletAuthorizationModeAlwaysAllow, kubeletconfigv1beta1.KubeletAuthorizationModeWebhook:
	default:
		add("authorization.mode", "unknown authorization mode %s", c.Authorization.Mode)
	}
	// cmd/kubelet/app/server.go parseResourceList.
	for _, f := range []struct {
		name string
		rl   map[string]string
	}{{"systemReserved", c.SystemReserved}, {"kubeReserved", c.KubeReserved}} {
		for _, k := range sortedKeys(f.rl) {
			if msg := checkReserved(k, f.rl[k]); msg != "" {
				addAt([]string{f.name, k}, "%s", msg)
			}
		}
	}
	// pkg/kubelet/eviction ParseThresholdConfig.
	for _, f := range []struct {
		name string
		m    map[string]string
	}{{"evictionHard", c.EvictionHard}, {"evictionSoft", c.EvictionSoft}} {
		for _, k := range sortedKeys(f.m) {
			if msg := checkThreshold(k, f.m[k]); msg != "" {
				addAt([]string{f.name, k}, "%s", msg)
			}
		}
	}
	for _, k := range sortedKeys(c.EvictionSoft) {
		if _, ok := c.EvictionSoftGracePeriod[k]; !ok {
			addAt([]string{"evictionSoft", k}, "grace period must be specified for the soft eviction threshold %v", k)
		}
	}
	// pkg/kubelet/sysctl NewAllowlist, over the unsafe sysctls.
	for i, s := range c.AllowedUnsafeSysctls {
		p := []string{"allowedUnsafeSysctls"}
		if msg := checkSysctlPattern(s); msg != "" {
			addAt(p, "allowedUnsafeSysctls[%d]: %s", i, msg)
		}
	}
	return errs
}

func validPort[T int32 | int](p T) bool { return p >= 1 && p <= 65535 }

func validateEnforceNodeAllocatable(c *kubeletconfigv1beta1.KubeletConfiguration) Errors {
	var errs Errors
	add := func(format string, args ...any) {
		errs = append(errs, &Error{Path: []string{"enforceNodeAllocatable"}, Message: fmt.Sprintf(format, args...)})
	}
	has := func(v string) bool { return slices.Contains(c.EnforceNodeAllocatable, v) }
	if has("system-reserved") && has("system-reserved-compressible") {
		add("invalid configuration: both %q and %q cannot be specified together in enforceNodeAllocatable (--enforce-node-allocatable)", "system-reserved", "system-reserved-compressible")
	}
	if has("kube-reserved") && has("kube-reserved-compressible") {
		add("invalid configuration: both %q and %q cannot be specified together in enforceNodeAllocatable (--enforce-node-allocatable)", "kube-reserved", "kube-reserved-compressible")
	}
	seen := map[string]bool{}
	for _, v := range c.EnforceNodeAllocatable {
		if seen[v] {
			add("invalid configuration: duplicated enforcements %q in enforceNodeAllocatable (--enforce-node-allocatable)", v)
			continue
		}
		seen[v] = true
		switch v {
		case "pods":
		case "system-reserved", "system-reserved-compressible":
			if c.SystemReservedCgroup == "" {
				add("invalid configuration: systemReservedCgroup (--system-reserved-cgroup) must be specified when %q or %q included in enforceNodeAllocatable (--enforce-node-allocatable)", "system-reserved", "system-reserved-compressible")
			}
		case "kube-reserved", "kube-reserved-compressible":
			if c.KubeReservedCgroup == "" {
				add("invalid configuration: kubeReservedCgroup (--kube-reserved-cgroup) must be specified when %q or %q included in enforceNodeAllocatable (--enforce-node-allocatable)", "kube-reserved", "kube-reserved-compressible")
			}
		case "none":
			if len(c.EnforceNodeAllocatable) > 1 {
				add("invalid configuration: enforceNodeAllocatable (--enforce-node-allocatable) may not contain additional enforcements when %q is specified", "none")
			}
			continue
		default:
			add("invalid configuration: option %q specified for enforceNodeAllocatable (--enforce-node-allocatable). Valid options are %q, %q, %q, %q, %q or %q",
				v, "pods", "system-reserved", "system-reserved-compressible", "kube-reserved", "kube-reserved-compressible", "none")
			continue
		}
		if !ptr.Deref(c.CgroupsPerQOS, true) {
			add("invalid configuration: cgroupsPerQOS (--cgroups-per-qos) must be set to true when %q contained in enforceNodeAllocatable (--enforce-node-allocatable)", v)
		}
	}
	return errs
}

// checkReserved checks a systemReserved or kubeReserved entry as the
// kubelet parses it.
func checkReserved(k, v string) string {
	switch corev1.ResourceName(k) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage, "pid":
	default:
		return fmt.Sprintf("cannot reserve %q resource", k)
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Sprintf("failed to parse quantity %q for %q resource: %v", v, k, err)
	}
	if q.Sign() < 0 {
		return fmt.Sprintf("resource quantity for %q cannot be negative: %v", k, v)
	}
	return ""
}

// checkThreshold checks an eviction threshold as the kubelet parses it.
func checkThreshold(signal, val string) string {
	if !slices.Contains(evictionSignals, signal) {
		return fmt.Sprintf("unsupported eviction signal %v", signal)
	}
	if pct, ok := strings.CutSuffix(val, "%"); ok {
		f, err := strconv.ParseFloat(pct, 32)
		if err != nil {
			return fmt.Sprintf("invalid eviction percentage threshold %v: %s", signal, val)
		}
		if f < 0 {
			return fmt.Sprintf("eviction percentage threshold %v must be >= 0%%: %s", signal, val)
		}
		if f > 100 {
			return fmt.Sprintf("eviction percentage threshold %v must be <= 100%%: %s", signal, val)
		}
		return ""
	}
	q, err := resource.ParseQuantity(val)
	if err != nil {
		return err.Error()
	}
	if q.Sign() <= 0 {
		return fmt.Sprintf("eviction threshold %v must be positive: %s", signal, &q)
	}
	return ""
}

// checkSysctlPattern checks an allowedUnsafeSysctls entry as the kubelet's
// sysctl allowlist does (pkg/kubelet/sysctl/allowlist.go NewAllowlist).
func checkSysctlPattern(s string) string {
	if !ValidSysctlPattern(s) {
		return fmt.Sprintf("sysctl %q must have at most %d characters and match regex %s", s, sysctlMaxLength, sysctlPatternString)
	}
	if ns, sysctlOrPrefix, _ := utilsysctl.GetNamespace(s); ns == utilsysctl.UnknownNamespace {
		return fmt.Sprintf("the sysctls %q are not known to be namespaced", sysctlOrPrefix)
	}
	return ""
}

package scenarios

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Checks of single values. Each returns "" when the value is good, else
// what is wrong with it.

var (
	kubernetesVersion = regexp.MustCompile(`^1\.([0-9]{1,3})$`)
	// A kernel release as uname -r prints it: it must start with
	// MAJOR.MINOR, which the kernel model compares against.
	kernelVersion  = regexp.MustCompile(`^[0-9]{1,4}\.[0-9]{1,4}(\.[0-9]{1,6})?([-+.~_][0-9A-Za-z._+~-]*)?$`)
	runtimeVersion = regexp.MustCompile(`^(containerd|cri-o)://[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}([-+][0-9A-Za-z.+-]+)?$`)
)

// maxKernelVersion is the longest kernel release string (the kernel's
// utsname release field holds 64 characters).
const maxKernelVersion = 64

// maxOSImage bounds status.nodeInfo.osImage; /etc/os-release PRETTY_NAMEs
// are far shorter.
const maxOSImage = 256

func checkKubernetesVersion(v string) string {
	m := kubernetesVersion.FindStringSubmatch(v)
	if m == nil {
		return fmt.Sprintf("must be a release such as %q (quote it), not %q", DefaultKubernetesVersion, v)
	}
	minor, _ := strconv.Atoi(m[1])
	if minor < MinKubernetesMinor || minor > MaxKubernetesMinor || m[1] != strconv.Itoa(minor) {
		return fmt.Sprintf("release %q is not supported: nodesim models 1.%d to 1.%d", v, MinKubernetesMinor, MaxKubernetesMinor)
	}
	return ""
}

func checkKernelVersion(v string) string {
	if len(v) > maxKernelVersion || !kernelVersion.MatchString(v) {
		return fmt.Sprintf("must be a kernel release such as %q (MAJOR.MINOR first), not %q", DefaultKernelVersion, v)
	}
	return ""
}

func checkOSImage(v string) string {
	switch {
	case strings.TrimSpace(v) == "":
		return "must not be empty"
	case len(v) > maxOSImage:
		return fmt.Sprintf("longer than %d characters", maxOSImage)
	case strings.ContainsFunc(v, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}

// kubeletLabels are the labels in the kubernetes.io and k8s.io namespaces
// that a kubelet may set on its own node (--node-labels); others there are
// refused, as the kubelet refuses to start with them.
var kubeletLabels = []string{
	"beta.kubernetes.io/arch",
	corev1.LabelInstanceType,
	"beta.kubernetes.io/os",
	corev1.LabelFailureDomainBetaRegion,
	corev1.LabelFailureDomainBetaZone,
	corev1.LabelArchStable,
	corev1.LabelHostname,
	corev1.LabelOSStable,
	corev1.LabelInstanceTypeStable,
	corev1.LabelTopologyRegion,
	corev1.LabelTopologyZone,
}

// kubeletLabelNamespaces are the namespaces (and their sub-domains) under
// kubernetes.io where a kubelet may set any label.
var kubeletLabelNamespaces = []string{corev1.LabelNamespaceSuffixKubelet, corev1.LabelNamespaceSuffixNode}

func checkLabel(key, value string) string {
	if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
		return fmt.Sprintf("invalid label key %q: %s", key, msgs[0])
	}
	if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
		return fmt.Sprintf("invalid label value %q: %s", value, msgs[0])
	}
	if isKubernetesLabel(key) && !isKubeletLabel(key) {
		return fmt.Sprintf("a kubelet may not set %q on its node: in the kubernetes.io and k8s.io namespaces only labels under %s and well-known ones such as %s are allowed",
			key, strings.Join(kubeletLabelNamespaces, " or "), corev1.LabelTopologyZone)
	}
	return ""
}

func labelNamespace(key string) string {
	ns, _, found := strings.Cut(key, "/")
	if !found {
		return ""
	}
	return ns
}

func isKubernetesLabel(key string) bool {
	ns := labelNamespace(key)
	return ns == "kubernetes.io" || strings.HasSuffix(ns, ".kubernetes.io") ||
		ns == "k8s.io" || strings.HasSuffix(ns, ".k8s.io")
}

func isKubeletLabel(key string) bool {
	for _, l := range kubeletLabels {
		if key == l {
			return true
		}
	}
	ns := labelNamespace(key)
	for _, allowed := range kubeletLabelNamespaces {
		if ns == allowed || strings.HasSuffix(ns, "."+allowed) {
			return true
		}
	}
	return false
}

// parseTaint parses the kubelet flag form "key[=value]:Effect".
func parseTaint(s string) (corev1.Taint, string) {
	kv, effect, found := strings.Cut(s, ":")
	if !found {
		return corev1.Taint{}, fmt.Sprintf("invalid taint %q: write key=value:Effect, key:Effect or a mapping with key, value and effect", s)
	}
	key, value, _ := strings.Cut(kv, "=")
	t := corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffect(effect)}
	return t, checkTaint(t)
}

func checkTaint(t corev1.Taint) string {
	if msgs := validation.IsQualifiedName(t.Key); len(msgs) > 0 {
		return fmt.Sprintf("invalid taint key %q: %s", t.Key, msgs[0])
	}
	if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
		return fmt.Sprintf("invalid taint value %q: %s", t.Value, msgs[0])
	}
	switch t.Effect {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return ""
	}
	return fmt.Sprintf("invalid taint effect %q: must be NoSchedule, PreferNoSchedule or NoExecute", t.Effect)
}

// checkResourceName accepts what a node's capacity can hold: cpu, memory,
// pods, ephemeral-storage, hugepages-<size> and extended resources
// (<domain>/<name> outside kubernetes.io, as device plugins advertise).
func checkResourceName(name string) string {
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods, corev1.ResourceEphemeralStorage:
		return ""
	}
	if size, ok := strings.CutPrefix(name, corev1.ResourceHugePagesPrefix); ok {
		if q, err := resource.ParseQuantity(size); err != nil || q.Sign() <= 0 {
			return fmt.Sprintf("invalid huge page size %q: write hugepages-2Mi or hugepages-1Gi", size)
		}
		return ""
	}
	if !strings.Contains(name, "/") {
		return fmt.Sprintf("unknown resource %q: use cpu, memory, pods, ephemeral-storage, hugepages-<size>, or an extended resource with a domain such as example.com/gpu", name)
	}
	if msgs := validation.IsQualifiedName(name); len(msgs) > 0 {
		return fmt.Sprintf("invalid resource name %q: %s", name, msgs[0])
	}
	if isKubernetesLabel(name) || strings.HasPrefix(name, corev1.DefaultResourceRequestsPrefix) {
		return fmt.Sprintf("invalid resource name %q: extended resources must not be in the kubernetes.io or k8s.io namespaces", name)
	}
	return ""
}

// checkQuantity parses a capacity value: a quantity >= 0; pods and extended
// resources count whole things.
func checkQuantity(name corev1.ResourceName, v string) (resource.Quantity, string) {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return q, fmt.Sprintf("invalid quantity %q: write it as \"8\", 500m, 32Gi or 1e3", v)
	}
	if q.Sign() < 0 {
		return q, fmt.Sprintf("must not be negative, not %q", v)
	}
	whole := name == corev1.ResourcePods || strings.Contains(string(name), "/")
	if _, ok := q.AsInt64(); whole && !ok {
		return q, fmt.Sprintf("must be a whole number, not %q", v)
	}
	return q, ""
}

// checkExtendedResource accepts what a device plugin may advertise: an
// extended resource name, domain/name, outside kubernetes.io.
func checkExtendedResource(name string) string {
	if !strings.Contains(name, "/") {
		return fmt.Sprintf("invalid resource name %q: a device plugin advertises an extended resource, domain/name, such as example.com/gpu", name)
	}
	return checkResourceName(name)
}

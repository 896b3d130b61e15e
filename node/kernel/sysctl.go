package kernel

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilsysctl "k8s.io/component-helpers/node/util/sysctl"
)

// ReasonSysctlForbidden is the pod status reason of a pod the sysctl
// admission refuses (pkg/kubelet/sysctl ForbiddenReason).
const ReasonSysctlForbidden = "SysctlForbidden"

// SafeSysctls returns the safe sysctls kernel v supports, in upstream's
// order (SafeSysctlAllowlist).
func SafeSysctls(v Version) []string {
	var out []string
	for _, f := range Facts() {
		if f.Sysctl && (f.MinKernel == "" || v.AtLeast(MustParse(f.MinKernel))) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Allowlist is the kubelet's sysctl admission handler
// (pkg/kubelet/sysctl/allowlist.go): the safe sysctls of the node's
// kernel plus allowedUnsafeSysctls, each a name or a prefix ending in *,
// each known to be namespaced.
type Allowlist struct {
	sysctls  map[string]utilsysctl.Namespace
	prefixes []prefix // sorted, so that the first match is always the same
}

type prefix struct {
	p  string
	ns utilsysctl.Namespace
}

// NewAllowlist builds the allowlist of a node with kernel v and the given
// allowedUnsafeSysctls; it fails as the kubelet fails to start on a
// pattern that is malformed or not namespaced.
func NewAllowlist(v Version, allowedUnsafeSysctls []string) (*Allowlist, error) {
	a := &Allowlist{sysctls: map[string]utilsysctl.Namespace{}}
	for _, s := range append(SafeSysctls(v), allowedUnsafeSysctls...) {
		if !validSysctlPattern(s) {
			return nil, fmt.Errorf("sysctl %q must have at most %d characters and match regex %s", s, sysctlMaxLength, sysctlPatternString)
		}
		ns, nameOrPrefix, prefixed := utilsysctl.GetNamespace(s)
		if ns == utilsysctl.UnknownNamespace {
			return nil, fmt.Errorf("the sysctls %q are not known to be namespaced", nameOrPrefix)
		}
		if prefixed {
			a.prefixes = append(a.prefixes, prefix{nameOrPrefix, ns})
		} else {
			a.sysctls[nameOrPrefix] = ns
		}
	}
	slices.SortFunc(a.prefixes, func(x, y prefix) int { return strings.Compare(x.p, y.p) })
	return a, nil
}

// check is validateSysctl: allowed, and not in a namespace the pod
// shares with the host.
func (a *Allowlist) check(name string, hostNet, hostIPC, hostUsers bool) error {
	name = utilsysctl.NormalizeName(name)
	ns, found := a.sysctls[name]
	if !found {
		for _, p := range a.prefixes {
			if strings.HasPrefix(name, p.p) {
				ns, found = p.ns, true
				break
			}
		}
	}
	if !found {
		return fmt.Errorf("%q not allowlisted", name)
	}
	if (ns == utilsysctl.IPCNamespace && hostIPC) || (ns == utilsysctl.NetNamespace && hostNet) || (ns == utilsysctl.UserNamespace && hostUsers) {
		return fmt.Errorf("%q not allowed with host %s enabled", name, ns)
	}
	return nil
}

// Admit decides a pod as the kubelet's sysctl admit handler does: ok, or
// the reason (SysctlForbidden) and message ("forbidden sysctl: ...") the
// pod fails with (phase Failed).
func (a *Allowlist) Admit(pod *corev1.Pod) (ok bool, reason, message string) {
	sc := pod.Spec.SecurityContext
	if sc == nil || len(sc.Sysctls) == 0 {
		return true, "", ""
	}
	// hostUsers defaults to true: a nil HostUsers shares the host's.
	hostUsers := pod.Spec.HostUsers == nil || *pod.Spec.HostUsers
	for _, s := range sc.Sysctls {
		if err := a.check(s.Name, pod.Spec.HostNetwork, pod.Spec.HostIPC, hostUsers); err != nil {
			return false, ReasonSysctlForbidden, fmt.Sprintf("forbidden sysctl: %v", err)
		}
	}
	return true, "", ""
}

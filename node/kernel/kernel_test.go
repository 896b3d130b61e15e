package kernel_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/node/kernel"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"6.8.0-60-generic", "6.8.0"}, {"4.4.0", "4.4.0"}, {"5.15.0-139-generic", "5.15.0"},
		{"6.8", "6.8.0"}, {"5.14.0-427.13.1.el9_4.x86_64", "5.14.0"}, {"6.1.0+rpt-rpi-v8", "6.1.0"},
	} {
		v, err := kernel.Parse(tc.in)
		if err != nil || v.String() != tc.want || v.Release != tc.in {
			t.Errorf("Parse(%q) = %v (%q), %v; want %s", tc.in, v, v.Release, err, tc.want)
		}
	}
	for _, bad := range []string{"", "latest", "6", "v"} {
		if _, err := kernel.Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
	a, b := kernel.MustParse("5.4.0"), kernel.MustParse("5.13.0-1-aws")
	if !a.LessThan(b) || b.LessThan(a) || !b.AtLeast(a) || !a.AtLeast(a) || a.Compare(b) != -1 {
		t.Error("5.4 < 5.13 (numerically, not as strings)")
	}
}

func TestFactsHaveSources(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range kernel.Facts() {
		if f.Source == "" || seen[f.Name] {
			t.Errorf("fact %q: no source or duplicate", f.Name)
		}
		seen[f.Name] = true
		if f.MinKernel != "" {
			kernel.MustParse(f.MinKernel)
		}
	}
}

func TestSafeSysctls(t *testing.T) {
	old := kernel.SafeSysctls(kernel.MustParse("4.4.0"))
	for _, want := range []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_reserved_ports"} {
		if !slices.Contains(old, want) {
			t.Errorf("4.4 lacks %s", want)
		}
	}
	for _, not := range []string{"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_rmem"} {
		if slices.Contains(old, not) {
			t.Errorf("4.4 has %s", not)
		}
	}
	if got := len(kernel.SafeSysctls(kernel.MustParse("6.8.0-60-generic"))); got != 14 {
		t.Errorf("6.8: %d safe sysctls, want all 14", got)
	}
	if got := kernel.SafeSysctls(kernel.MustParse("4.5.0")); !slices.Contains(got, "net.ipv4.tcp_keepalive_time") || slices.Contains(got, "net.ipv4.tcp_fin_timeout") {
		t.Errorf("4.5: %v", got)
	}
}

func pod(sysctls ...string) *corev1.Pod {
	p := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{}}}
	for _, s := range sysctls {
		p.Spec.SecurityContext.Sysctls = append(p.Spec.SecurityContext.Sysctls, corev1.Sysctl{Name: s, Value: "1"})
	}
	return p
}

func TestAdmit(t *testing.T) {
	old, newer := kernel.MustParse("4.4.0"), kernel.MustParse("6.8.0-60-generic")
	for _, tc := range []struct {
		name    string
		kernel  kernel.Version
		unsafe  []string
		pod     *corev1.Pod
		message string // "" admitted
	}{
		{"no sysctls", old, nil, &corev1.Pod{}, ""},
		{"safe everywhere", old, nil, pod("kernel.shm_rmid_forced"), ""},
		{"too new for 4.4", old, nil, pod("net.ipv4.tcp_keepalive_time"), `forbidden sysctl: "net.ipv4.tcp_keepalive_time" not allowlisted`},
		{"fine on 6.8", newer, nil, pod("net.ipv4.tcp_keepalive_time"), ""},
		{"slash form normalized", newer, nil, pod("net/ipv4/tcp_keepalive_time"), ""},
		{"unsafe not allowed", newer, nil, pod("net.core.somaxconn"), `forbidden sysctl: "net.core.somaxconn" not allowlisted`},
		{"unsafe allowed by name", newer, []string{"net.core.somaxconn"}, pod("net.core.somaxconn"), ""},
		{"unsafe allowed by prefix", old, []string{"net.ipv4.route.*"}, pod("net.ipv4.route.min_pmtu"), ""},
		{"host network", newer, nil, func() *corev1.Pod { p := pod("net.ipv4.tcp_syncookies"); p.Spec.HostNetwork = true; return p }(),
			`forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host Net enabled`},
		{"host IPC", newer, nil, func() *corev1.Pod { p := pod("kernel.shm_rmid_forced"); p.Spec.HostIPC = true; return p }(),
			`forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host IPC enabled`},
		{"user namespace sysctl with host users", newer, []string{"user.max_user_namespaces"}, pod("user.max_user_namespaces"),
			`forbidden sysctl: "user.max_user_namespaces" not allowed with host User enabled`},
		{"user namespace sysctl in a user namespace", newer, []string{"user.max_user_namespaces"},
			func() *corev1.Pod { p := pod("user.max_user_namespaces"); p.Spec.HostUsers = ptr.To(false); return p }(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := kernel.NewAllowlist(tc.kernel, tc.unsafe)
			if err != nil {
				t.Fatal(err)
			}
			ok, reason, msg := a.Admit(tc.pod)
			if ok != (tc.message == "") || msg != tc.message || (!ok && reason != kernel.ReasonSysctlForbidden) {
				t.Errorf("Admit = %v %q %q, want message %q", ok, reason, msg, tc.message)
			}
		})
	}
	for _, bad := range []string{"vm.swappiness", "net.*.x", "Net.core"} {
		if _, err := kernel.NewAllowlist(newer, []string{bad}); err == nil {
			t.Errorf("NewAllowlist(%q): no error", bad)
		}
	}
}

func TestFeatures(t *testing.T) {
	for _, tc := range []struct {
		kernel       string
		userns, rro  bool
		noswap       bool
		nft, nftSkip bool
	}{
		{"4.4.0", false, false, false, false, false},
		{"5.4.0-200-generic", false, false, false, false, true},
		{"5.12.0", false, true, false, false, true},
		{"5.13.0", false, true, false, true, true},
		{"6.2.0", false, true, false, true, true},
		{"6.3.0", true, true, false, true, true},
		{"6.4.0", true, true, true, true, true},
		{"6.8.0-60-generic", true, true, true, true, true},
	} {
		v := kernel.MustParse(tc.kernel)
		userns, rro := kernel.RuntimeFeatures(v)
		nft := kernel.CheckKubeProxyNFTables(v, false) == nil
		nftSkip := kernel.CheckKubeProxyNFTables(v, true) == nil
		if userns != tc.userns || rro != tc.rro || kernel.SupportsTmpfsNoswap(v) != tc.noswap || nft != tc.nft || nftSkip != tc.nftSkip {
			t.Errorf("%s: userns %v rro %v noswap %v nft %v nftSkip %v; want %+v", tc.kernel, userns, rro, kernel.SupportsTmpfsNoswap(v), nft, nftSkip, tc)
		}
	}
	if err := kernel.CheckKubeProxyNFTables(kernel.MustParse("5.10.0"), false); err == nil || err.Error() != "unable to create proxier: kube-proxy in nftables mode requires kernel 5.13 or later" {
		t.Errorf("nftables error = %v", err)
	}
}

func TestMessages(t *testing.T) {
	if got := kernel.FailedCreatePodSandBoxMessage(kernel.UserNamespacesUnsupported("")); got != "Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces" {
		t.Error(got)
	}
	if got := kernel.UserNamespacesUnsupported("kata"); !strings.Contains(got, `RuntimeClass handler "kata" does not support user namespaces`) {
		t.Error(got)
	}
	if got := kernel.RecursiveReadOnlyUnsupported("data"); got != `failed to resolve recursive read-only mode: volume "data" requested recursive read-only mode, but it is not supported by the runtime` {
		t.Error(got)
	}
	if w, err := kernel.CheckCgroup(1, false); err != nil || w != kernel.CgroupV1Warning {
		t.Errorf("cgroup v1 allowed: %q %v", w, err)
	}
	if _, err := kernel.CheckCgroup(1, true); err == nil || err.Error() != kernel.CgroupV1Refused {
		t.Errorf("cgroup v1 refused: %v", err)
	}
	if w, err := kernel.CheckCgroup(2, true); w != "" || err != nil {
		t.Errorf("cgroup v2: %q %v", w, err)
	}
	if warn, err := kernel.CheckSwap(kernel.MustParse("6.1.0"), true, false); !warn || err != nil {
		t.Errorf("swap on 6.1: %v %v", warn, err)
	}
	if warn, _ := kernel.CheckSwap(kernel.MustParse("6.8.0"), true, false); warn {
		t.Error("swap on 6.8 warns")
	}
	if _, err := kernel.CheckSwap(kernel.MustParse("6.8.0"), true, true); err == nil {
		t.Error("failSwapOn: no error")
	}
}

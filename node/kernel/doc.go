// Package kernel models what a node's kernel release and cgroup version
// decide in the kubelet, the runtime and kube-proxy (v1.37): which safe
// sysctls exist, whether the runtime handler supports user namespaces and
// recursive read-only mounts, whether tmpfs can be mounted noswap, whether
// kube-proxy may run in nftables mode, and what cgroup v1 gives. Every
// fact is in one table (Facts) with its upstream source; the messages are
// the kubelet's and kube-proxy's own.
//
// It is pure: no clock, no I/O, no package-level mutable state.
package kernel

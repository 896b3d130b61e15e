// Package config loads a node pool's kubelet configuration the way the
// kubelet loads its --config file and --config-dir drop-ins: the base
// KubeletConfiguration (k8s.io/kubelet/config/v1beta1) decoded strictly and
// defaulted as the kubelet defaults it, then each drop-in ending in .conf,
// in lexical order, applied as a JSON merge patch (RFC 7386) to the
// defaulted base, then defaulted again and validated.
//
// It is pure: no clock, no goroutines, no package-level mutable state; the
// only I/O is ReadDir, which reads a real drop-in directory. It must not
// import k8s.io/kubernetes: the defaulting and validation here are written
// after upstream's pkg/kubelet/apis/config/v1beta1/defaults.go,
// pkg/kubelet/apis/config/validation and cmd/kubelet/app/server.go
// (v1.37.2), and tested against upstream's defaulted test data.
package config

// Package validation checks the objects that nodesim's embedded API server
// stores — core/v1 Node, Pod, Namespace, Event and Binding, coordination/v1
// Lease and policy/v1 Eviction — before they are written.
//
// The rules, field paths, error types and messages mirror kube-apiserver's
// (pkg/apis/core/validation and pkg/apis/coordination/validation in
// Kubernetes v1.37) for the subset of each resource that nodesim serves, so
// that a client sees the same 422 Invalid response from nodesim as from a real
// cluster. Where upstream reports an odd path (for example "metadata.taints"
// for a node's spec.taints), the odd path is kept on purpose and commented at
// the call site.
//
// The package works on the versioned k8s.io/api types, not on kube-apiserver's
// internal types, and it does no defaulting. Fields that kube-apiserver
// defaults before it validates (a pod's restartPolicy, dnsPolicy,
// terminationGracePeriodSeconds, a container's imagePullPolicy and
// terminationMessagePolicy, a port's protocol) are therefore accepted when
// empty and checked when set. Where the v1 type carries both a singular and a
// plural field that kube-apiserver folds into one (spec.podCIDR/podCIDRs,
// status.podIP/podIPs), the two are folded the same way before they are
// checked.
//
// ValidateNodeUpdate, ValidatePodUpdate, ValidateNamespaceUpdate and
// ValidateLeaseUpdate check the new object completely — there is no need to
// call the create function as well — plus the rules about what may change.
// The name's format is checked on create only: the update rules keep the name
// immutable. ValidatePodStatusUpdate checks metadata and status only, since a
// status update keeps the stored spec. ValidateEvent serves create and update.
//
// Everything here is a pure function of its arguments: no I/O, no clock, no
// global state, no feature gates. Feature-gated upstream behaviour is fixed
// at the v1.37 defaults.
package validation

// Package registry holds the REST storage of every resource the embedded API
// server serves: one file per resource with its strategies (what a create,
// update or delete may change, which fields are selectable) and its
// subresources, on top of k8s.io/apiserver's generic etcd-backed Store.
//
// It mirrors kube-apiserver's pkg/registry for the subset nodesim needs,
// working on the versioned k8s.io/api types. It may not read the wall clock
// for anything a simulation depends on, and keeps no package-level state.
package registry

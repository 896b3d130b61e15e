// Package apiserver runs a real Kubernetes API server inside the nodesim
// process: k8s.io/apiserver's generic server on an embedded etcd, serving
// core/v1 nodes, pods, namespaces and events and coordination.k8s.io/v1
// leases with validation, admission (NamespaceLifecycle,
// TaintNodesByCondition, DefaultTolerationSeconds), OpenAPI, server-side
// tables, TLS and authentication.
//
// It listens on loopback unless told otherwise and keeps its data in a
// temporary directory it removes on Stop. The Backend interface lets an
// external cluster stand in for it. Nothing here may depend on the
// simulation's virtual clock: server-assigned fields (uid, resourceVersion,
// creationTimestamp) are the server's own and never reach a trace.
package apiserver

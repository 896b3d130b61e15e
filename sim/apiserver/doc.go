// Package apiserver runs kube-apiserver inside the nodesim process: its own
// control plane from k8s.io/kubernetes (aggregator, the built-in API,
// apiextensions), assembled as cmd/kube-apiserver assembles it from the
// command line kubeadm writes (options.go), on an embedded etcd that
// listens on no TCP port. nodesim adds only what embedding needs: the
// stores reach etcd through an in-process client (storage.go), the
// simulation's requests run through the handler chain in process with
// their identities (inprocess.go), kubelets get certificates and an
// authenticator from the run's CA, and the server reaches their APIs
// through its egress dialer (kubelet.go). It writes no registry,
// validation, admission or authorization of its own.
//
// It listens on loopback unless told otherwise and keeps its data in a
// temporary directory it removes on Stop. The Backend interface lets an
// external cluster stand in for it. Nothing here may depend on the
// simulation's virtual clock: server-assigned fields (uid, resourceVersion,
// creationTimestamp) are the server's own and never reach a trace.
package apiserver

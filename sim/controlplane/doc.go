// Package controlplane models the parts of kube-controller-manager and
// kube-scheduler that react to nodes: the node lifecycle controller (health,
// conditions Unknown, NoSchedule and rate-limited NoExecute taints, zone
// disruption states), the taint eviction controller, a ReplicaSet-like
// keeper of the scenario's workloads and a scheduler that binds their pods.
// One controller per file.
//
// Controllers act at the engine's barriers, on the engine's clock, reading
// the API server through informers that the caller has brought up to date
// with every write before the barrier; they write through the API like the
// real ones. They may not read the wall clock or global randomness.
package controlplane

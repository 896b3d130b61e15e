// Package node is the virtual kubelet: what a kubelet does towards the API
// server, one concern per file — registration, node status and its
// conditions, the node lease, the container runtime's readiness.
//
// A Kubelet runs as processes of a sim.Entity: sequential code like the
// kubelet's own loops, waiting on the entity's virtual time. It reads time
// only from its entity and randomness only from the entity's stream; it may
// not read the wall clock, sleep for real or use global randomness.
package node

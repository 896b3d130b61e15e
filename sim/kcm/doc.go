// Package kcm chooses which controllers run beside the embedded API server
// (--controllers: nodesim's own models and kube-controller-manager's
// controllers, in kube-controller-manager's syntax) and runs the chosen
// kube-controller-manager controllers in process, from kube-controller-manager's
// own code, as kubeadm configures it.
//
// kube-controller-manager's controllers work in wall-clock time through
// their own clients and informers: they are the cluster around the
// simulation (service accounts, namespaces, garbage collection,
// Deployments), never part of a scenario's deterministic trace, which only
// nodesim's models (sim/controlplane) write to.
package kcm

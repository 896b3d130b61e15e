// Package scenarios is the scenario file of nodesim: its schema, the loader
// that turns a YAML file into a Scenario with every default filled in, the
// validation that rejects bad input with the file, line, field and reason,
// the naming of virtual nodes (<pool>-<index>) and of workload pods, the
// choice of the nodes a timeline step or an expectation is about
// (SelectNodes, SelectNodesAt), and the evaluation of a scenario's
// expectations against a run's trace records (Check).
//
// The example scenarios shipped with nodesim live beside this package, in
// the same folder (default.yaml, heartbeats-small.yaml, ...); README.md
// documents the format.
//
// What it may not do: no I/O beyond reading the one scenario file that Load
// is given, no clock, and no package-level mutable state; its only
// randomness is the seeded choice of a selector's fraction, drawn from the
// stream the caller's seed and salt name. A Scenario is plain data; what a
// run does with it (the engine, the virtual kubelets, the control plane and
// the faults) lives elsewhere, and Check only reads the records it is
// given. Parsing never panics on any input: a fuzz test holds it to that.
package scenarios

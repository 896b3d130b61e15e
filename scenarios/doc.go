// Package scenarios is the scenario file of nodesim: its schema, the loader
// that turns a YAML file into a Scenario with every default filled in, the
// validation that rejects bad input with the file, line, field and reason,
// and the naming of virtual nodes (<pool>-<index>).
//
// The example scenarios shipped with nodesim live beside this package, in
// the same folder (default.yaml, heartbeats-small.yaml); README.md documents
// the format.
//
// What it may not do: no I/O beyond reading the one scenario file that Load
// is given, no clock, no randomness and no package-level mutable state. A
// Scenario is plain data; what a run does with it (the engine, the virtual
// kubelets) lives elsewhere. Parsing never panics on any input: a fuzz test
// holds it to that.
package scenarios

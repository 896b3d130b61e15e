// Package run puts a scenario on the engine: it starts the API server,
// builds the fleet of virtual kubelets, runs virtual time, and writes what
// happened (trace.jsonl, summary.json).
//
// It is the one place where the engine, the kubelets and the API server
// meet: API traffic is counted here, and node changes are traced here
// whoever made them.
package run

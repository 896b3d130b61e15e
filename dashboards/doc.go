// Package dashboards holds nodesim's Grafana dashboards: their definitions
// in Go (built with the Grafana Foundation SDK), the JSON generated from
// them (`make dashboards`, committed next to this file) and the
// provisioning files that load them into Grafana.
//
// Every PromQL expression here must parse and name only metrics that
// nodesim serves at /metrics: its own (sim/metrics) and the embedded API
// server's, etcd's and the Go runtime's. The tests check both, and check
// with a real Prometheus scraping `nodesim serve` that every query returns
// data. Nothing here runs in nodesim itself.
package dashboards

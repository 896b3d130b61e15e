// Package metrics is nodesim's Prometheus instrumentation: the
// simulation's own metrics (nodesim_<subsystem>_<name>_<unit>), derived
// from trace records, from the world's view of the fleet at barriers and
// from the simulation's API requests, plus the glue that serves them next
// to the embedded API server's and etcd's own metrics.
//
// Every metric is registered with the prometheus.Registerer it is given,
// never the global one, and is labelled by pool and zone, never by node:
// 10,000 nodes would be 10,000 series. Metrics only listen: nothing here
// may feed back into the simulation or its trace, so a run's trace is the
// same bytes with or without them.
package metrics

package dashboards

import "fmt"

// Units (Grafana's unit ids).
const (
	unitNone    = "short"
	unitPerSec  = "ops"
	unitBytesPS = "Bps"
	unitSeconds = "s"
	unitBytes   = "bytes"
	unitRatio   = "x"
)

const writeVerbs = `verb=~"create|update|patch|delete"`

func fleetHealth() (Dashboard, error) {
	return build("fleet-health.json", "nodesim-fleet-health", "nodesim / Fleet health",
		"Virtual nodes by Ready status, pool and zone; taints, evictions and the node lifecycle controller's zone states.",
		[]row{
			{"Nodes", []panel{
				stacked("Nodes by Ready status", "Every node by the status of its Ready condition, at the simulation's last barrier.", unitNone, 12,
					query{"sum by (ready) (nodesim_fleet_nodes)", "{{ready}}"}),
				series("Ready nodes by pool and zone", "Nodes whose Ready condition is True.", unitNone, 12,
					query{`sum by (pool, zone) (nodesim_fleet_nodes{ready="True"})`, "{{pool}} {{zone}}"}),
				series("NotReady nodes by pool and zone", "Nodes whose Ready condition is False (the kubelet says so).", unitNone, 12,
					query{`sum by (pool, zone) (nodesim_fleet_nodes{ready="False"})`, "{{pool}} {{zone}}"}),
				series("Unknown nodes by pool and zone", "Nodes whose Ready condition is Unknown: the lifecycle controller stopped hearing from them, or they have not posted one yet.", unitNone, 12,
					query{`sum by (pool, zone) (nodesim_fleet_nodes{ready="Unknown"})`, "{{pool}} {{zone}}"}),
			}},
			{"Taints and evictions", []panel{
				series("Taints on nodes", "Taints on nodes by key and effect.", unitNone, 12,
					query{"sum by (key, effect) (nodesim_fleet_node_taints)", "{{key}}:{{effect}}"}),
				series("Taints added", "Taints appearing on nodes per wall second, by key and effect.", unitPerSec, 12,
					query{rate("nodesim_fleet_taints_added_total", "key, effect"), "{{key}}:{{effect}}"}),
				series("Evictions", "Pods deleted by taint eviction per wall second, by the pool and zone of their node.", unitPerSec, 12,
					query{rate("nodesim_controlplane_evictions_total", "pool, zone"), "{{pool}} {{zone}}"}),
				series("Condition transitions", "Node condition status changes per wall second, by condition type and new status.", unitPerSec, 12,
					query{rate("nodesim_fleet_condition_transitions_total", "type, status"), "{{type}}={{status}}"}),
			}},
			{"Zones", []panel{
				series("Zone states", "1 while the node lifecycle controller sees a zone in a state (Normal, PartialDisruption, FullDisruption).", unitNone, 24,
					query{"max by (zone, state) (nodesim_controlplane_zone_state)", "{{zone}} {{state}}"}),
			}},
		})
}

func heartbeatLoad() (Dashboard, error) {
	return build("heartbeat-load.json", "nodesim-heartbeat-load", "nodesim / Heartbeat load",
		"What the virtual kubelets' heartbeats cost the API server and etcd: Lease and NodeStatus writes and bytes per second (KEP-589), latency, etcd.",
		[]row{
			{"Heartbeats", []panel{
				series("Lease renewals", "Node Lease writes accepted per wall second, by pool and zone.", unitPerSec, 8,
					query{rate("nodesim_heartbeat_lease_renewals_total", "pool, zone"), "{{pool}} {{zone}}"}),
				series("Status posts", "NodeStatus patches accepted per wall second, by pool and zone.", unitPerSec, 8,
					query{rate("nodesim_heartbeat_status_posts_total", "pool, zone"), "{{pool}} {{zone}}"}),
				series("Lease renewal failures", "Failed Node Lease writes per wall second, by pool and zone.", unitPerSec, 8,
					query{rate("nodesim_heartbeat_lease_renewal_failures_total", "pool, zone"), "{{pool}} {{zone}}"}),
				series("Lease vs NodeStatus bytes", "Request bytes per wall second of Lease writes and of NodeStatus writes (KEP-589).", unitBytesPS, 12,
					query{rate(`nodesim_api_write_bytes_total{resource="leases"}`, ""), "Lease"},
					query{rate(`nodesim_api_write_bytes_total{resource="nodes/status"}`, ""), "NodeStatus"}),
				series("Lease vs NodeStatus writes", "Accepted writes per wall second of Leases and of NodeStatus (KEP-589).", unitPerSec, 12,
					query{rate(`nodesim_api_requests_total{resource="leases",code=~"2..",`+writeVerbs+`}`, ""), "Lease"},
					query{rate(`nodesim_api_requests_total{resource="nodes/status",code=~"2..",`+writeVerbs+`}`, ""), "NodeStatus"}),
			}},
			{"API", []panel{
				series("API writes by resource", "The simulation's API writes per wall second, by resource and verb.", unitPerSec, 12,
					query{rate(`nodesim_api_requests_total{`+writeVerbs+`}`, "resource, verb"), "{{verb}} {{resource}}"}),
				series("API bytes written by resource", "Request body bytes of the simulation's accepted writes per wall second, by resource.", unitBytesPS, 12,
					query{rate("nodesim_api_write_bytes_total", "resource"), "{{resource}}"}),
				series("API write latency (client)", "Wall time from sending a write to its response, as the simulation's clients see it.", unitSeconds, 12,
					query{quantile(0.5, "nodesim_api_request_duration_seconds", "{"+writeVerbs+"}", "resource"), "p50 {{resource}}"},
					query{quantile(0.99, "nodesim_api_request_duration_seconds", "{"+writeVerbs+"}", "resource"), "p99 {{resource}}"}),
				series("API requests by code", "The simulation's API requests per wall second by HTTP status code.", unitPerSec, 12,
					query{rate("nodesim_api_requests_total", "code"), "{{code}}"}),
				series("API server latency", "The embedded API server's own request latency (apiserver_request_duration_seconds), less watches.", unitSeconds, 12,
					query{quantile(0.5, "apiserver_request_duration_seconds", `{verb!="WATCH"}`, "verb, resource"), "p50 {{verb}} {{resource}}"},
					query{quantile(0.99, "apiserver_request_duration_seconds", `{verb!="WATCH"}`, "verb, resource"), "p99 {{verb}} {{resource}}"}),
				series("API server requests", "Requests the embedded API server served per wall second, by verb and code.", unitPerSec, 12,
					query{rate("apiserver_request_total", "verb, code"), "{{verb}} {{code}}"}),
			}},
			{"etcd", []panel{
				series("etcd operations", "Embedded etcd puts, ranges and transactions per wall second.", unitPerSec, 8,
					query{rate("etcd_mvcc_put_total", ""), "put"},
					query{rate("etcd_mvcc_range_total", ""), "range"},
					query{rate("etcd_mvcc_txn_total", ""), "txn"}),
				series("etcd request latency (API server)", "The API server's etcd request latency by operation (etcd_request_duration_seconds).", unitSeconds, 8,
					query{quantile(0.99, "etcd_request_duration_seconds", "", "operation"), "p99 {{operation}}"}),
				series("etcd backend commits", "Embedded etcd backend commit latency and database size.", unitSeconds, 8,
					query{quantile(0.99, "etcd_disk_backend_commit_duration_seconds", "", ""), "p99 commit"}),
				series("etcd database size", "Embedded etcd's database size.", unitBytes, 24,
					query{"etcd_mvcc_db_total_size_in_bytes", "total"},
					query{"etcd_mvcc_db_total_size_in_use_in_bytes", "in use"}),
			}},
		})
}

func runtime() (Dashboard, error) {
	return build("runtime.json", "nodesim-runtime", "nodesim / Runtime",
		"Pods on the virtual nodes and container checkpoints.",
		[]row{
			{"Pods", []panel{
				stacked("Pods by phase", "Pods by phase at the simulation's last barrier.", unitNone, 12,
					query{"sum by (phase) (nodesim_runtime_pods)", "{{phase}}"}),
				series("Running pods by pool and zone", "Running pods by the pool and zone of their node.", unitNone, 12,
					query{`sum by (pool, zone) (nodesim_runtime_pods{phase="Running"})`, "{{pool}} {{zone}}"}),
				series("Pod starts, bindings and rejections", "Pods bound, started by a kubelet and refused at admission, per wall second.", unitPerSec, 24,
					query{rate("nodesim_runtime_pods_bound_total", ""), "bound"},
					query{rate("nodesim_runtime_pods_started_total", ""), "started"},
					query{rate("nodesim_runtime_pods_rejected_total", ""), "rejected"}),
			}},
			{"Checkpoints", []panel{
				series("Checkpoints", "Checkpoint requests finished per wall second, by result.", unitPerSec, 8,
					query{rate("nodesim_runtime_checkpoints_total", "result"), "{{result}}"}),
				series("Checkpoint duration", "Virtual time from a checkpoint step to its outcome.", unitSeconds, 8,
					query{quantile(0.5, "nodesim_runtime_checkpoint_duration_seconds", "", "result"), "p50 {{result}}"},
					query{quantile(0.99, "nodesim_runtime_checkpoint_duration_seconds", "", "result"), "p99 {{result}}"}),
				series("Containers restored", "Containers restored from checkpoint archives per wall second.", unitPerSec, 8,
					query{rate("nodesim_runtime_containers_restored_total", "pool, zone"), "{{pool}} {{zone}}"}),
			}},
		})
}

func simulator() (Dashboard, error) {
	return build("simulator.json", "nodesim-simulator", "nodesim / Simulator",
		"The simulator itself: speed (virtual seconds per wall second), virtual time, trace records, memory.",
		[]row{
			{"Speed", []panel{
				single("Speed since start", "Virtual seconds per wall second since the simulation started (the slowest shard's, with serve --shard).", unitRatio, 6,
					query{"min(nodesim_sim_speed_ratio)", "speed"}),
				single("Virtual time", "Virtual time since the scenario started (the furthest shard's).", unitSeconds, 6,
					query{"max(nodesim_sim_virtual_time_seconds)", "virtual"}),
				single("Wall time", "Wall time since the simulation started (the longest-running shard's).", unitSeconds, 6,
					query{"max(nodesim_sim_wall_time_seconds)", "wall"}),
				single("Nodes", "Virtual nodes in the cluster, over every shard.", unitNone, 6,
					query{"sum(nodesim_fleet_nodes)", "nodes"}),
				series("Speed", "Virtual seconds per wall second by shard: since the start, and over the rate interval.", unitRatio, 12,
					query{"max by (shard) (nodesim_sim_speed_ratio)", "since start {{shard}}"},
					query{fmt.Sprintf("max by (shard) (deriv(nodesim_sim_virtual_time_seconds[%s]))", RateInterval), "now {{shard}}"}),
				series("Trace records", "Trace records per wall second by event (heartbeats only with --trace full).", unitPerSec, 12,
					query{rate("nodesim_trace_records_total", "event"), "{{event}}"}),
				series("Expectations", "The scenario's expectations once decided: 1 held, 0 failed (in any shard, each judging its own nodes).", unitNone, 24,
					query{"min by (index, type) (nodesim_expectation_passed)", "spec.expect[{{index}}] {{type}}"}),
			}},
			{"Process", []panel{
				series("Memory", "Resident memory and Go heap of the nodesim process.", unitBytes, 12,
					query{"process_resident_memory_bytes", "resident"},
					query{"go_memstats_heap_inuse_bytes", "heap in use"}),
				series("CPU and goroutines", "CPU seconds per wall second of the nodesim process (cores busy), and its goroutines in thousands.", unitNone, 12,
					query{"rate(process_cpu_seconds_total[" + RateInterval + "])", "CPU cores"},
					query{"go_goroutines / 1000", "goroutines (k)"}),
			}},
		})
}

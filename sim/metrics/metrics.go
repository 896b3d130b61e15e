package metrics

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace is the prefix of every metric of nodesim's own.
const Namespace = "nodesim"

// Label names.
const (
	LabelPool     = "pool"
	LabelZone     = "zone"
	LabelReady    = "ready"
	LabelType     = "type"
	LabelStatus   = "status"
	LabelKey      = "key"
	LabelEffect   = "effect"
	LabelState    = "state"
	LabelPhase    = "phase"
	LabelResult   = "result"
	LabelEvent    = "event"
	LabelResource = "resource"
	LabelVerb     = "verb"
	LabelCode     = "code"
	LabelIndex    = "index"
	// LabelShard is on every metric of a shard of the fleet (serve
	// --shard): its index, so that dashboards sum over shards.
	LabelShard = "shard"
)

// Checkpoint results (the result label of the checkpoint metrics).
const (
	ResultCreated = "created"
	ResultFailed  = "failed"
)

// Defaults of Config.
var (
	// DefaultAPILatencyBuckets spans 0.25 ms to 4 s of wall time: an
	// in-process API server answers most writes in about a millisecond.
	DefaultAPILatencyBuckets = prometheus.ExponentialBuckets(0.00025, 2, 15)
	// DefaultCheckpointDurationBuckets spans 0.1 s to about 7 min of
	// virtual time, around the kubelet checkpoint API's default timeout
	// (the API server's request timeout, 1 m).
	DefaultCheckpointDurationBuckets = prometheus.ExponentialBuckets(0.1, 2, 13)
)

// readyStatuses are the values of the Ready label: a node's Ready
// condition status, Unknown when it has none yet.
var readyStatuses = []string{"True", "False", "Unknown"}

// zoneStates are the lifecycle controller's zone states (the state label).
var zoneStates = []string{"Normal", "PartialDisruption", "FullDisruption"}

// podPhases are initialised for every pool so that the pod panels have a
// series before the first pod.
var podPhases = []string{"Pending", "Running"}

// Pool is one node pool of the fleet, for labelling its nodes.
type Pool struct {
	// Name is the pool's name; its nodes are named <Name>-<index>.
	Name string
	// Zone is the pool's zone label (failure-domain.beta.kubernetes.io/zone,
	// else topology.kubernetes.io/zone), "" if it has none: the name the
	// node lifecycle controller gives the zone.
	Zone string
}

// Config configures Metrics.
type Config struct {
	// Registerer receives every metric. Required: nodesim never registers
	// with the global registry, so that runs in one process don't mix.
	Registerer prometheus.Registerer
	// Pools are the fleet's node pools. A node named <pool>-<digits> is
	// labelled with its pool and the pool's zone; other nodes with pool
	// and zone "".
	Pools []Pool
	// APILatencyBuckets are the buckets of the API request latency
	// histogram, in wall seconds (default DefaultAPILatencyBuckets).
	APILatencyBuckets []float64
	// CheckpointDurationBuckets are the buckets of the checkpoint duration
	// histogram, in virtual seconds (default DefaultCheckpointDurationBuckets).
	CheckpointDurationBuckets []float64
	// Shard, if not "", labels every metric shard=Shard: the index of the
	// shard of the fleet this process runs.
	Shard string
}

// Metrics are nodesim's own metrics. Its methods may be called from any
// goroutine.
type Metrics struct {
	pools []Pool

	// fleet
	nodes             *prometheus.GaugeVec
	nodesRegistered   *prometheus.CounterVec
	conditionChanges  *prometheus.CounterVec
	nodeTaints        *prometheus.GaugeVec
	taintsAdded       *prometheus.CounterVec
	taintsRemoved     *prometheus.CounterVec
	leaseRenewals     *prometheus.CounterVec
	leaseFailures     *prometheus.CounterVec
	statusPosts       *prometheus.CounterVec
	evictions         *prometheus.CounterVec
	zoneState         *prometheus.GaugeVec
	pods              *prometheus.GaugeVec
	podsBound         *prometheus.CounterVec
	podsStarted       *prometheus.CounterVec
	podsRejected      *prometheus.CounterVec
	checkpoints       *prometheus.CounterVec
	checkpointSeconds *prometheus.HistogramVec
	restored          *prometheus.CounterVec
	faultsStarted     *prometheus.CounterVec
	faultsEnded       *prometheus.CounterVec
	records           *prometheus.CounterVec
	apiRequests       *prometheus.CounterVec
	apiSeconds        *prometheus.HistogramVec
	apiWriteBytes     *prometheus.CounterVec
	virtualSeconds    prometheus.Gauge
	wallSeconds       prometheus.Gauge
	speed             prometheus.Gauge
	expectations      *prometheus.GaugeVec

	locMu sync.RWMutex
	loc   map[string]int // node name -> index in pools

	mu sync.Mutex
	// checkpointStarts are the virtual start times of the checkpoint
	// steps under way, by pod (or node), to time them.
	checkpointStarts map[string]float64
	// fleetSeen and podsSeen are the gauge label sets set at some barrier,
	// so that one that disappears reads 0 instead of its last value.
	nodesSeen  map[[3]string]bool
	taintsSeen map[[4]string]bool
	podsSeen   map[[3]string]bool
}

// New registers nodesim's metrics with cfg.Registerer.
func New(cfg Config) (*Metrics, error) {
	if cfg.Registerer == nil {
		return nil, errors.New("metrics: a Registerer is required (nodesim never uses the global one)")
	}
	if len(cfg.APILatencyBuckets) == 0 {
		cfg.APILatencyBuckets = DefaultAPILatencyBuckets
	}
	if len(cfg.CheckpointDurationBuckets) == 0 {
		cfg.CheckpointDurationBuckets = DefaultCheckpointDurationBuckets
	}
	for _, p := range cfg.Pools {
		if p.Name == "" {
			return nil, errors.New("metrics: a pool has no name")
		}
	}
	pz := []string{LabelPool, LabelZone}
	with := func(extra ...string) []string { return append(append([]string{}, pz...), extra...) }
	m := &Metrics{
		pools:            append([]Pool(nil), cfg.Pools...),
		checkpointStarts: map[string]float64{},
		loc:              map[string]int{},
		nodesSeen:        map[[3]string]bool{},
		taintsSeen:       map[[4]string]bool{},
		podsSeen:         map[[3]string]bool{},

		nodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "fleet", Name: "nodes",
			Help: "Nodes by pool, zone and the status of their Ready condition (True, False, Unknown; Unknown also before a node has one), as the simulation saw them at its last barrier."},
			with(LabelReady)),
		nodesRegistered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "fleet", Name: "nodes_registered_total",
			Help: "Node objects created by their kubelets (NodeRegistered)."}, pz),
		conditionChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "fleet", Name: "condition_transitions_total",
			Help: "Node condition status changes, whoever wrote them (NodeConditionChanged), by condition type and new status."},
			with(LabelType, LabelStatus)),
		nodeTaints: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "fleet", Name: "node_taints",
			Help: "Taints on nodes at the last barrier, by key and effect."}, with(LabelKey, LabelEffect)),
		taintsAdded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "fleet", Name: "taints_added_total",
			Help: "Taints that appeared on a node (NodeTaintAdded), by key and effect."}, with(LabelKey, LabelEffect)),
		taintsRemoved: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "fleet", Name: "taints_removed_total",
			Help: "Taints that left a node (NodeTaintRemoved), by key and effect."}, with(LabelKey, LabelEffect)),
		leaseRenewals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "heartbeat", Name: "lease_renewals_total",
			Help: "Node Lease creates and updates by kubelets that the API server accepted."}, pz),
		leaseFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "heartbeat", Name: "lease_renewal_failures_total",
			Help: "Node Lease writes by kubelets that failed (LeaseRenewFailed)."}, pz),
		statusPosts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "heartbeat", Name: "status_posts_total",
			Help: "NodeStatus patches by kubelets that the API server accepted."}, pz),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "controlplane", Name: "evictions_total",
			Help: "Pods deleted by the taint eviction controller (PodEvicted), by the pool and zone of their node."}, pz),
		zoneState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "controlplane", Name: "zone_state",
			Help: "1 for the node lifecycle controller's current state of a zone (Normal, PartialDisruption, FullDisruption), 0 for the others."},
			[]string{LabelZone, LabelState}),
		pods: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "runtime", Name: "pods",
			Help: "Pods at the last barrier by phase and the pool and zone of their node (\"\" while unscheduled)."}, with(LabelPhase)),
		podsBound: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "runtime", Name: "pods_bound_total",
			Help: "Pods bound to a node (PodBound)."}, pz),
		podsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "runtime", Name: "pods_started_total",
			Help: "Pods a kubelet started (PodRunning)."}, pz),
		podsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "runtime", Name: "pods_rejected_total",
			Help: "Pods a kubelet refused at admission (PodRejected)."}, pz),
		checkpoints: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "runtime", Name: "checkpoints_total",
			Help: "Checkpoint requests that finished, by result (created, failed)."}, with(LabelResult)),
		checkpointSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "runtime", Name: "checkpoint_duration_seconds",
			Help: "Virtual time from a checkpoint step to its CheckpointCreated or CheckpointFailed, by result.", Buckets: cfg.CheckpointDurationBuckets},
			[]string{LabelResult}),
		restored: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "runtime", Name: "containers_restored_total",
			Help: "Containers restored from a checkpoint archive (ContainerRestored)."}, pz),
		faultsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "timeline", Name: "faults_started_total",
			Help: "Timeline steps begun (FaultStarted; one per node for node-scoped steps), by type."}, []string{LabelType}),
		faultsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "timeline", Name: "faults_ended_total",
			Help: "Timeline steps ended (FaultEnded), by type."}, []string{LabelType}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "trace", Name: "records_total",
			Help: "Trace records by event, whether written or not (heartbeats are traced only with --trace full)."}, []string{LabelEvent}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "api", Name: "requests_total",
			Help: "API requests of the simulation (kubelets and control plane) by resource, verb and HTTP status code (\"error\" when no response came)."},
			[]string{LabelResource, LabelVerb, LabelCode}),
		apiSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "api", Name: "request_duration_seconds",
			Help: "Wall time from sending an API request of the simulation to its response headers, by resource and verb.", Buckets: cfg.APILatencyBuckets},
			[]string{LabelResource, LabelVerb}),
		apiWriteBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "api", Name: "write_bytes_total",
			Help: "Request body bytes of the simulation's successful API writes, by resource and verb."}, []string{LabelResource, LabelVerb}),
		virtualSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "sim", Name: "virtual_time_seconds",
			Help: "Virtual time since the scenario started, at the last barrier."}),
		wallSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "sim", Name: "wall_time_seconds",
			Help: "Wall time since the simulation started, at the last barrier."}),
		speed: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "sim", Name: "speed_ratio",
			Help: "Virtual seconds per wall second since the simulation started."}),
		expectations: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "expectation", Name: "passed",
			Help: "1 if the scenario's expectation spec.expect[index] held, 0 if it failed; absent until it is decided."},
			[]string{LabelIndex, LabelType}),
	}
	reg := cfg.Registerer
	if cfg.Shard != "" {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{LabelShard: cfg.Shard}, reg)
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	m.initSeries()
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.nodes, m.nodesRegistered, m.conditionChanges, m.nodeTaints, m.taintsAdded, m.taintsRemoved,
		m.leaseRenewals, m.leaseFailures, m.statusPosts, m.evictions, m.zoneState,
		m.pods, m.podsBound, m.podsStarted, m.podsRejected, m.checkpoints, m.checkpointSeconds, m.restored,
		m.faultsStarted, m.faultsEnded, m.records, m.apiRequests, m.apiSeconds, m.apiWriteBytes,
		m.virtualSeconds, m.wallSeconds, m.speed, m.expectations,
	}
}

// initSeries creates the series whose label values are known up front, at
// 0, as the Prometheus instrumentation guide advises: a rate over a
// counter that appears only at its first increment misses that increment,
// and a panel of a thing that has not happened yet shows 0, not "no data".
func (m *Metrics) initSeries() {
	for _, p := range m.pools {
		for _, r := range readyStatuses {
			m.nodes.WithLabelValues(p.Name, p.Zone, r)
			m.nodesSeen[[3]string{p.Name, p.Zone, r}] = true
		}
		for _, ph := range podPhases {
			m.pods.WithLabelValues(p.Name, p.Zone, ph)
			m.podsSeen[[3]string{p.Name, p.Zone, ph}] = true
		}
		for _, c := range []*prometheus.CounterVec{m.nodesRegistered, m.leaseRenewals, m.leaseFailures, m.statusPosts,
			m.evictions, m.podsBound, m.podsStarted, m.podsRejected, m.restored} {
			c.WithLabelValues(p.Name, p.Zone)
		}
		for _, r := range []string{ResultCreated, ResultFailed} {
			m.checkpoints.WithLabelValues(p.Name, p.Zone, r)
		}
		for _, s := range zoneStates {
			m.zoneState.WithLabelValues(p.Zone, s)
		}
	}
	for _, r := range []string{ResultCreated, ResultFailed} {
		m.checkpointSeconds.WithLabelValues(r)
	}
}

// Locate returns the pool and zone of a node from its name.
func (m *Metrics) Locate(node string) (pool, zone string) {
	p := m.locate(node)
	if p < 0 {
		return "", ""
	}
	return m.pools[p].Name, m.pools[p].Zone
}

// locate returns the index of a node's pool, -1 for none. Names are
// remembered: the fleet gauges look every node up at every barrier.
func (m *Metrics) locate(node string) int {
	m.locMu.RLock()
	p, ok := m.loc[node]
	m.locMu.RUnlock()
	if ok {
		return p
	}
	p = -1
	for i, pool := range m.pools {
		rest, ok := strings.CutPrefix(node, pool.Name+"-")
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		if p < 0 || len(pool.Name) > len(m.pools[p].Name) {
			p = i
		}
	}
	if p >= 0 { // only fleet names: a foreign name must not grow the map
		m.locMu.Lock()
		m.loc[node] = p
		m.locMu.Unlock()
	}
	return p
}

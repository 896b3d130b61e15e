package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/controlplane"
	"github.com/nodesim/nodesim/sim/kcm"
)

// Defaults of spec.controlPlane: those of kube-controller-manager (node
// lifecycle controller) and kube-apiserver (DefaultTolerationSeconds
// admission) of the release the scenario names, as the components that
// model them define them.
const (
	DefaultNodeMonitorPeriod            = controlplane.DefaultNodeMonitorPeriod
	DefaultNodeMonitorGracePeriod       = controlplane.DefaultNodeMonitorGracePeriod
	LegacyNodeMonitorGracePeriod        = controlplane.LegacyNodeMonitorGracePeriod
	DefaultNodeStartupGracePeriod       = controlplane.DefaultNodeStartupGracePeriod
	DefaultNodeEvictionRate             = controlplane.DefaultNodeEvictionRate
	DefaultSecondaryNodeEvictionRate    = controlplane.DefaultSecondaryNodeEvictionRate
	DefaultLargeClusterSizeThreshold    = controlplane.DefaultLargeClusterSizeThreshold
	DefaultUnhealthyZoneThreshold       = controlplane.DefaultUnhealthyZoneThreshold
	DefaultNotReadyTolerationSeconds    = apiserver.DefaultNotReadyTolerationSeconds
	DefaultUnreachableTolerationSeconds = apiserver.DefaultUnreachableTolerationSeconds
)

// ControlPlane is spec.controlPlane: the settings of the node lifecycle
// controller and taint eviction, under the names of their
// kube-controller-manager and kube-apiserver flags in lowerCamelCase.
type ControlPlane struct {
	// NodeMonitorPeriod is --node-monitor-period: how often the lifecycle
	// controller checks the nodes (> 0).
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is --node-monitor-grace-period: how long a
	// node may go without a heartbeat before it is Unknown (> 0; default
	// DefaultNodeMonitorGracePeriod, LegacyNodeMonitorGracePeriod for
	// kubernetesVersion 1.31 and earlier).
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod is --node-startup-grace-period: the same
	// before a node's first Ready (> 0).
	NodeStartupGracePeriod time.Duration
	// NodeEvictionRate is --node-eviction-rate: nodes per second tainted
	// NoExecute in a healthy zone (>= 0).
	NodeEvictionRate float64
	// SecondaryNodeEvictionRate is --secondary-node-eviction-rate: the same
	// in a zone in PartialDisruption larger than LargeClusterSizeThreshold
	// (>= 0).
	SecondaryNodeEvictionRate float64
	// LargeClusterSizeThreshold is --large-cluster-size-threshold (>= 0).
	LargeClusterSizeThreshold int
	// UnhealthyZoneThreshold is --unhealthy-zone-threshold: the fraction of
	// a zone's nodes (at least 3) not ready that makes it PartialDisruption
	// (0 to 1).
	UnhealthyZoneThreshold float64
	// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
	// are kube-apiserver's --default-not-ready-toleration-seconds and
	// --default-unreachable-toleration-seconds: the tolerationSeconds the
	// DefaultTolerationSeconds admission gives pods (>= 0).
	DefaultNotReadyTolerationSeconds    int64
	DefaultUnreachableTolerationSeconds int64
	// Controllers is which controllers run, as --controllers says it
	// (kube-controller-manager's syntax over nodesim's models and
	// kube-controller-manager's controllers; sim/kcm); nil: the default,
	// everything. The command line's --controllers takes precedence.
	Controllers []string
}

// DefaultControlPlane returns the control plane settings of release
// version ("1.X") when a scenario sets none.
func DefaultControlPlane(version string) ControlPlane {
	grace := DefaultNodeMonitorGracePeriod
	if minor, ok := strings.CutPrefix(version, "1."); ok {
		if m, err := strconv.Atoi(minor); err == nil && m < 32 {
			grace = LegacyNodeMonitorGracePeriod
		}
	}
	return ControlPlane{
		NodeMonitorPeriod:                   DefaultNodeMonitorPeriod,
		NodeMonitorGracePeriod:              grace,
		NodeStartupGracePeriod:              DefaultNodeStartupGracePeriod,
		NodeEvictionRate:                    DefaultNodeEvictionRate,
		SecondaryNodeEvictionRate:           DefaultSecondaryNodeEvictionRate,
		LargeClusterSizeThreshold:           DefaultLargeClusterSizeThreshold,
		UnhealthyZoneThreshold:              DefaultUnhealthyZoneThreshold,
		DefaultNotReadyTolerationSeconds:    DefaultNotReadyTolerationSeconds,
		DefaultUnreachableTolerationSeconds: DefaultUnreachableTolerationSeconds,
	}
}

// ControllerManagerFlags are the kube-controller-manager flags of c's
// node lifecycle settings: kube-controller-manager's own node lifecycle
// controller, when it runs instead of nodesim's model (controllers), acts
// as the scenario says the model would.
func (c ControlPlane) ControllerManagerFlags() []string {
	number := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{
		"--node-monitor-period=" + c.NodeMonitorPeriod.String(),
		"--node-monitor-grace-period=" + c.NodeMonitorGracePeriod.String(),
		"--node-startup-grace-period=" + c.NodeStartupGracePeriod.String(),
		"--node-eviction-rate=" + number(c.NodeEvictionRate),
		"--secondary-node-eviction-rate=" + number(c.SecondaryNodeEvictionRate),
		"--large-cluster-size-threshold=" + strconv.Itoa(c.LargeClusterSizeThreshold),
		"--unhealthy-zone-threshold=" + number(c.UnhealthyZoneThreshold),
	}
}

// MinNodeMonitorPeriod is the shortest nodeMonitorPeriod nodesim runs:
// kube-controller-manager takes any positive period, but a nanosecond
// would make the lifecycle model a billion passes over the fleet a virtual
// second, a run that never ends (as node/config's
// MinNodeStatusUpdateFrequency for the kubelet's loop).
const MinNodeMonitorPeriod = time.Second

var controlPlaneSchema = schema{fields: []string{
	"nodeMonitorPeriod", "nodeMonitorGracePeriod", "nodeStartupGracePeriod",
	"nodeEvictionRate", "secondaryNodeEvictionRate", "largeClusterSizeThreshold", "unhealthyZoneThreshold",
	"defaultNotReadyTolerationSeconds", "defaultUnreachableTolerationSeconds", "controllers",
}}

// controlPlane parses spec.controlPlane into c, which holds the defaults.
func (d *decoder) controlPlane(cp entry, path string, c *ControlPlane) {
	for _, e := range d.fields(cp.value, path, controlPlaneSchema) {
		f := join(path, e.key)
		switch e.key {
		case "nodeMonitorPeriod", "nodeMonitorGracePeriod", "nodeStartupGracePeriod":
			v, ok := d.duration(e.value, f)
			if !ok {
				continue
			}
			if v <= 0 {
				d.addf(e.value.Line, f, "must be more than 0")
				continue
			}
			if e.key == "nodeMonitorPeriod" && v < MinNodeMonitorPeriod {
				d.addf(e.value.Line, f, "must be at least %s, not %s: the lifecycle controller would check every node %d times a virtual second",
					MinNodeMonitorPeriod, v, time.Second/v)
				continue
			}
			switch e.key {
			case "nodeMonitorPeriod":
				c.NodeMonitorPeriod = v
			case "nodeMonitorGracePeriod":
				c.NodeMonitorGracePeriod = v
			default:
				c.NodeStartupGracePeriod = v
			}
		case "nodeEvictionRate", "secondaryNodeEvictionRate":
			if v, ok := d.number(e.value, f); ok {
				if v < 0 {
					d.addf(e.value.Line, f, "must not be negative (nodes per second)")
					continue
				}
				if e.key == "nodeEvictionRate" {
					c.NodeEvictionRate = v
				} else {
					c.SecondaryNodeEvictionRate = v
				}
			}
		case "unhealthyZoneThreshold":
			if v, ok := d.number(e.value, f); ok {
				if v < 0 || v > 1 {
					d.addf(e.value.Line, f, "must be a fraction from 0 to 1, not %s", e.value.Value)
					continue
				}
				c.UnhealthyZoneThreshold = v
			}
		case "largeClusterSizeThreshold":
			if v, ok := d.integer(e.value, f); ok {
				if v < 0 || v > math.MaxInt32 {
					d.addf(e.value.Line, f, "must be from 0 to %d, not %d", math.MaxInt32, v)
					continue
				}
				c.LargeClusterSizeThreshold = int(v)
			}
		case "controllers":
			var names []string
			for i, item := range d.sequence(e.value, f) {
				if name, ok := d.text(item, fmt.Sprintf("%s[%d]", f, i)); ok {
					names = append(names, name)
				}
			}
			if _, err := kcm.ParseControllers(names); err != nil {
				d.addf(e.value.Line, f, "%v", err)
				continue
			}
			c.Controllers = names
		case "defaultNotReadyTolerationSeconds", "defaultUnreachableTolerationSeconds":
			if v, ok := d.integer(e.value, f); ok {
				if v < 0 {
					d.addf(e.value.Line, f, "must not be negative, not %d", v)
					continue
				}
				if e.key == "defaultNotReadyTolerationSeconds" {
					c.DefaultNotReadyTolerationSeconds = v
				} else {
					c.DefaultUnreachableTolerationSeconds = v
				}
			}
		}
	}
}

// number returns a scalar that is a YAML integer or float, finite.
func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	var v float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.addf(n.Line, path, "must be a number, not %s", describe(n))
		return 0, false
	}
	return v, true
}

package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The kinds of expectation (Expectation.Kind, Result.Type): each item of
// spec.expect has exactly one of these keys.
const (
	// ExpectCondition: nodes have a condition with a status.
	ExpectCondition = "condition"
	// ExpectTaint: nodes have a taint.
	ExpectTaint = "taint"
	// ExpectEvictions: how many pods the taint eviction deleted.
	ExpectEvictions = "evictions"
	// ExpectZoneState: the node lifecycle controller's state of a zone.
	ExpectZoneState = "zoneState"
	// ExpectTaintRate: how many taints were added in any window of time.
	ExpectTaintRate = "taintRate"
)

// The states of a zone, as the node lifecycle controller names them.
// Initial is a zone's state before the controller first judges it (before
// the trace has a ZoneStateChanged for it).
const (
	ZoneInitial           = "Initial"
	ZoneNormal            = "Normal"
	ZonePartialDisruption = "PartialDisruption"
	ZoneFullDisruption    = "FullDisruption"
)

// DefaultTaintRateWindow is a taintRate expectation's window when it has
// no `per`: taints added per minute.
const DefaultTaintRateWindow = time.Minute

// Expectation is one item of spec.expect: an outcome the run's trace is
// checked against (see Check). Which fields mean something depends on
// Kind.
type Expectation struct {
	// Line is the line of the item in the file.
	Line int
	// Kind is one of ExpectCondition, ExpectTaint, ExpectEvictions,
	// ExpectZoneState, ExpectTaintRate.
	Kind string

	// Condition and Status: the node condition of a condition expectation
	// (Ready, MemoryPressure, DiskPressure, PIDPressure or
	// NetworkUnavailable; True, False or Unknown).
	Condition corev1.NodeConditionType
	Status    corev1.ConditionStatus
	// Taint is the taint (Key and Effect; no Value) of a taint or taintRate
	// expectation.
	Taint corev1.Taint
	// Zone and State: the zone (a pool's topology.kubernetes.io/zone) and
	// the state (ZoneInitial, ZoneNormal, ZonePartialDisruption,
	// ZoneFullDisruption) of a zoneState expectation.
	Zone  string
	State string
	// Namespace and Workload narrow an evictions expectation to the pods of
	// one namespace or one workload ("" = any).
	Namespace string
	Workload  string
	// Nodes chooses the nodes looked at (condition, taint), the nodes pods
	// were evicted from (evictions), or the nodes taints were added to
	// (taintRate); the zero selector means every node of the fleet at Time.
	// It has no Fraction.
	Nodes NodeSelector

	// Count, AtLeast and AtMost bound how many there are (nodes, evictions,
	// taints in a window); nil when not given. Count is exact; AtLeast and
	// AtMost may come together. A condition or taint expectation with none
	// of them means every chosen node.
	Count, AtLeast, AtMost *int

	// When is "by" (at some instant up to Time; evictions: counted up to
	// Time) or "at" (at the instant Time). Time defaults to spec.duration,
	// When to "by".
	When string
	Time time.Duration
	// Per is a taintRate expectation's window (default
	// DefaultTaintRateWindow).
	Per time.Duration
}

// Type returns the expectation's kind, as summary.json names it.
func (e Expectation) Type() string { return e.Kind }

var (
	expectKinds  = []string{ExpectCondition, ExpectTaint, ExpectEvictions, ExpectZoneState, ExpectTaintRate}
	expectSchema = schema{fields: append(slices.Clone(expectKinds), "nodes", "count", "atLeast", "atMost", "by", "at", "per")}
	// expectParams are the keys each kind takes besides its own.
	expectParams = map[string][]string{
		ExpectCondition: {"nodes", "count", "atLeast", "atMost", "by", "at"},
		ExpectTaint:     {"nodes", "count", "atLeast", "atMost", "by", "at"},
		ExpectEvictions: {"nodes", "count", "atLeast", "atMost", "by"},
		ExpectZoneState: {"by", "at"},
		ExpectTaintRate: {"nodes", "atMost", "per", "by"},
	}
	conditionSchema = schema{fields: []string{"type", "status"}}
	evictionsSchema = schema{fields: []string{"namespace", "workload"}}
	zoneStateSchema = schema{fields: []string{"zone", "state"}}

	// nodeConditions are the node conditions nodesim's nodes and control
	// plane set.
	nodeConditions = []corev1.NodeConditionType{
		corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable,
	}
	conditionStatuses = []corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}
	zoneStates        = []string{ZoneInitial, ZoneNormal, ZonePartialDisruption, ZoneFullDisruption}
)

func (d *decoder) expect(e entry, path string, s *Scenario) {
	for i, item := range d.sequence(e.value, path) {
		if x, ok := d.expectation(item, index(path, i), s); ok {
			s.Expect = append(s.Expect, x)
		}
	}
}

// expectation parses one item of spec.expect.
func (d *decoder) expectation(n *yaml.Node, path string, s *Scenario) (Expectation, bool) {
	before := len(d.errs)
	x := Expectation{Line: n.Line, When: "by", Time: s.Duration}
	// The kind keys count even when empty (evictions: means every pod);
	// other null values mean "not set".
	var kind *entry
	var got []entry
	for _, e := range d.mapping(n, path) {
		switch {
		case !slices.Contains(expectSchema.fields, e.key):
			d.addf(e.keyNode.Line, join(path, e.key), "unknown field %q%s", e.key, suggest(e.key, expectSchema))
		case slices.Contains(expectKinds, e.key):
			if kind != nil {
				d.addf(e.keyNode.Line, join(path, e.key), "one expectation per item: this one already checks %s", kind.key)
				continue
			}
			kind = &e
		case !isNull(e.value):
			got = append(got, e)
		}
	}
	if resolve(n).Kind != yaml.MappingNode {
		return x, false
	}
	if kind == nil {
		d.addf(n.Line, path, "says nothing to check: give one of %s", strings.Join(expectKinds, ", "))
		return x, false
	}
	x.Kind = kind.key
	params := expectParams[x.Kind]
	has := func(key string) bool { return slices.ContainsFunc(got, func(e entry) bool { return e.key == key }) }
	got = slices.DeleteFunc(got, func(e entry) bool {
		if slices.Contains(params, e.key) {
			return false
		}
		d.addf(e.keyNode.Line, join(path, e.key), "%s %s expectation does not take %s (it takes %s)", article(x.Kind), x.Kind, e.key, strings.Join(params, ", "))
		return true
	})
	kf := join(path, kind.key)
	switch x.Kind {
	case ExpectCondition:
		d.conditionSubject(kind.value, kf, &x)
	case ExpectTaint, ExpectTaintRate:
		x.Taint = d.taintSubject(kind.value, kf)
	case ExpectEvictions:
		if !isNull(kind.value) {
			for _, e := range d.fields(kind.value, kf, evictionsSchema) {
				f := join(kf, e.key)
				if v, ok := d.text(e.value, f); ok {
					if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
						d.addf(e.value.Line, f, "invalid %s %q: %s", e.key, v, msgs[0])
						continue
					}
					if e.key == "namespace" {
						x.Namespace = v
					} else {
						x.Workload = v
					}
				}
			}
		}
	case ExpectZoneState:
		got := d.fields(kind.value, kf, zoneStateSchema)
		d.required(kind.value, kind.keyNode.Line, kf, got, "zone", "state")
		for _, e := range got {
			f := join(kf, e.key)
			v, ok := d.text(e.value, f)
			switch {
			case !ok:
			case e.key == "zone":
				x.Zone = v
			case !slices.Contains(zoneStates, v):
				d.addf(e.value.Line, f, "unknown zone state %q: want one of %s", v, strings.Join(zoneStates, ", "))
			default:
				x.State = v
			}
		}
	}
	// How many.
	bounds := map[string]**int{"count": &x.Count, "atLeast": &x.AtLeast, "atMost": &x.AtMost}
	for _, e := range got {
		p, ok := bounds[e.key]
		if !ok {
			continue
		}
		f := join(path, e.key)
		if v, ok := d.integer(e.value, f); ok {
			if v < 0 || v > MaxPods {
				d.addf(e.value.Line, f, "must be from 0 to %d, not %d", MaxPods, v)
				continue
			}
			i := int(v)
			*p = &i
		}
	}
	switch {
	case has("count") && (has("atLeast") || has("atMost")):
		d.addf(lineOf(n, "count", n.Line), join(path, "count"), "count is exact: give it alone, or atLeast and/or atMost")
	case x.AtLeast != nil && x.AtMost != nil && *x.AtLeast > *x.AtMost:
		d.addf(lineOf(n, "atLeast", n.Line), join(path, "atLeast"), "atLeast %d is more than atMost %d", *x.AtLeast, *x.AtMost)
	}
	switch x.Kind {
	case ExpectEvictions:
		if !has("count") && !has("atLeast") && !has("atMost") {
			d.addf(n.Line, join(path, "atMost"), "required: say how many pods may be evicted with count, atLeast or atMost")
		}
	case ExpectTaintRate:
		if !has("atMost") {
			d.addf(n.Line, join(path, "atMost"), "required: the most taints that may be added per window")
		}
	}
	// When.
	if has("by") && has("at") {
		d.addf(lineOf(n, "at", n.Line), join(path, "at"), "give by or at, not both")
	}
	x.Per = DefaultTaintRateWindow
	for _, e := range got {
		f := join(path, e.key)
		switch e.key {
		case "by", "at":
			if v, ok := d.duration(e.value, f); ok {
				switch {
				case v < 0:
					d.addf(e.value.Line, f, "must not be negative")
				case s.Duration > 0 && v > s.Duration:
					d.addf(e.value.Line, f, "must not be past the end of the run at %s", s.Duration)
				default:
					x.When, x.Time = e.key, v
				}
			}
		case "per":
			if v, ok := d.duration(e.value, f); ok {
				if v <= 0 {
					d.addf(e.value.Line, f, "must be more than 0")
					continue
				}
				x.Per = v
			}
		case "nodes":
			x.Nodes = d.selector(e.value, f, false)
		}
	}
	if len(d.errs) > before {
		return x, false
	}
	d.expectationRefs(&x, s, path, n)
	return x, len(d.errs) == before
}

// conditionSubject parses {type, status}.
func (d *decoder) conditionSubject(n *yaml.Node, path string, x *Expectation) {
	if isNull(n) {
		d.addf(n.Line, path, "must be a mapping with type and status, not empty")
		return
	}
	got := d.fields(n, path, conditionSchema)
	d.required(n, n.Line, path, got, "type", "status")
	for _, e := range got {
		f := join(path, e.key)
		v, ok := d.text(e.value, f)
		switch {
		case !ok:
		case e.key == "type":
			if !slices.Contains(nodeConditions, corev1.NodeConditionType(v)) {
				d.addf(e.value.Line, f, "unknown node condition %q: want one of %s", v, joinAny(nodeConditions))
				continue
			}
			x.Condition = corev1.NodeConditionType(v)
		default:
			if !slices.Contains(conditionStatuses, corev1.ConditionStatus(v)) {
				d.addf(e.value.Line, f, "must be True, False or Unknown, not %q", v)
				continue
			}
			x.Status = corev1.ConditionStatus(v)
		}
	}
}

// taintSubject parses a taint to look for: "key:Effect" or {key, effect}.
func (d *decoder) taintSubject(n *yaml.Node, path string) corev1.Taint {
	var t corev1.Taint
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		v, ok := d.text(n, path)
		if !ok {
			return t
		}
		key, effect, found := strings.Cut(v, ":")
		if !found || strings.Contains(key, "=") {
			d.addf(n.Line, path, "must be key:Effect or a mapping with key and effect, not %q", v)
			return t
		}
		t = corev1.Taint{Key: key, Effect: corev1.TaintEffect(effect)}
	} else {
		if isNull(n) {
			d.addf(n.Line, path, "must be key:Effect or a mapping with key and effect, not empty")
			return t
		}
		got := d.fields(n, path, schema{fields: []string{"key", "effect"}})
		d.required(n, n.Line, path, got, "key", "effect")
		for _, e := range got {
			v, ok := d.text(e.value, join(path, e.key))
			switch {
			case !ok:
			case e.key == "key":
				t.Key = v
			default:
				t.Effect = corev1.TaintEffect(v)
			}
		}
		if t.Key == "" || t.Effect == "" {
			return corev1.Taint{}
		}
	}
	if msg := checkTaint(t); msg != "" {
		d.addf(n.Line, path, "%s", msg)
		return corev1.Taint{}
	}
	return t
}

func joinAny[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// zones are the zones of the scenario's pools, in pool order.
func (s *Scenario) zones() []string {
	var zones []string
	for _, p := range s.NodePools {
		z, ok := p.Labels[corev1.LabelTopologyZone]
		if !ok {
			z, ok = p.Labels[corev1.LabelFailureDomainBetaZone]
		}
		if ok && z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	return zones
}

// expectationRefs checks what an expectation refers to: zones, workloads,
// nodes of the fleet at its time.
func (d *decoder) expectationRefs(x *Expectation, s *Scenario, path string, n *yaml.Node) {
	kindNode := lookup(n, x.Kind)
	kindLine := n.Line
	if kindNode != nil {
		kindLine = kindNode.Line
	}
	switch x.Kind {
	case ExpectZoneState:
		if d.badPools {
			return
		}
		if zones := s.zones(); !slices.Contains(zones, x.Zone) {
			f := join(join(path, x.Kind), "zone")
			line := lineOf(kindNode, "zone", kindLine)
			if len(zones) == 0 {
				d.addf(line, f, "no pool is in zone %q: no pool has a %s label", x.Zone, corev1.LabelTopologyZone)
			} else {
				d.addf(line, f, "no pool is in zone %q (zones: %s)", x.Zone, strings.Join(zones, ", "))
			}
		}
		return
	case ExpectEvictions:
		if !d.badWorkloads {
			d.evictionsWorkload(x, s, join(path, x.Kind), kindNode, kindLine)
		}
	}
	if d.badPools || d.badTimeline {
		return
	}
	sizes := s.sizesAt(x.Time)
	nodesLine := lineOf(n, "nodes", n.Line)
	if !d.checkSelector(x.Nodes, s, sizes, x.Time, join(path, "nodes"), nodesLine, lookup(n, "nodes")) {
		return
	}
	if x.Kind != ExpectCondition && x.Kind != ExpectTaint {
		return
	}
	chosen := s.matchCount(x.Nodes, sizes)
	for _, b := range []struct {
		key string
		v   *int
	}{{"count", x.Count}, {"atLeast", x.AtLeast}} {
		if b.v != nil && *b.v > chosen {
			d.addf(lineOf(n, b.key, n.Line), join(path, b.key), "%s %d is more than the %s chosen at %s", b.key, *b.v, plural(chosen, "node"), x.Time)
		}
	}
}

// evictionsWorkload checks an evictions expectation's namespace and
// workload, and fills in the workload's namespace.
func (d *decoder) evictionsWorkload(x *Expectation, s *Scenario, path string, n *yaml.Node, line int) {
	if x.Workload == "" {
		if x.Namespace != "" && !slices.ContainsFunc(s.Workloads, func(w Workload) bool { return w.Namespace == x.Namespace }) {
			d.addf(lineOf(n, "namespace", line), join(path, "namespace"), "no workload is in namespace %q", x.Namespace)
		}
		return
	}
	var namespaces []string
	for _, w := range s.Workloads {
		if w.Name == x.Workload && (x.Namespace == "" || w.Namespace == x.Namespace) {
			namespaces = append(namespaces, w.Namespace)
		}
	}
	switch len(namespaces) {
	case 0:
		where := ""
		if x.Namespace != "" {
			where = " in namespace " + x.Namespace
		}
		d.addf(lineOf(n, "workload", line), join(path, "workload"), "no workload named %q%s", x.Workload, where)
	case 1:
		x.Namespace = namespaces[0]
	default:
		d.addf(lineOf(n, "workload", line), join(path, "workload"), "workloads named %q are in namespaces %s: give namespace", x.Workload, strings.Join(namespaces, ", "))
	}
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// plural is "1 node", "2 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

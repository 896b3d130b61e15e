package scenarios

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Actions are the things a timeline step can do (Step.Do).
var Actions = []string{
	"partition", "stopKubelet", "startKubelet", "restartKubelet", "runtimeDown", "networkDown",
	"memoryPressure", "diskPressure", "pidPressure", "apiServerOutage", "apiServerLatency",
	"cordon", "uncordon", "checkpoint", "restore", "deviceHealth", "addNodes", "deleteNodes",
}

// actionParams are the parameters each action takes besides at and do,
// and which of them it needs.
var actionParams = map[string]struct{ takes, needs []string }{
	"partition":        {takes: []string{"nodes", "for"}},
	"stopKubelet":      {takes: []string{"nodes", "for"}},
	"startKubelet":     {takes: []string{"nodes"}},
	"restartKubelet":   {takes: []string{"nodes"}},
	"runtimeDown":      {takes: []string{"nodes", "for"}},
	"networkDown":      {takes: []string{"nodes", "for"}},
	"memoryPressure":   {takes: []string{"nodes", "for"}},
	"diskPressure":     {takes: []string{"nodes", "for"}},
	"pidPressure":      {takes: []string{"nodes", "for"}},
	"apiServerOutage":  {takes: []string{"for"}},
	"apiServerLatency": {takes: []string{"latency", "for"}, needs: []string{"latency"}},
	"cordon":           {takes: []string{"nodes", "for"}},
	"uncordon":         {takes: []string{"nodes"}},
	"checkpoint":       {takes: []string{"pod", "container", "timeout"}, needs: []string{"pod", "container"}},
	"restore":          {takes: []string{"pod", "container", "node"}, needs: []string{"pod", "container", "node"}},
	"deviceHealth":     {takes: []string{"nodes", "for", "resourceName", "healthy"}, needs: []string{"resourceName", "healthy"}},
	"addNodes":         {takes: []string{"pool", "count"}, needs: []string{"pool", "count"}},
	"deleteNodes":      {takes: []string{"pool", "count"}, needs: []string{"pool", "count"}},
}

// NodeAction says whether action acts on nodes chosen by Step.Nodes.
func NodeAction(action string) bool {
	return slices.Contains(actionParams[action].takes, "nodes")
}

// Lasting says whether action takes a `for`: a fault that lasts (until
// At+For, or the end of the run) rather than a thing done at once.
func Lasting(action string) bool {
	return slices.Contains(actionParams[action].takes, "for")
}

// Step is one item of spec.timeline: at At, do Do.
type Step struct {
	// At is when the step happens, >= 0 and before the end of the run.
	At time.Duration
	// Do is one of Actions.
	Do string
	// Nodes chooses the nodes of a node action (see NodeAction); the zero
	// selector means every node of the fleet at At.
	Nodes NodeSelector
	// For is how long a lasting fault lasts (see Lasting), > 0; 0 means
	// until the end of the run. At+For is at most spec.duration.
	For time.Duration
	// Latency is apiServerLatency's added latency per request, > 0.
	Latency time.Duration
	// Pool and Count are addNodes' and deleteNodes' pool and node count
	// (> 0). deleteNodes removes the pool's last Count nodes.
	Pool  string
	Count int
	// Pod is checkpoint's and restore's pod, "namespace/name", a pod of a
	// workload; Container one of its containers; Node where restore
	// restores it.
	Pod, Container, Node string
	// Timeout is checkpoint's timeout (whole seconds, > 0); 0 means the
	// kubelet's default.
	Timeout time.Duration
	// ResourceName and Healthy are deviceHealth's extended resource and
	// how many of its devices stay healthy on each chosen node (>= 0).
	ResourceName string
	Healthy      int
	// Line is the line of the step in the file.
	Line int
	// Index is the step's place in spec.timeline as written (Timeline is
	// in the order steps happen), for messages: spec.timeline[Index].
	Index int
}

// End is when the step's effect ends: At+For, or end when it lasts until
// the end of the run (For 0) or is done at once.
func (st Step) End(end time.Duration) time.Duration {
	if st.For > 0 {
		return st.At + st.For
	}
	return end
}

var stepSchema = schema{fields: []string{
	"at", "do", "nodes", "for", "latency", "pool", "count", "pod", "container", "node", "timeout", "resourceName", "healthy",
}}

var selectorSchema = schema{fields: []string{"pool", "labels", "names", "fraction"}}

// parsedStep is a step with where its parts are in the file, for the
// checks that need the whole timeline.
type parsedStep struct {
	Step
	path      string
	lines     map[string]int // parameter -> line of its value
	nodesNode *yaml.Node     // the nodes selector, if any
	ok        bool
}

func (d *decoder) timeline(e entry, path string, s *Scenario) {
	items := d.sequence(e.value, path)
	steps := make([]parsedStep, 0, len(items)) // sized: growing a long timeline step by step was most of its cost
	for i, item := range items {
		st := d.step(item, index(path, i), s)
		st.Index = i
		steps = append(steps, st)
	}
	// The order steps happen in: by time; at one instant the fleet changes
	// first, then the rest, each in file order.
	fleetFirst := func(st parsedStep) int {
		if st.Do == "addNodes" || st.Do == "deleteNodes" {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(steps, func(a, b parsedStep) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(fleetFirst(a), fleetFirst(b)))
	})
	allOK := true
	s.Timeline = make([]Step, 0, len(steps))
	for _, st := range steps {
		allOK = allOK && st.ok
		if st.ok {
			s.Timeline = append(s.Timeline, st.Step)
		}
	}
	d.fleetChecks(steps, s, allOK)
}

// step parses one timeline step and checks what it can on its own.
func (d *decoder) step(n *yaml.Node, path string, s *Scenario) parsedStep {
	before := len(d.errs)
	st := parsedStep{Step: Step{Line: n.Line}, path: path, lines: map[string]int{}}
	got := d.fields(n, path, stepSchema)
	d.required(n, n.Line, path, got, "at", "do")
	var action string
	for _, e := range got {
		if e.key == "do" {
			if v, ok := d.text(e.value, join(path, "do")); ok {
				if _, known := actionParams[v]; !known {
					d.addf(e.value.Line, join(path, "do"), "unknown action %q: want one of %s", v, strings.Join(Actions, ", "))
				} else {
					action = v
				}
			}
		}
	}
	if action != "" {
		params := actionParams[action]
		for _, e := range got {
			if e.key != "at" && e.key != "do" && !slices.Contains(params.takes, e.key) {
				d.addf(e.keyNode.Line, join(path, e.key), "%s does not take %s%s", action, e.key, takesHint(params.takes))
			}
		}
		for _, need := range params.needs {
			if !slices.ContainsFunc(got, func(e entry) bool { return e.key == need }) {
				d.addf(n.Line, join(path, need), "required by %s", action)
			}
		}
	}
	st.Do = action
	atOK := false
	for _, e := range got {
		if action != "" && e.key != "at" && e.key != "do" && !slices.Contains(actionParams[action].takes, e.key) {
			continue // reported above
		}
		f := join(path, e.key)
		st.lines[e.key] = e.keyNode.Line
		switch e.key {
		case "at":
			if v, ok := d.duration(e.value, f); ok {
				switch {
				case v < 0:
					d.addf(e.value.Line, f, "must not be negative")
				case s.Duration > 0 && v >= s.Duration:
					d.addf(e.value.Line, f, "must be before the end of the run at %s", s.Duration)
				default:
					st.At, atOK = v, true
				}
			}
		case "for":
			if v, ok := d.duration(e.value, f); ok {
				if v <= 0 {
					d.addf(e.value.Line, f, "must be more than 0 (leave it out for a fault that lasts until the end)")
					continue
				}
				st.For = v
			}
		case "latency":
			if v, ok := d.duration(e.value, f); ok {
				if v <= 0 {
					d.addf(e.value.Line, f, "must be more than 0")
					continue
				}
				st.Latency = v
			}
		case "timeout":
			if v, ok := d.duration(e.value, f); ok {
				if v <= 0 || v%time.Second != 0 {
					d.addf(e.value.Line, f, "must be a whole number of seconds more than 0, as the kubelet's checkpoint API takes, not %s", v)
					continue
				}
				st.Timeout = v
			}
		case "nodes":
			st.Nodes, st.nodesNode = d.selector(e.value, f, true), e.value
		case "pool":
			if v, ok := d.text(e.value, f); ok {
				st.Pool = v
			}
		case "count":
			if v, ok := d.integer(e.value, f); ok {
				if v <= 0 || v > MaxNodes {
					d.addf(e.value.Line, f, "must be from 1 to %d, not %d", MaxNodes, v)
					continue
				}
				st.Count = int(v)
			}
		case "pod":
			if v, ok := d.text(e.value, f); ok {
				if msg := checkPodRef(v); msg != "" {
					d.addf(e.value.Line, f, "%s", msg)
					continue
				}
				st.Pod = v
			}
		case "container":
			if v, ok := d.text(e.value, f); ok {
				if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
					d.addf(e.value.Line, f, "invalid container name %q: %s", v, msgs[0])
					continue
				}
				st.Container = v
			}
		case "node":
			if v, ok := d.text(e.value, f); ok {
				st.Node = v
			}
		case "resourceName":
			if v, ok := d.text(e.value, f); ok {
				if msg := checkResourceName(v); msg != "" || !strings.Contains(v, "/") {
					d.addf(e.value.Line, f, "must be a device plugin's extended resource such as example.com/gpu, not %q", v)
					continue
				}
				st.ResourceName = v
			}
		case "healthy":
			if v, ok := d.integer(e.value, f); ok {
				if v < 0 || v > 1<<20 {
					d.addf(e.value.Line, f, "must be from 0 to %d, not %d", 1<<20, v)
					continue
				}
				st.Healthy = int(v)
			}
		}
	}
	// At < Duration here, so Duration-At cannot overflow where At+For
	// can (at: 2562046h, for: 2562046h).
	if line := st.lines["for"]; st.For > 0 && atOK && Lasting(action) && s.Duration > 0 && st.For > s.Duration-st.At {
		d.addf(line, join(path, "for"), "the step would end at %s, past the end of the run at %s", endOf(st.At, st.For), s.Duration)
	}
	if st.Pod != "" && !d.badWorkloads {
		d.podContainer(st, s)
	}
	st.ok = len(d.errs) == before
	return st
}

// endOf is at+d for a message, or "more than 2562047h" when the sum is
// past what a time.Duration holds.
func endOf(at, d time.Duration) string {
	if d > math.MaxInt64-at {
		return fmt.Sprintf("more than %s", time.Duration(math.MaxInt64).Truncate(time.Hour))
	}
	return (at + d).String()
}

// takesHint lists the parameters an action takes, for a message.
func takesHint(takes []string) string {
	if len(takes) == 0 {
		return ""
	}
	return " (it takes " + strings.Join(takes, ", ") + ")"
}

// checkPodRef checks a pod reference "namespace/name".
func checkPodRef(v string) string {
	ns, name, found := strings.Cut(v, "/")
	if !found {
		return fmt.Sprintf("must be namespace/name, not %q", v)
	}
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return fmt.Sprintf("invalid namespace %q: %s", ns, msgs[0])
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Sprintf("invalid pod name %q: %s", name, msgs[0])
	}
	return ""
}

// workloadOf returns the workload whose pod is "namespace/name".
func (s *Scenario) workloadOf(pod string) (Workload, bool) {
	ns, name, _ := strings.Cut(pod, "/")
	for _, w := range s.Workloads {
		if _, ok := w.Pod(ns, name); ok {
			return w, true
		}
	}
	return Workload{}, false
}

// podContainer checks that a step's pod is a workload's and has its
// container.
func (d *decoder) podContainer(st parsedStep, s *Scenario) {
	w, ok := s.workloadOf(st.Pod)
	if !ok {
		d.addf(st.lines["pod"], join(st.path, "pod"), "%s is not a pod of any workload (pods are <workload>-<index>, index below replicas)", st.Pod)
		return
	}
	if st.Container == "" {
		return
	}
	var names []string
	for _, c := range w.Template.Spec.Containers {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, st.Container) {
		d.addf(st.lines["container"], join(st.path, "container"), "pod %s has no container %q (it has %s)", st.Pod, st.Container, strings.Join(names, ", "))
	}
}

// selector parses a node selector; fraction is allowed in timeline steps
// only.
func (d *decoder) selector(n *yaml.Node, path string, fraction bool) NodeSelector {
	var sel NodeSelector
	for _, e := range d.fields(n, path, selectorSchema) {
		f := join(path, e.key)
		switch e.key {
		case "pool":
			if v, ok := d.text(e.value, f); ok {
				sel.Pool = v
			}
		case "labels":
			for _, l := range d.mapping(e.value, f) {
				lf := join(f, l.key)
				v, ok := "", true
				if !isNull(l.value) {
					v, ok = d.text(l.value, lf)
				}
				if !ok {
					continue
				}
				if msg := checkSelectorLabel(l.key, v); msg != "" {
					d.addf(l.keyNode.Line, lf, "%s", msg)
					continue
				}
				if sel.Labels == nil {
					sel.Labels = make(map[string]string)
				}
				sel.Labels[l.key] = v
			}
		case "names":
			items := d.sequence(e.value, f)
			if e.value.Kind == yaml.SequenceNode && len(items) == 0 {
				d.addf(e.value.Line, f, "must not be empty (leave names out to choose every node)")
			}
			first := make(map[string]int)
			for i, item := range items {
				v, ok := d.text(item, index(f, i))
				if !ok {
					continue
				}
				if line, dup := first[v]; dup {
					d.addf(item.Line, index(f, i), "duplicate node %q (first at line %d)", v, line)
					continue
				}
				first[v] = item.Line
				sel.Names = append(sel.Names, v)
			}
		case "fraction":
			if !fraction {
				d.addf(e.keyNode.Line, f, "an expectation's nodes take no fraction: it looks at every node chosen (use atLeast for some of them)")
				continue
			}
			if v, ok := d.number(e.value, f); ok {
				if v <= 0 || v > 1 {
					d.addf(e.value.Line, f, "must be more than 0 and at most 1, not %s", e.value.Value)
					continue
				}
				sel.Fraction = v
			}
		}
	}
	return sel
}

// checkSelector reports what in a selector refers to nothing in a fleet of
// these pool sizes at time t: a pool that does not exist, a node not in the
// fleet, or no node matched at all. nodesLine is the line of the selector
// (or of the item without one).
func (d *decoder) checkSelector(sel NodeSelector, s *Scenario, sizes []int, t time.Duration, path string, nodesLine int, n *yaml.Node) bool {
	if d.badPools {
		return true
	}
	ok := true
	if sel.Pool != "" && !slices.ContainsFunc(s.NodePools, func(p NodePool) bool { return p.Name == sel.Pool }) {
		d.addf(lineOf(n, "pool", nodesLine), join(path, "pool"), "no pool named %q", sel.Pool)
		return false
	}
	for i, name := range sel.Names {
		if s.anyMatch(NodeSelector{Names: []string{name}}, sizes) {
			continue
		}
		ok = false
		line := nodesLine
		if names := lookup(n, "names"); names != nil && i < len(names.Content) {
			line = names.Content[i].Line
		}
		if _, _, exists := s.NodePoolOf(name); exists {
			d.addf(line, index(join(path, "names"), i), "node %q does not exist at %s", name, t)
		} else {
			d.addf(line, index(join(path, "names"), i), "no node named %q in the fleet", name)
		}
	}
	if ok && !s.anyMatch(sel, sizes) {
		if sel.IsZero() {
			d.addf(nodesLine, path, "matches no node: the fleet is empty at %s", t)
		} else {
			d.addf(nodesLine, path, "matches no node")
		}
		ok = false
	}
	return ok
}

// lookup returns the value of key in mapping n (nil if n is nil, not a
// mapping, or has no such key), following aliases but not merge keys.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// lineOf is the line of key's value in mapping n, or def.
func lineOf(n *yaml.Node, key string, def int) int {
	if v := lookup(n, key); v != nil {
		return v.Line
	}
	return def
}

// fleetChecks walks the steps in the order they happen, keeping the size
// of each pool, and checks what depends on the fleet of the moment: pools
// and nodes exist, selectors match, deleteNodes leaves a pool no smaller
// than empty, the fleet stays within MaxNodes, a restore has its
// checkpoint. all says every step parsed without problems.
func (d *decoder) fleetChecks(steps []parsedStep, s *Scenario, all bool) {
	if d.badPools {
		return
	}
	sizes := s.initialSizes()
	total := s.NodeCount()
	poolIndex := func(name string) int {
		return slices.IndexFunc(s.NodePools, func(p NodePool) bool { return p.Name == name })
	}
	// The earliest checkpoint of each pod/container so far: a map, not a
	// list searched for each restore, which was quadratic.
	checkpoints := map[string]time.Duration{}
	for _, st := range steps {
		if !st.ok {
			continue
		}
		switch st.Do {
		case "addNodes", "deleteNodes":
			i := poolIndex(st.Pool)
			if i < 0 {
				d.addf(st.lines["pool"], join(st.path, "pool"), "no pool named %q", st.Pool)
				continue
			}
			p := s.NodePools[i]
			if st.Do == "deleteNodes" {
				if st.Count > sizes[i] {
					d.addf(st.lines["count"], join(st.path, "count"), "pool %s has only %d nodes at %s", p.Name, sizes[i], st.At)
					continue
				}
				sizes[i] -= st.Count
				total -= st.Count
				continue
			}
			if total+st.Count > MaxNodes {
				d.addf(st.lines["count"], join(st.path, "count"), "the fleet would have %d nodes, more than the %d a scenario may have", total+st.Count, MaxNodes)
				continue
			}
			if last := p.NodeName(sizes[i] + st.Count - 1); len(last) > validation.DNS1123LabelMaxLength {
				d.addf(st.lines["count"], join(st.path, "count"), "node names like %q would have %d characters, more than the %d the kubernetes.io/hostname label allows",
					last, len(last), validation.DNS1123LabelMaxLength)
				continue
			}
			sizes[i] += st.Count
			total += st.Count
		case "checkpoint":
			key := st.Pod + "/" + st.Container
			if at, ok := checkpoints[key]; !ok || st.At < at {
				checkpoints[key] = st.At
			}
		case "restore":
			if !s.anyMatch(NodeSelector{Names: []string{st.Node}}, sizes) {
				d.addf(st.lines["node"], join(st.path, "node"), "no node %q at %s", st.Node, st.At)
			}
			if at, ok := checkpoints[st.Pod+"/"+st.Container]; all && (!ok || at >= st.At) {
				d.addf(st.Line, st.path, "restores %s container %s, which no checkpoint step before it checkpoints", st.Pod, st.Container)
			}
		}
		if NodeAction(st.Do) {
			line, ok := st.lines["nodes"]
			if !ok {
				line = st.Line
			}
			d.checkSelector(st.Nodes, s, sizes, st.At, join(st.path, "nodes"), line, st.nodesNode)
		}
	}
}

package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodesim/nodesim/sim"
)

// Result is the verdict on one expectation.
type Result struct {
	// Type is the expectation's kind (Expectation.Type).
	Type string
	// Reason is one sentence: what was expected and what was seen
	// (Expected; Seen).
	Reason string
	// Expected and Seen are Reason's two halves.
	Expected, Seen string
	// Line is the expectation's line in the scenario file (0: unknown).
	Line int
	// Passed says whether the expectation held.
	Passed bool
	// At is when the verdict was reached: when what was expected first
	// held (by), the instant looked at (at), when a bound was first
	// broken, or the deadline when it never held.
	At time.Duration
}

// Check evaluates every expectation, in file order, against a run's trace
// records (in the order of the trace) and the scenario's fleet; end is how
// long the run lasted in virtual time.
//
// The state at an instant is the state after every record of that instant:
// a node has a condition status from its last NodeConditionChanged of that
// type, a taint between NodeTaintAdded and NodeTaintRemoved, a zone its
// last ZoneStateChanged (Initial before any). Instants are 0 and the times
// of the records. An expectation whose time is past end fails: the run did
// not get there.
func (s *Scenario) Check(records []sim.Record, end time.Duration) []Result {
	results := make([]Result, 0, len(s.Expect))
	for _, x := range s.Expect {
		results = append(results, s.check(x, records, end, nil))
	}
	return results
}

// CheckOwn evaluates expectation i as Check does, over the nodes owns
// says are judged (nil: every node): a shard of the fleet judges its own
// nodes, the count "all" of a condition or taint expectation being how
// many of them the selector chooses, and counts evictions and taints of
// its own nodes only. records may stop before the expectation's time: a
// passed result that FinalWhenPassed is then final.
func (s *Scenario) CheckOwn(i int, records []sim.Record, end time.Duration, owns func(node string) bool) Result {
	return s.check(s.Expect[i], records, end, owns)
}

// FinalWhenPassed says whether the expectation, once it held at an
// instant, holds whatever comes after: a condition, taint or zone state
// expected by a time. Others are decided at their time.
func (x Expectation) FinalWhenPassed() bool {
	return x.When == "by" && (x.Kind == ExpectCondition || x.Kind == ExpectTaint || x.Kind == ExpectZoneState)
}

func (s *Scenario) check(x Expectation, records []sim.Record, end time.Duration, owns func(string) bool) Result {
	r := Result{Type: x.Type(), Line: x.Line}
	expected := s.describe(x, owns)
	r.Expected = expected
	if x.Time > end {
		r.At = end
		r.Seen = fmt.Sprintf("the run ended at %s, before %s", end, x.Time)
		r.Reason = expected + "; " + r.Seen
		return r
	}
	var seen string
	switch x.Kind {
	case ExpectCondition, ExpectTaint:
		seen = s.checkNodes(x, records, &r, owns)
	case ExpectEvictions:
		seen = s.checkEvictions(x, records, &r, owns)
	case ExpectZoneState:
		seen = checkZone(x, records, &r)
	case ExpectTaintRate:
		seen = s.checkTaintRate(x, records, &r, owns)
	default:
		r.At = x.Time
		seen = "nodesim cannot check this kind of expectation"
	}
	r.Seen = seen
	r.Reason = expected + "; " + seen
	return r
}

// instants calls f with each instant up to t (0 and each record time) and
// the records of that instant, in order; it stops when f returns false.
func instants(records []sim.Record, t time.Duration, f func(at time.Duration, group []sim.Record) bool) {
	i := 0
	if len(records) == 0 || records[0].T > 0 {
		if !f(0, nil) {
			return
		}
	}
	for i < len(records) && records[i].T <= t {
		j := i + 1
		for j < len(records) && records[j].T == records[i].T {
			j++
		}
		if !f(records[i].T, records[i:j]) {
			return
		}
		i = j
	}
}

// within says whether n is within the expectation's count bounds; all is
// the number n must be when no bound is given.
func (x Expectation) within(n, all int) bool {
	switch {
	case x.Count != nil:
		return n == *x.Count
	case x.AtLeast == nil && x.AtMost == nil:
		return n == all
	}
	return (x.AtLeast == nil || n >= *x.AtLeast) && (x.AtMost == nil || n <= *x.AtMost)
}

// checkNodes checks a condition or taint expectation.
func (s *Scenario) checkNodes(x Expectation, records []sim.Record, r *Result, owns func(string) bool) string {
	// The chosen nodes are those of the fleet at the expectation's time
	// that the selector matches; they are counted, not listed, and a node
	// of the trace is judged when it first appears.
	sizes := s.sizesAt(x.Time)
	all := s.chosenCount(x.Nodes, sizes, owns)
	chosen := make(map[string]bool)
	isChosen := func(name string) bool {
		c, ok := chosen[name]
		if !ok {
			pool, i, exists := s.locate(name)
			c = exists && i < sizes[pool] && s.nodeMatches(x.Nodes, name) && judged(owns, name)
			chosen[name] = c
		}
		return c
	}
	has := make(map[string]bool)
	count := 0
	apply := func(rec sim.Record) {
		if !isChosen(rec.Node) {
			return
		}
		var present bool
		switch {
		case x.Kind == ExpectCondition && rec.Event == sim.EventNodeConditionChanged && rec.Type == string(x.Condition):
			present = rec.Status == string(x.Status)
		case x.Kind == ExpectTaint && rec.Event == sim.EventNodeTaintAdded && rec.Key == x.Taint.Key && rec.Effect == string(x.Taint.Effect):
			present = true
		case x.Kind == ExpectTaint && rec.Event == sim.EventNodeTaintRemoved && rec.Key == x.Taint.Key && rec.Effect == string(x.Taint.Effect):
			present = false
		default:
			return
		}
		if present != has[rec.Node] {
			has[rec.Node] = present
			if present {
				count++
			} else {
				count--
			}
		}
	}
	if x.When == "at" {
		instants(records, x.Time, func(_ time.Duration, group []sim.Record) bool {
			for _, rec := range group {
				apply(rec)
			}
			return true
		})
		r.Passed, r.At = x.within(count, all), x.Time
		return fmt.Sprintf("%s then", hadIt(count))
	}
	least, most := -1, -1
	var leastAt, mostAt time.Duration
	instants(records, x.Time, func(at time.Duration, group []sim.Record) bool {
		for _, rec := range group {
			apply(rec)
		}
		if x.within(count, all) {
			r.Passed, r.At = true, at
			return false
		}
		if most < 0 || count > most {
			most, mostAt = count, at
		}
		if least < 0 || count < least {
			least, leastAt = count, at
		}
		return true
	})
	if r.Passed {
		return fmt.Sprintf("%s at %s", hadIt(count), r.At)
	}
	r.At = x.Time
	wantMore := x.Count == nil && x.AtMost == nil
	wantFewer := x.Count == nil && x.AtLeast == nil && x.AtMost != nil
	switch {
	case wantMore && most <= 0:
		return "none had it by then"
	case wantMore:
		return fmt.Sprintf("at most %d had it at once by then (first at %s)", most, mostAt)
	case wantFewer:
		return fmt.Sprintf("at least %d had it at every instant by then (the fewest at %s)", least, leastAt)
	case least == most:
		return fmt.Sprintf("%s at every instant by then", hadIt(most))
	}
	return fmt.Sprintf("between %d and %d had it by then", least, most)
}

func hadIt(n int) string {
	if n == 0 {
		return "none had it"
	}
	return strconv.Itoa(n) + " had it"
}

// nodeMatches says whether the node named name, wherever it is in its
// pool's life, is one sel chooses (before any fraction).
func (s *Scenario) nodeMatches(sel NodeSelector, name string) bool {
	if sel.IsZero() {
		return true
	}
	p, i, ok := s.NodePoolOf(name)
	if !ok || (sel.Pool != "" && sel.Pool != p.Name) || !p.poolLabelsMatch(sel.Labels) {
		return false
	}
	if host, ok := sel.Labels[corev1.LabelHostname]; ok && host != p.NodeName(i) {
		return false
	}
	return len(sel.Names) == 0 || slices.Contains(sel.Names, name)
}

// checkEvictions checks an evictions expectation: the PodEvicted records
// up to its time.
func (s *Scenario) checkEvictions(x Expectation, records []sim.Record, r *Result, owns func(string) bool) string {
	var times []time.Duration
	for _, rec := range records {
		if rec.T > x.Time {
			break
		}
		if rec.Event != sim.EventPodEvicted || !s.nodeMatches(x.Nodes, rec.Node) || !judged(owns, rec.Node) {
			continue
		}
		ns, name, _ := strings.Cut(rec.Pod, "/")
		if x.Namespace != "" && ns != x.Namespace {
			continue
		}
		if x.Workload != "" && !(Workload{Name: x.Workload, Namespace: x.Namespace, Replicas: MaxPods}).isPod(ns, name) {
			continue
		}
		times = append(times, rec.T)
	}
	n := len(times)
	were := "none were"
	switch {
	case n == 1:
		were = "1 was"
	case n > 1:
		were = fmt.Sprintf("%d were", n)
	}
	upper := -1
	switch {
	case x.Count != nil:
		upper = *x.Count
	case x.AtMost != nil:
		upper = *x.AtMost
	}
	r.Passed, r.At = x.within(n, n), x.Time
	switch {
	case upper >= 0 && n > upper:
		r.At = times[upper]
		return fmt.Sprintf("%s (the %s at %s)", were, ordinal(upper+1), r.At)
	case r.Passed && x.AtMost == nil && x.Count == nil && x.AtLeast != nil && *x.AtLeast > 0:
		r.At = times[*x.AtLeast-1]
		return fmt.Sprintf("%s (the %s at %s)", were, ordinal(*x.AtLeast), r.At)
	}
	return were
}

// isPod says whether ns/name is one of the workload's pods, its replica
// count aside.
func (w Workload) isPod(ns, name string) bool {
	_, ok := w.Pod(ns, name)
	return ok
}

// ordinal is 1st, 2nd, 3rd, 4th, 11th, 21st ...
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// checkZone checks a zoneState expectation.
func checkZone(x Expectation, records []sim.Record, r *Result) string {
	state, since := ZoneInitial, time.Duration(0)
	var seen []string // the states at the instants looked at, in order
	instant := func(at time.Duration, group []sim.Record) {
		for _, rec := range group {
			if rec.Event == sim.EventZoneStateChanged && rec.Zone == x.Zone && rec.Status != state {
				state, since = rec.Status, at
			}
		}
		if !slices.Contains(seen, state) {
			seen = append(seen, state)
		}
	}
	if x.When == "at" {
		instants(records, x.Time, func(at time.Duration, group []sim.Record) bool {
			instant(at, group)
			return true
		})
		r.Passed, r.At = state == x.State, x.Time
		if r.Passed {
			return fmt.Sprintf("it was, since %s", since)
		}
		return fmt.Sprintf("it was in %s then (since %s)", state, since)
	}
	instants(records, x.Time, func(at time.Duration, group []sim.Record) bool {
		instant(at, group)
		if state == x.State {
			r.Passed, r.At = true, at
			return false
		}
		return true
	})
	if r.Passed {
		return fmt.Sprintf("it was at %s", r.At)
	}
	r.At = x.Time
	return fmt.Sprintf("it was only in %s by then", strings.Join(seen, ", "))
}

// checkTaintRate checks a taintRate expectation: in every window of Per,
// at most AtMost taints added.
func (s *Scenario) checkTaintRate(x Expectation, records []sim.Record, r *Result, owns func(string) bool) string {
	var times []time.Duration
	for _, rec := range records {
		if rec.T > x.Time {
			break
		}
		if rec.Event == sim.EventNodeTaintAdded && rec.Key == x.Taint.Key && rec.Effect == string(x.Taint.Effect) && s.nodeMatches(x.Nodes, rec.Node) && judged(owns, rec.Node) {
			times = append(times, rec.T)
		}
	}
	limit := 0
	if x.AtMost != nil {
		limit = *x.AtMost
	}
	r.Passed, r.At = true, x.Time
	most, mostFrom, mostTo := 0, time.Duration(0), time.Duration(0)
	firstBad := ""
	for i, j := 0, 0; j < len(times); j++ {
		// Window (times[j]-Per, times[j]]: a window of length Per ending at
		// the j-th addition holds the additions since then.
		for times[i] <= times[j]-x.Per {
			i++
		}
		n := j - i + 1
		if n > most {
			most, mostFrom, mostTo = n, times[i], times[j]
		}
		if n > limit && r.Passed {
			r.Passed, r.At = false, times[j]
			firstBad = fmt.Sprintf("%d were added from %s to %s", n, times[i], times[j])
		}
	}
	switch {
	case len(times) == 0:
		return "none were added"
	case !r.Passed && most > limit+1:
		return fmt.Sprintf("%s (the most in one window: %d, from %s to %s)", firstBad, most, mostFrom, mostTo)
	case !r.Passed:
		return firstBad
	}
	return fmt.Sprintf("the most in one window was %d, from %s to %s", most, mostFrom, mostTo)
}

// describe is the first half of a Result's reason: "expected ...".
func (s *Scenario) describe(x Expectation, owns func(string) bool) string {
	when := x.When + " " + x.Time.String()
	switch x.Kind {
	case ExpectCondition, ExpectTaint:
		all := s.chosenCount(x.Nodes, s.sizesAt(x.Time), owns)
		what := fmt.Sprintf("%s=%s", x.Condition, x.Status)
		if x.Kind == ExpectTaint {
			what = "taint " + taintName(x.Taint)
		}
		return fmt.Sprintf("expected %s with %s %s", s.howManyNodes(x, all), what, when)
	case ExpectEvictions:
		var b strings.Builder
		b.WriteString("expected ")
		b.WriteString(howMany(x, "pod"))
		switch {
		case x.Workload != "":
			fmt.Fprintf(&b, " of workload %s/%s", x.Namespace, x.Workload)
		case x.Namespace != "":
			fmt.Fprintf(&b, " in namespace %s", x.Namespace)
		}
		b.WriteString(" evicted")
		if !x.Nodes.IsZero() {
			b.WriteString(" from " + nodesPhrase(x.Nodes))
		}
		return b.String() + " " + when
	case ExpectZoneState:
		return fmt.Sprintf("expected zone %s in %s %s", x.Zone, x.State, when)
	case ExpectTaintRate:
		limit := 0
		if x.AtMost != nil {
			limit = *x.AtMost
		}
		to := ""
		if !x.Nodes.IsZero() {
			to = " to " + nodesPhrase(x.Nodes)
		}
		noun := "taints"
		if limit == 1 {
			noun = "taint"
		}
		return fmt.Sprintf("expected at most %d %s %s added%s in any %s window %s", limit, taintName(x.Taint), noun, to, x.Per, when)
	}
	return "expected " + x.Kind
}

// chosenCount is how many of the nodes owns judges sel matches in a
// fleet of these pool sizes, before any fraction.
func (s *Scenario) chosenCount(sel NodeSelector, sizes []int, owns func(string) bool) int {
	if owns == nil {
		return s.matchCount(sel, sizes)
	}
	n := 0
	for i, p := range s.NodePools {
		p.candidates(sel, sizes[i], func(idx int) bool {
			if owns(p.NodeName(idx)) {
				n++
			}
			return true
		})
	}
	return n
}

// judged says whether owns (nil: every node) judges the node.
func judged(owns func(string) bool, node string) bool { return owns == nil || owns(node) }

func taintName(t corev1.Taint) string { return t.Key + ":" + string(t.Effect) }

// howManyNodes says which of all chosen nodes are expected: "1000 nodes of
// pool zone-a", "at least 5 of the 1000 nodes of pool zone-a".
func (s *Scenario) howManyNodes(x Expectation, all int) string {
	nodes := plural(all, "node")
	if rest := selectorPhrase(x.Nodes); rest != "" {
		nodes += " " + rest
	}
	if x.Count == nil && x.AtLeast == nil && x.AtMost == nil {
		return nodes
	}
	return bound(x) + " of the " + nodes
}

// howMany says how many things are expected: "at most 50 pods".
func howMany(x Expectation, noun string) string {
	n := 0
	switch {
	case x.Count != nil:
		n = *x.Count
	case x.AtMost != nil:
		n = *x.AtMost
	case x.AtLeast != nil:
		n = *x.AtLeast
	}
	if n == 1 {
		return bound(x) + " " + noun
	}
	return bound(x) + " " + noun + "s"
}

// bound is "exactly 5", "at least 5", "at most 5" or "5 to 10".
func bound(x Expectation) string {
	switch {
	case x.Count != nil:
		return fmt.Sprintf("exactly %d", *x.Count)
	case x.AtLeast != nil && x.AtMost != nil && *x.AtLeast == *x.AtMost:
		return fmt.Sprintf("exactly %d", *x.AtLeast)
	case x.AtLeast != nil && x.AtMost != nil:
		return fmt.Sprintf("%d to %d", *x.AtLeast, *x.AtMost)
	case x.AtLeast != nil:
		return fmt.Sprintf("at least %d", *x.AtLeast)
	case x.AtMost != nil:
		return fmt.Sprintf("at most %d", *x.AtMost)
	}
	return "all"
}

// nodesPhrase names the nodes a selector chooses: "nodes of pool zone-a".
func nodesPhrase(sel NodeSelector) string {
	if rest := selectorPhrase(sel); rest != "" {
		return "nodes " + rest
	}
	return "nodes"
}

// selectorPhrase describes a selector after the word "nodes": "of pool
// zone-a labelled a=b named a-0, a-1".
func selectorPhrase(sel NodeSelector) string {
	var parts []string
	if sel.Pool != "" {
		parts = append(parts, "of pool "+sel.Pool)
	}
	if len(sel.Labels) > 0 {
		var labels []string
		for _, k := range sortedKeys(sel.Labels) {
			labels = append(labels, k+"="+sel.Labels[k])
		}
		parts = append(parts, "labelled "+strings.Join(labels, ","))
	}
	if len(sel.Names) > 0 {
		names := sel.Names
		more := ""
		if len(names) > 3 {
			names, more = names[:3], fmt.Sprintf(" and %d more", len(sel.Names)-3)
		}
		parts = append(parts, "named "+strings.Join(names, ", ")+more)
	}
	return strings.Join(parts, " ")
}

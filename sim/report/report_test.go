package report

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim"
)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// partitionInput is three nodes in one zone: registered and Ready, then
// partitioned from 5m to 10m so they go Unknown (one NotReady first), get
// the unreachable taints, two pods are evicted, and the taints leave when
// the partition ends. One expectation failed.
func partitionInput() Input {
	nodes := []string{"a-0", "a-1", "a-2"}
	var recs []sim.Record
	add := func(t float64, r sim.Record) {
		r.T = sec(t)
		recs = append(recs, r)
	}
	for i, n := range nodes {
		t := 0.1 + float64(i)*0.5
		add(t, sim.Record{Event: sim.EventNodeRegistered, Node: n})
		add(t, sim.Record{Event: sim.EventNodeConditionChanged, Node: n, Type: "Ready", Status: "False", Reason: "KubeletNotReady"})
		add(t, sim.Record{Event: sim.EventNodeTaintAdded, Node: n, Key: "node.kubernetes.io/not-ready", Effect: "NoSchedule"})
	}
	for _, n := range nodes {
		add(3, sim.Record{Event: sim.EventNodeConditionChanged, Node: n, Type: "Ready", Status: "True", Reason: "KubeletReady"})
		add(3, sim.Record{Event: sim.EventNodeTaintRemoved, Node: n, Key: "node.kubernetes.io/not-ready", Effect: "NoSchedule"})
	}
	for s := 10.0; s < 900; s += 10 {
		for _, n := range nodes {
			if s < 300 || s >= 600 {
				add(s, sim.Record{Event: "LeaseRenewed", Node: n})
			}
		}
	}
	add(300, sim.Record{Event: "FaultStarted", Type: "partition", Zone: "zone-a"})
	add(320, sim.Record{Event: sim.EventNodeConditionChanged, Node: "a-1", Type: "Ready", Status: "False", Reason: "KubeletNotReady"})
	for _, n := range nodes {
		add(345, sim.Record{Event: sim.EventNodeConditionChanged, Node: n, Type: "Ready", Status: "Unknown", Reason: "NodeStatusUnknown"})
		add(345, sim.Record{Event: sim.EventNodeTaintAdded, Node: n, Key: "node.kubernetes.io/unreachable", Effect: "NoSchedule"})
		add(345, sim.Record{Event: sim.EventNodeTaintAdded, Node: n, Key: "node.kubernetes.io/unreachable", Effect: "NoExecute"})
	}
	add(345, sim.Record{Event: "ZoneStateChanged", Zone: "zone-a", Status: "FullDisruption"})
	add(645, sim.Record{Event: sim.EventPodEvicted, Pod: "default/web-0", Node: "a-0", Reason: "TaintManagerEviction"})
	add(646, sim.Record{Event: sim.EventPodEvicted, Pod: "default/web-1", Node: "a-2", Reason: "TaintManagerEviction"})
	add(600, sim.Record{Event: "FaultEnded", Type: "partition", Zone: "zone-a"})
	for _, n := range nodes {
		add(610, sim.Record{Event: sim.EventNodeConditionChanged, Node: n, Type: "Ready", Status: "True", Reason: "KubeletReady"})
		add(611, sim.Record{Event: sim.EventNodeTaintRemoved, Node: n, Key: "node.kubernetes.io/unreachable", Effect: "NoSchedule"})
		add(611, sim.Record{Event: sim.EventNodeTaintRemoved, Node: n, Key: "node.kubernetes.io/unreachable", Effect: "NoExecute"})
	}
	add(611, sim.Record{Event: "ZoneStateChanged", Zone: "zone-a", Status: "Normal"})
	add(900, sim.Record{Event: "ExpectationFailed", Type: "noEvictions", Reason: "2 pods evicted, want 0 <before> & after"})

	// Records were added out of order above; the trace is in order.
	sortRecords(recs)

	var writes []Sample
	for s := 1; s <= 900; s++ {
		n := int64(6)
		if s > 300 && s <= 600 {
			n = 1
		}
		writes = append(writes, Sample{T: sec(float64(s)), Writes: n})
	}
	return Input{
		Scenario:    "zone-partition",
		Seed:        42,
		Nodes:       3,
		Duration:    15 * time.Minute,
		WallSeconds: 2.5,
		Passed:      false,
		Expectations: []Expectation{
			{Type: "nodesNotReady", Reason: "3 nodes Unknown within 50s", Passed: true},
			{Type: "noEvictions", Reason: "2 pods evicted, want 0 <before> & after", Passed: false},
		},
		Faults: []Fault{
			{Type: "partition", Target: "zone=zone-a", Start: 5 * time.Minute, End: 10 * time.Minute},
			{Type: "apiServerLatency", Target: "200ms", Start: 12 * time.Minute},
		},
		Records: recs,
		Writes:  writes,
		Zones:   map[string]string{"a-0": "zone-a", "a-1": "zone-a", "a-2": "zone-a"},
	}
}

func sortRecords(recs []sim.Record) {
	for i := 1; i < len(recs); i++ {
		for j := i; j > 0 && recs[j].T < recs[j-1].T; j-- {
			recs[j], recs[j-1] = recs[j-1], recs[j]
		}
	}
}

func render(t testing.TB, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// svgs returns the <svg>...</svg> elements of the page, failing unless
// they are balanced and not nested.
func svgs(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	rest := page
	for {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "</svg>")
		if j < 0 {
			t.Fatalf("<svg> without </svg>")
		}
		el := rest[i : i+j+len("</svg>")]
		if strings.Count(el, "<svg") != 1 {
			t.Fatalf("nested or unbalanced <svg>")
		}
		out = append(out, el)
		rest = rest[i+j+len("</svg>"):]
	}
	if strings.Contains(rest, "</svg>") {
		t.Fatalf("</svg> without <svg>")
	}
	return out
}

func TestReportContents(t *testing.T) {
	page := render(t, partitionInput())

	for _, want := range []string{
		"<!DOCTYPE html>",
		"zone-partition", // scenario
		">42<",           // seed
		"15m",            // virtual duration
		"2.5 s",          // wall time
		"360×",           // speed-up
		`class="verdict fail"`, ">FAIL<",
		"1 of 2 expectations held",
		"3 nodes Unknown within 50s",
		"2 pods evicted, want 0 &lt;before&gt; &amp; after", // escaped
		"nodesNotReady", "noEvictions", "✘ failed", "✔ passed",
		"partition zone=zone-a", "apiServerLatency 200ms", // fault labels
		"end of run",
		"2 pods evicted",
		"zone-a", "5m45s FullDisruption → 10m11s Normal",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<before>") {
		t.Errorf("unescaped text in the page")
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("page has a script")
	}
	if strings.Contains(page, "http://") && strings.Count(page, "http://") != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("page refers to something on the network")
	}

	all := svgs(t, page)
	if len(all) != 9 {
		t.Fatalf("got %d <svg> elements, want 9 (timeline and eight plots)", len(all))
	}
	legends := [][]string{
		{"Ready=True", "Ready=False", "Ready=Unknown"},
		{"node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"},
		{"evicted pods (cumulative)"},
		{"API writes/s"},
	}
	for i, names := range legends {
		el := all[i+1]
		for _, n := range names {
			if !strings.Contains(el, `class="legend"`) || !strings.Contains(el, ">"+n+"</text>") {
				t.Errorf("plot %d legend lacks %q", i+1, n)
			}
		}
		if !strings.Contains(el, ">partition (shaded)</text>") || !strings.Contains(el, `class="fault"`) {
			t.Errorf("plot %d has no fault shading", i+1)
		}
	}
	// Every node was registered in the first second: no such series.
	if strings.Contains(all[1], "not registered yet") {
		t.Errorf("Ready plot shows a 'not registered' series that is always 0")
	}
	// The taint plot's y axis goes to 3 nodes, the evictions' to 2.
	if !strings.Contains(all[2], ">3</text>") || !strings.Contains(all[3], ">2</text>") {
		t.Errorf("y axes do not reach the data")
	}
	if !strings.Contains(all[0], ">partition zone=zone-a</text>") {
		t.Errorf("fault timeline lacks its row label")
	}
}

func TestReadySeries(t *testing.T) {
	in := partitionInput()
	in.Nodes = 5 // two nodes never register
	tl := timeline{total: in.Duration, ncols: 900}
	a := analyze(&in, tl)
	at := func(s *stepSeries, sec int) float64 {
		v := s.initial
		for c := 0; c <= sec; c++ {
			if s.cols[c].set {
				v = s.cols[c].last
			}
		}
		return v
	}
	for _, c := range []struct {
		sec                             int
		ready, notReady, unknown, unreg float64
	}{
		{0, 0, 2, 0, 3},
		{2, 0, 3, 0, 2},
		{100, 3, 0, 0, 2},
		{330, 2, 1, 0, 2},
		{400, 0, 0, 3, 2},
		{700, 3, 0, 0, 2},
	} {
		got := [4]float64{at(a.ready[readyTrue], c.sec), at(a.ready[readyFalse], c.sec), at(a.ready[readyUnknown], c.sec), at(a.ready[readyNotRegistered], c.sec)}
		want := [4]float64{c.ready, c.notReady, c.unknown, c.unreg}
		if got != want {
			t.Errorf("at %ds: True, False, Unknown, not registered = %v, want %v", c.sec, got, want)
		}
	}
	if a.peakLost.value != 3 || a.peakLost.t != sec(345) {
		t.Errorf("peak lost = %v, want 3 at 5m45s", a.peakLost)
	}
	if got := at(a.evicted, 899); got != 2 {
		t.Errorf("evictions = %v, want 2", got)
	}
	if len(a.taints) != 3 || at(a.taints[2], 400) != 3 || at(a.taints[2], 700) != 0 {
		t.Errorf("unreachable:NoSchedule taint series wrong")
	}
	// Writes are 6/s outside the fault and 1/s inside it, over the
	// 1m rate window.
	writes := writesRate(&in, tl, rateWindow(tl))
	if v, _ := writes.value(100); v != 6 {
		t.Errorf("writes/s at 100s = %v, want 6", v)
	}
	if v, _ := writes.value(450); v != 1 {
		t.Errorf("writes/s at 450s = %v, want 1", v)
	}
}

func TestEscapesChartText(t *testing.T) {
	in := partitionInput()
	in.Faults = append(in.Faults, Fault{Type: "cordon", Target: `names=[<b>x</b> "y" & z]`, Start: time.Minute})
	in.Records = append(in.Records, sim.Record{T: 890 * time.Second, Event: sim.EventNodeTaintAdded, Node: "a-0", Key: "k<i>", Effect: "NoSchedule"})
	page := render(t, in)
	if strings.Contains(page, "<b>") || strings.Contains(page, "<i>") {
		t.Errorf("text from the input reached the page unescaped")
	}
	for _, want := range []string{"cordon names=[&lt;b&gt;x&lt;/b&gt; &#34;y&#34; &amp; z]", "k&lt;i&gt;:NoSchedule"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestManyFaults(t *testing.T) {
	in := partitionInput()
	in.Faults = nil
	for i := range maxGantt + 5 {
		in.Faults = append(in.Faults, Fault{Type: "stopKubelet", Target: fmt.Sprintf("a-%d", i), Start: time.Duration(i) * time.Second})
	}
	page := render(t, in)
	if !strings.Contains(page, "… 5 more faults, listed in the table below") {
		t.Errorf("the timeline does not say it left faults out")
	}
	if n := strings.Count(page, "<td>stopKubelet</td>"); n != maxGantt+5 {
		t.Errorf("fault table has %d rows, want %d", n, maxGantt+5)
	}
}

func TestPass(t *testing.T) {
	in := partitionInput()
	in.Passed = true
	in.Expectations = in.Expectations[:1]
	in.Faults = nil
	page := render(t, in)
	for _, want := range []string{`class="verdict pass"`, ">PASS<", "1 of 1 expectations held", "No faults in this run."} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := len(svgs(t, page)); n != 8 {
		t.Errorf("got %d <svg>, want the eight plots", n)
	}
}

// TestFailedStepsShown: a run without expectations whose timeline steps
// could not happen says so next to its neutral verdict, each step with
// its error.
func TestFailedStepsShown(t *testing.T) {
	in := partitionInput()
	in.Expectations, in.Passed = nil, true
	in.FailedSteps = []FailedStep{
		{T: 90 * time.Second, Event: "CheckpointFailed", Type: "checkpoint", Pod: "default/web-0", Error: "checkpoint location is not writable"},
		{T: 2 * time.Minute, Event: "RestoreSkipped", Type: "restore", Pod: "default/web-0", Error: "no archive of container app"},
	}
	page := render(t, in)
	for _, want := range []string{`class="verdict none"`, "2 timeline steps could not happen", "CheckpointFailed", "default/web-0",
		"checkpoint location is not writable", "no archive of container app"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	in.FailedSteps = nil
	if page := render(t, in); strings.Contains(page, "could not happen") {
		t.Errorf("a run whose steps all happened reports failed steps")
	}
}

func TestEmptyInput(t *testing.T) {
	page := render(t, Input{})
	if n := len(svgs(t, page)); n != 8 {
		t.Errorf("got %d <svg>, want 8", n)
	}
	if !strings.Contains(page, "no taints in the trace") {
		t.Errorf("empty taint plot lacks its note")
	}
	if strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
		t.Errorf("page has NaN or Inf")
	}
}

func TestDeterministic(t *testing.T) {
	in := partitionInput()
	a, b := render(t, in), render(t, in)
	if a != b {
		t.Fatalf("two renderings of the same input differ")
	}
}

// bigInput is 10,000 nodes in 10 zones with 20 records each: registration,
// Ready flapping, taints coming and going, evictions, and a write sample
// every virtual second.
func bigInput(nodes, perNode int) Input {
	total := 30 * time.Minute
	recs := make([]sim.Record, 0, nodes*perNode)
	zones := make(map[string]string, nodes)
	step := total / time.Duration(perNode+1)
	for k := range perNode {
		for i := range nodes {
			name := fmt.Sprintf("pool-%05d", i)
			t := time.Duration(k)*step + time.Duration(i)*step/time.Duration(nodes)
			var r sim.Record
			switch {
			case k == 0:
				zones[name] = fmt.Sprintf("zone-%d", i%10)
				r = sim.Record{Event: sim.EventNodeRegistered, Node: name}
			case k%4 == 1:
				status := "True"
				if k%8 == 5 && i%3 == 0 {
					status = "Unknown"
				}
				r = sim.Record{Event: sim.EventNodeConditionChanged, Node: name, Type: "Ready", Status: status}
			case k%4 == 2:
				r = sim.Record{Event: sim.EventNodeTaintAdded, Node: name, Key: fmt.Sprintf("example.com/t%d", i%5), Effect: "NoExecute"}
			case k%4 == 3:
				r = sim.Record{Event: sim.EventNodeTaintRemoved, Node: name, Key: fmt.Sprintf("example.com/t%d", i%5), Effect: "NoExecute"}
			default:
				r = sim.Record{Event: sim.EventPodEvicted, Node: name, Pod: "default/p-" + name}
			}
			r.T = t
			recs = append(recs, r)
		}
	}
	var writes []Sample
	for s := time.Second; s <= total; s += time.Second {
		writes = append(writes, Sample{T: s, Writes: int64(1000 + s/time.Second%7*100)})
	}
	return Input{
		Scenario: "big", Seed: 1, Nodes: nodes, Duration: total, WallSeconds: 60, Passed: true,
		Faults:  []Fault{{Type: "partition", Target: "zone=zone-1", Start: 5 * time.Minute, End: 15 * time.Minute}},
		Records: recs, Writes: writes, Zones: zones,
	}
}

func TestLargeRunStaysSmall(t *testing.T) {
	in := bigInput(10000, 20)
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 2<<20 {
		t.Fatalf("report of 10,000 nodes is %d bytes, want under 2 MiB", b.Len())
	}
	t.Logf("report of %d records: %d bytes", len(in.Records), b.Len())
	// No series has more vertices than about 4 per pixel column.
	cmd := regexp.MustCompile(`[MLHV]`)
	for _, d := range regexp.MustCompile(` d="([^"]*)"`).FindAllStringSubmatch(b.String(), -1) {
		if n := len(cmd.FindAllString(d[1], -1)); n > 4*maxCols {
			t.Errorf("a series has %d path commands", n)
		}
	}
}

func BenchmarkWrite10kNodes(b *testing.B) {
	in := bigInput(10000, 20)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, in); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// TestWriteSample writes the sample reports for a person to look at:
// NODESIM_REPORT_SAMPLE_DIR=DIR go test ./sim/report -run TestWriteSample.
func TestWriteSample(t *testing.T) {
	dir := os.Getenv("NODESIM_REPORT_SAMPLE_DIR")
	if dir == "" {
		t.Skip("set NODESIM_REPORT_SAMPLE_DIR to write sample reports")
	}
	samples := map[string]Input{
		"report.html":        partitionInput(),
		"report-big.html":    bigInput(10000, 20),
		"report-stress.html": stressInput(),
	}
	for name, in := range samples {
		var b bytes.Buffer
		if err := Write(&b, in); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stressInput has what crowds a page: many faults with long targets, a
// dozen taints, nodes registering late, a long expectation reason.
func stressInput() Input {
	in := partitionInput()
	in.Scenario = "many-faults-and-taints-with-a-rather-long-scenario-name"
	in.Nodes = 8 // five more nodes that register late
	for i := range 5 {
		name := fmt.Sprintf("late-%d", i)
		t := sec(400 + float64(i)*60)
		in.Records = append(in.Records,
			sim.Record{T: t, Event: sim.EventNodeRegistered, Node: name},
			sim.Record{T: t, Event: sim.EventNodeConditionChanged, Node: name, Type: "Ready", Status: "True"})
	}
	for i := range 12 {
		t := sec(60 + float64(i)*60)
		n := fmt.Sprintf("a-%d", i%3)
		key := fmt.Sprintf("example.com/a-rather-long-taint-key-%02d", i)
		in.Records = append(in.Records,
			sim.Record{T: t, Event: sim.EventNodeTaintAdded, Node: n, Key: key, Effect: "NoSchedule"},
			sim.Record{T: t + 90*time.Second, Event: sim.EventNodeTaintRemoved, Node: n, Key: key, Effect: "NoSchedule"})
	}
	sortRecords(in.Records)
	types := []string{"partition", "stopKubelet", "memoryPressure", "apiServerLatency", "cordon"}
	for i := range 15 {
		start := time.Duration(i) * time.Minute
		in.Faults = append(in.Faults, Fault{Type: types[i%len(types)],
			Target: fmt.Sprintf("names=[node-%03d node-%03d node-%03d] fraction=0.25 of pool zone-b-with-long-name", i, i+1, i+2),
			Start:  start, End: start + 90*time.Second})
	}
	in.Expectations = append(in.Expectations, Expectation{Type: "readyWithin",
		Reason: strings.Repeat("a very long reason that goes on and on ", 8), Passed: false})
	return in
}

// TestAPILoad: the report answers KEP-589's question from the run's writes
// and bytes by resource, most written resource first.
func TestAPILoad(t *testing.T) {
	in := partitionInput()
	in.Duration = 100 * time.Second
	in.APIWrites = map[string]map[string]int64{"leases": {"update": 1000, "create": 10}, "nodes/status": {"patch": 50}}
	in.APIBytes = map[string]map[string]int64{"leases": {"update": 400000, "create": 4000}, "nodes/status": {"patch": 100000}}
	page := render(t, in)
	want := "Lease renewals 10.1 writes/s and 4040 B/s; NodeStatus posts 0.50 writes/s and 1000 B/s, per virtual second. Leases are 95% of the heartbeat writes and 80% of their bytes."
	if !strings.Contains(page, want) {
		t.Errorf("page lacks the heartbeat summary %q", want)
	}
	leases, status := strings.Index(page, "<td>leases</td>"), strings.Index(page, "<td>nodes/status</td>")
	if leases < 0 || status < 0 || leases > status {
		t.Errorf("load table rows: leases at %d, nodes/status at %d", leases, status)
	}
	if !strings.Contains(page, `<td class="num">1010</td><td class="num">10.10</td><td class="num">4040</td><td class="num">400</td>`) {
		t.Errorf("leases row wrong")
	}
}

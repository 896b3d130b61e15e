package report

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim"
)

func TestNoExpectationsIsNeutral(t *testing.T) {
	in := partitionInput()
	in.Expectations, in.Passed = nil, true
	page := render(t, in)
	if strings.Contains(page, ">PASS<") || strings.Contains(page, `class="verdict pass"`) {
		t.Errorf("a run with no expectations shows PASS")
	}
	for _, want := range []string{`class="verdict none"`, ">NO EXPECTATIONS<", "nothing was verified", "no expectations</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestTraceRecordCountIsWhatTheFileHolds(t *testing.T) {
	in := partitionInput()
	in.TraceRecords = 546 // the file's lines, heartbeats included
	page := render(t, in)
	if !regexp.MustCompile(`trace records \(lines of trace.jsonl\)</dt><dd>546<`).MatchString(page) {
		t.Errorf("header does not count the trace file's 546 lines")
	}
}

func TestFailedExpectationNamed(t *testing.T) {
	in := partitionInput()
	in.Identity.ScenarioFile = "scenarios/zone.yaml"
	in.Expectations[1].Expected = "expected no evictions by 15m0s"
	in.Expectations[1].Seen = "2 pods were evicted (first at 10m45s)"
	in.Expectations[1].Line = 31
	page := render(t, in)
	want := "✘ scenarios/zone.yaml:31: noEvictions: expected no evictions by 15m0s; seen: 2 pods were evicted (first at 10m45s)"
	if !strings.Contains(page, want) {
		t.Errorf("page lacks %q", want)
	}
}

func TestIdentityInHeader(t *testing.T) {
	in := partitionInput()
	in.Identity = Identity{Version: "v0.4.0", Commit: "0123abcd", GoVersion: "go1.26.0", KubernetesVersion: "1.37",
		Served: "v1.37.2", ScenarioFile: "scenarios/zone.yaml", Flags: "--seed 7 --trace full"}
	page := render(t, in)
	for _, want := range []string{"<dt>nodesim</dt><dd>v0.4.0</dd>", "<dt>commit</dt><dd>0123abcd</dd>",
		"<dt>scenario file</dt><dd>scenarios/zone.yaml</dd>", "<dt>kubernetesVersion</dt><dd>1.37</dd>",
		"<dt>flags</dt><dd>--seed 7 --trace full</dd>", "<dt>seed</dt><dd>42</dd>"} {
		if !strings.Contains(page, want) {
			t.Errorf("header lacks %q", want)
		}
	}
}

// Heartbeats every 10 s sampled every second jump between 0 and 12 writes
// per second; over the rate window the rate is flat.
func TestWritesRateIsSmoothedOverTheRateWindow(t *testing.T) {
	tl := timeline{total: 10 * time.Minute, ncols: 996}
	w := rateWindow(tl)
	if w != time.Minute {
		t.Fatalf("rate window %s for a 10m run, want 1m (4 × 15s scrape)", w)
	}
	var pts []point
	for s := 10; s <= 600; s += 10 {
		pts = append(pts, point{time.Duration(s) * time.Second, 120}) // 120 writes every 10 s: 12/s
	}
	r := windowedRate(tl, pts, w, "w", "")
	for c := tl.ncols / 5; c < tl.ncols; c++ { // past the first minute
		v, ok := r.value(c)
		if !ok || v < 11 || v > 14 {
			t.Fatalf("column %d: rate %v, want about 12/s", c, v)
		}
	}
	// A day-long run: the window grows with the plot step.
	if w := rateWindow(timeline{total: 24 * time.Hour, ncols: 996}); w <= time.Minute {
		t.Errorf("a day-long run's window is %s, want more than its plot step + 15s", w)
	}
	page := render(t, partitionInput())
	if !strings.Contains(page, "API writes per virtual second, 1m window") || !strings.Contains(page, "$__rate_interval") {
		t.Errorf("the writes plot does not say its window")
	}
}

func TestLatencyFailuresPhasesRegistration(t *testing.T) {
	in := partitionInput()
	in.Pools = map[string]string{"a-0": "a", "a-1": "a", "a-2": "a"}
	for s := 1; s <= 900; s++ {
		win := Window{T: sec(float64(s)), Requests: 10, Writes: map[string]int64{"leases": 3, "nodes/status": 1}}
		lat := 2 * time.Millisecond
		if s > 300 && s <= 600 {
			win.Failed = 5
			lat = 400 * time.Millisecond
		}
		for range 10 {
			win.Latency.Add(lat)
		}
		in.Windows = append(in.Windows, win)
	}
	for s := 0; s < 900; s += 30 {
		in.PodPhases = append(in.PodPhases, PhaseSample{T: sec(float64(s)), Counts: map[string]int{"Running": 2, "Pending": 1}})
	}
	in.Records = append(in.Records, sim.Record{T: sec(320), Event: sim.EventLeaseRenewFailed, Node: "a-0", Error: "request failed"})
	sortRecords(in.Records)
	page := render(t, in)
	for _, want := range []string{
		">p50</text>", ">p99</text>", // latency legend
		">failed API requests/s (no answer, 5xx, 429)</text>", ">failed Lease renewals/s (trace)</text>",
		"1,500 failed API requests of 9,000", "1 failed Lease renewals",
		">Running</text>", ">Pending</text>", // pods by phase
		">leases</text>", ">nodes/status</text>", // writes by resource
		"Registration to Ready, by pool", "<td>a</td><td class=\"num\">3</td><td class=\"num\">3</td><td class=\"num\">3</td><td class=\"num\">1.9 s</td><td class=\"num\">2.4 s</td>",
		`id="changes-table"`, `<label for="ck-0">`, "Ready=Unknown", "LeaseRenewFailed",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	tl := timeline{total: in.Duration, ncols: 900}
	lat := latencySeries(tl, in.Windows, rateWindow(tl))
	if v, _ := lat[2].value(200); v < 1.5 || v > 2.5 {
		t.Errorf("p99 before the partition %v ms, want about 2", v)
	}
	if v, _ := lat[0].value(500); v < 350 || v > 450 {
		t.Errorf("p50 during the partition %v ms, want about 400", v)
	}
	if strings.Contains(page, "NaN") || strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("page has NaN or a script")
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	if _, ok := h.Quantile(0.5); ok {
		t.Fatal("an empty histogram has a median")
	}
	for i := 1; i <= 100; i++ {
		h.Add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}} {
		got, _ := h.Quantile(c.q)
		if float64(got) < 0.9*float64(c.want) || float64(got) > 1.1*float64(c.want) {
			t.Errorf("q%.2f = %s, want %s ±10%%", c.q, got, c.want)
		}
	}
}

package report

import (
	"bufio"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/nodesim/nodesim/sim"
)

// Input is what a run knows when it writes its report.
type Input struct {
	Scenario     string
	Seed         uint64
	Nodes        int
	Duration     time.Duration // virtual
	WallSeconds  float64
	Passed       bool // the verdict
	Expectations []Expectation
	Faults       []Fault      // the timeline as it happened
	Records      []sim.Record // the trace records in order
	// Writes are the API writes per virtual interval, in time order.
	Writes []Sample
	// Zones maps a node name to its zone (the topology.kubernetes.io/zone
	// label; "" if none).
	Zones map[string]string
	// APIWrites and APIBytes are the run's API writes and their request
	// bytes by resource and verb (summary.json's).
	APIWrites, APIBytes map[string]map[string]int64

	// TraceRecords is how many records (lines) trace.jsonl holds; 0 means
	// len(Records).
	TraceRecords int
	// Windows are the run's measurements by window of virtual time, in
	// time order: requests, failures, latency, writes by resource.
	Windows []Window
	// PodPhases are the pods by phase over virtual time, in time order.
	PodPhases []PhaseSample
	// Pools maps a node name to its pool.
	Pools map[string]string
	// Identity is what ran.
	Identity Identity
	// FailedSteps are the timeline steps that could not happen, in trace
	// order (summary.json's failedSteps).
	FailedSteps []FailedStep
}

// FailedStep is a timeline step that could not happen.
type FailedStep struct {
	T                      time.Duration // virtual
	Event, Type, Pod, Node string
	Error                  string
}

// failedStepRow is a failed step as the page shows it.
type failedStepRow struct{ At, Event, Type, What, Error string }

// Expectation is one checked expectation of the scenario.
type Expectation struct {
	Type, Reason string
	// Expected and Seen are Reason's halves; Line is the expectation's
	// line in the scenario file (0: unknown).
	Expected, Seen string
	Line           int
	Passed         bool
}

// Fault is one step of the timeline as it happened. End 0 means until the
// end of the run.
type Fault struct {
	Type, Target string
	Start, End   time.Duration
}

// Sample is the API writes done in (previous sample's T, T]; the first
// sample counts from 0.
type Sample struct {
	T      time.Duration
	Writes int64
}

// page is what the template renders.
type page struct {
	Scenario string
	Seed     uint64
	Nodes    int
	Duration string
	Wall     string
	Speedup  string
	Passed   bool
	// Verdict is pass, fail, or none (no expectations: nothing verified).
	Verdict      string
	Held         int
	Failed       []Expectation
	Expectations []Expectation
	FailedSteps  []failedStepRow
	Identity     Identity
	File         string
	RateWindow   string
	Registration []regRow
	Changes      []changeRow
	ChangesAll   int
	ChangeKinds  []string
	ChangePools  []string
	ChangeCSS    template.CSS
	Faults       []faultRow
	Gantt        template.HTML
	Plots        []figure
	Zones        []zoneRow
	Counts       []eventCount
	Records      int
	Load         []loadRow
	Heartbeats   string
}

// loadRow is one resource's share of the API writes, per virtual second.
type loadRow struct {
	Resource                        string
	Writes, WritesPerSec, BytesPerS string
	MeanBytes                       string
}

type faultRow struct {
	Type, Target, Start, End, Length string
}

type figure struct {
	ID, Title, Caption string
	SVG                template.HTML
}

// Write renders the report of a run as one self-contained HTML page.
func Write(w io.Writer, in Input) error {
	total := in.Duration
	if total <= 0 {
		total = lastTime(&in)
	}
	if total <= 0 {
		total = time.Second
	}
	tl := timeline{total: total, ncols: min(plotWidth, maxCols)}
	a := analyze(&in, tl)
	spans := faultSpans(in.Faults, total)

	records := in.TraceRecords
	if records == 0 {
		records = len(in.Records)
	}
	win := rateWindow(tl)
	p := page{
		Scenario:     in.Scenario,
		Identity:     in.Identity,
		File:         in.Identity.ScenarioFile,
		RateWindow:   windowLabel(win),
		Registration: registrationTable(&in),
		Seed:         in.Seed,
		Nodes:        in.Nodes,
		Duration:     fmtDur(in.Duration),
		Wall:         strconv.FormatFloat(in.WallSeconds, 'f', 1, 64) + " s",
		Speedup:      "–",
		Passed:       in.Passed,
		Expectations: in.Expectations,
		Zones:        a.zones,
		Counts:       a.counts,
		Records:      records,
		Load:         loadRows(in),
		Heartbeats:   heartbeatSummary(in),
	}
	if in.WallSeconds > 0 {
		p.Speedup = fmtNum(roundSig(in.Duration.Seconds()/in.WallSeconds)) + "×"
	}
	for _, e := range in.Expectations {
		if e.Passed {
			p.Held++
		} else {
			p.Failed = append(p.Failed, e)
		}
	}
	switch {
	case len(in.Expectations) == 0:
		p.Verdict = "none"
	case in.Passed && len(p.Failed) == 0:
		p.Verdict = "pass"
	default:
		p.Verdict = "fail"
	}
	if len(in.Expectations) > 0 && !in.Passed && len(p.Failed) == 0 {
		p.Verdict = "fail"
	}
	for _, f := range in.FailedSteps {
		what := f.Pod
		if what == "" {
			what = f.Node
		}
		p.FailedSteps = append(p.FailedSteps, failedStepRow{At: fmtDur(f.T), Event: f.Event, Type: f.Type, What: what, Error: f.Error})
	}
	p.Changes, p.ChangesAll = nodeChanges(&in)
	p.ChangeKinds, p.ChangePools, p.ChangeCSS = changeFilters(p.Changes)
	for i, f := range in.Faults {
		r := faultRow{Type: f.Type, Target: f.Target, Start: fmtDur(f.Start), End: "end of run",
			Length: fmtDur(spans[i].end - spans[i].start)}
		if f.End != 0 {
			r.End = fmtDur(f.End)
		}
		p.Faults = append(p.Faults, r)
	}
	if len(spans) > 0 {
		p.Gantt = renderGantt(tl, spans)
	}

	readyCaption := "No node that had been Ready lost Ready."
	if a.peakLost.value > 0 {
		readyCaption = fmt.Sprintf("At most %s nodes that had been Ready were not Ready at once (first at %s).",
			fmtCount(a.peakLost.value), fmtDur(a.peakLost.t))
	}
	var ready []*stepSeries
	for s, st := range a.ready {
		if s == readyNotRegistered && st.zeroFrom(tl.ncols/100) {
			continue // every node registered in the first moments
		}
		ready = append(ready, st)
	}
	writes := writesRate(&in, tl, win)
	peakRate := peak{}
	for c := range writes.count {
		if v, ok := writes.value(c); ok && v > peakRate.value {
			peakRate = peak{v, time.Duration(float64(c+1) * float64(total) / float64(tl.ncols))}
		}
	}
	rateNote := fmt.Sprintf("Rates are averaged over a sliding %s window of virtual time, as Grafana's $__rate_interval would be for this plot: max(plot step + %s scrape, 4 × %s scrape).",
		windowLabel(win), scrapeInterval, scrapeInterval)
	writesCaption := "No API writes recorded."
	if a.writesTotal > 0 {
		writesCaption = fmt.Sprintf("%s API writes in all, %s per virtual second on average; at most %s/s over a %s window (ending at %s). %s",
			fmtCount(float64(a.writesTotal)), fmtNum(roundSig(float64(a.writesTotal)/total.Seconds())),
			fmtNum(roundSig(peakRate.value)), windowLabel(win), fmtDur(peakRate.t), rateNote)
	}
	var failedPts, leasePts []point
	var requests, failedReqs int64
	for _, w := range in.Windows {
		requests += w.Requests
		failedReqs += w.Failed
		if w.Failed > 0 {
			failedPts = append(failedPts, point{w.T, float64(w.Failed)})
		}
	}
	leaseFails := 0
	for _, r := range in.Records {
		if r.Event == sim.EventLeaseRenewFailed {
			leaseFails++
			leasePts = append(leasePts, point{r.T, 1})
		}
	}
	failures := []*rateSeries{windowedRate(tl, leasePts, win, "failed Lease renewals/s (trace)", "#e15759")}
	if len(in.Windows) > 0 {
		failures = append([]*rateSeries{windowedRate(tl, failedPts, win, "failed API requests/s (no answer, 5xx, 429)", "#f28e2b")}, failures...)
	}
	failCaption := fmt.Sprintf("%s failed API requests of %s (no answer, a 5xx or a 429: what partitions and API server outages cause); %s failed Lease renewals in the trace. Over a %s window.",
		fmtCount(float64(failedReqs)), fmtCount(float64(requests)), fmtCount(float64(leaseFails)), windowLabel(win))
	var allLatency Histogram
	for i := range in.Windows {
		allLatency.Merge(&in.Windows[i].Latency)
	}
	latCaption := "No request latency measured."
	if p50, ok := allLatency.Quantile(0.5); ok {
		p99, _ := allLatency.Quantile(0.99)
		latCaption = fmt.Sprintf("Wall-clock latency of the simulation's API requests (watches excluded), percentiles over a sliding %s window of virtual time; over the whole run p50 ≤ %s, p99 ≤ %s (log buckets, ±9 %%). Wall-clock: it varies with the machine, and is never in trace.jsonl.",
			windowLabel(win), fmtLatency(p50), fmtLatency(p99))
	}
	resRates := resourceRates(tl, in.Windows, win)
	phases := phaseSeries(tl, in.PodPhases)
	p.Plots = []figure{
		{ID: "ready", Title: "Nodes by Ready status", Caption: readyCaption,
			SVG: renderPlot(tl, plotSpec{title: "nodes by Ready status", yLabel: "nodes", steps: ready, faults: spans})},
		{ID: "taints", Title: "Taints on nodes", Caption: fmt.Sprintf("Nodes carrying each taint (key:effect); %d distinct taints.", len(a.taints)),
			SVG: renderPlot(tl, plotSpec{title: "taints on nodes by key:effect", yLabel: "nodes", steps: a.taints, faults: spans, empty: "no taints in the trace"})},
		{ID: "evictions", Title: "Evictions", Caption: fmtCount(float64(a.evictions)) + " pods evicted by the taint eviction.",
			SVG: renderPlot(tl, plotSpec{title: "cumulative pod evictions", yLabel: "pods", steps: []*stepSeries{a.evicted}, faults: spans})},
		{ID: "writes", Title: "API writes per second", Caption: writesCaption,
			SVG: renderPlot(tl, plotSpec{title: "API writes per virtual second, " + windowLabel(win) + " window", yLabel: "writes / s (virtual)", rates: []*rateSeries{writes}, faults: spans})},
		{ID: "writes-by-resource", Title: "API writes by resource", Caption: "Writes per virtual second of each resource (and subresource), over a " + windowLabel(win) + " window.",
			SVG: renderPlot(tl, plotSpec{title: "API writes per virtual second by resource", yLabel: "writes / s (virtual)", rates: resRates, faults: spans, empty: "no writes measured"})},
		{ID: "latency", Title: "API request latency", Caption: latCaption,
			SVG: renderPlot(tl, plotSpec{title: "API request latency percentiles (wall clock)", yLabel: "ms (wall)", rates: latencySeries(tl, in.Windows, win), faults: spans, empty: "no requests measured"})},
		{ID: "failures", Title: "Failed requests and Lease renewals", Caption: failCaption,
			SVG: renderPlot(tl, plotSpec{title: "failures per virtual second", yLabel: "failures / s (virtual)", rates: failures, faults: spans})},
		{ID: "pods", Title: "Pods by phase", Caption: fmt.Sprintf("Pods by status.phase as the API server had them, sampled every %s of virtual time; Terminating: deletion requested.", fmtDur(phaseStep(in.PodPhases))),
			SVG: renderPlot(tl, plotSpec{title: "pods by phase", yLabel: "pods", steps: phases, faults: spans, empty: "no pods in this run"})},
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	if err := pageTemplate.Execute(bw, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// lastTime is the latest instant the input mentions, for a run whose
// duration is not given.
func lastTime(in *Input) time.Duration {
	var t time.Duration
	for _, r := range in.Records {
		t = max(t, r.T)
	}
	for _, f := range in.Faults {
		t = max(t, f.Start, f.End)
	}
	for _, s := range in.Writes {
		t = max(t, s.T)
	}
	return t
}

// roundSig rounds to three significant digits.
func roundSig(v float64) float64 {
	if v == 0 {
		return 0
	}
	s, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return s
}

// fmtCount formats a whole number with its thousands grouped: 12,345.
func fmtCount(v float64) string {
	s := strconv.FormatInt(int64(v), 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"count": func(n int) string { return fmtCount(float64(n)) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nodesim report: {{.Scenario}} — {{if eq .Verdict "pass"}}PASS{{else if eq .Verdict "fail"}}FAIL{{else}}no expectations{{end}}</title>
<style>
:root { --pass: #1a7f37; --fail: #c62828; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); margin: 0; background: #f6f8fa; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; word-break: break-all; }
h1 small { font-size: 14px; font-weight: normal; color: var(--muted); }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 4px 28px; margin: 8px 0 0; }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.verdict { display: flex; align-items: center; gap: 20px; margin: 20px 0 8px; padding: 14px 20px; border-radius: 8px; border: 3px solid; }
.verdict strong { font-size: 48px; letter-spacing: 2px; line-height: 1; }
.verdict.pass { color: var(--pass); border-color: var(--pass); background: #e9f7ec; }
.verdict.fail { color: var(--fail); border-color: var(--fail); background: #fdecea; }
.verdict.none { color: var(--muted); border-color: var(--line); background: #f6f8fa; }
.verdict.none strong { font-size: 28px; letter-spacing: 0; }
.filters { margin: 4px 0; color: var(--muted); }
.filters label { margin-right: 10px; color: var(--ink); }
.scroll { max-height: 480px; overflow: auto; border: 1px solid var(--line); }
.scroll table { margin: 0; }
.scroll thead th { position: sticky; top: 0; background: #fff; }
.verdict span { font-size: 16px; color: var(--ink); }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; }
td.reason { word-break: break-word; max-width: 720px; }
tr.failed td { background: #fdecea; }
.ok { color: var(--pass); font-weight: 600; }
.bad { color: var(--fail); font-weight: 600; }
figure { margin: 0 0 8px; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); margin-top: 2px; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; fill: var(--ink); }
svg .tick, svg .empty { fill: var(--muted); }
svg .axis { fill: var(--muted); font-style: italic; }
svg .area { fill: #fff; }
svg .frame { fill: none; stroke: #8c959f; }
svg .grid line { stroke: #eaeef2; }
svg .series { fill: none; stroke-linejoin: round; }
svg .rate { stroke-width: 1.5; }
details summary { cursor: pointer; color: var(--muted); }
p.note { color: var(--muted); }
@media print {
  body { background: #fff; }
  main { max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid; }
}
</style>
</head>
<body>
<main>
<header>
<h1>{{.Scenario}} <small>nodesim run report</small></h1>
<dl class="meta">
<div><dt>seed</dt><dd>{{.Seed}}</dd></div>
<div><dt>nodes</dt><dd>{{count .Nodes}}</dd></div>
<div><dt>virtual duration</dt><dd>{{.Duration}}</dd></div>
<div><dt>wall time</dt><dd>{{.Wall}}</dd></div>
<div><dt>speed-up</dt><dd>{{.Speedup}}</dd></div>
<div><dt>trace records (lines of trace.jsonl)</dt><dd>{{count .Records}}</dd></div>
</dl>
<dl class="meta" id="identity">
<div><dt>nodesim</dt><dd>{{with .Identity.Version}}{{.}}{{else}}unknown{{end}}</dd></div>
<div><dt>commit</dt><dd>{{with .Identity.Commit}}{{.}}{{else}}unknown{{end}}</dd></div>
{{with .Identity.GoVersion}}<div><dt>Go</dt><dd>{{.}}</dd></div>{{end}}
<div><dt>scenario file</dt><dd>{{with .File}}{{.}}{{else}}–{{end}}</dd></div>
<div><dt>kubernetesVersion</dt><dd>{{with .Identity.KubernetesVersion}}{{.}}{{else}}–{{end}}</dd></div>
{{with .Identity.Served}}<div><dt>API server</dt><dd>{{.}}</dd></div>{{end}}
<div><dt>flags</dt><dd>{{with .Identity.Flags}}{{.}}{{else}}(none){{end}}</dd></div>
</dl>
</header>

<section id="verdict">
<div class="verdict {{.Verdict}}">
<strong>{{if eq .Verdict "pass"}}PASS{{else if eq .Verdict "fail"}}FAIL{{else}}NO EXPECTATIONS{{end}}</strong>
<span>{{if .Expectations}}{{.Held}} of {{len .Expectations}} expectations held{{else}}The scenario declares no expectations: nothing was verified. Add an <code>expect:</code> section to check outcomes.{{end}}{{with .FailedSteps}} {{len .}} timeline step{{if ne (len .) 1}}s{{end}} could not happen (below).{{end}}</span>
</div>
{{with .FailedSteps}}<p class="bad failed-steps">✘ {{len .}} timeline step{{if ne (len .) 1}}s{{end}} could not happen:</p>
<table class="failed-steps">
<thead><tr><th>at</th><th>event</th><th>step</th><th>pod or node</th><th>error</th></tr></thead>
<tbody>
{{range .}}<tr class="failed"><td class="num">{{.At}}</td><td>{{.Event}}</td><td>{{.Type}}</td><td>{{.What}}</td><td class="reason">{{.Error}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{range .Failed}}<p class="bad failed-expectation">✘ {{with $.File}}{{.}}:{{end}}{{if .Line}}{{.Line}}: {{end}}{{.Type}}: {{if .Expected}}{{.Expected}}; seen: {{.Seen}}{{else}}{{.Reason}}{{end}}</p>
{{end}}{{if .Expectations}}<table>
<thead><tr><th>line</th><th>type</th><th>expected</th><th>seen</th><th>passed</th></tr></thead>
<tbody>
{{range .Expectations}}<tr{{if not .Passed}} class="failed"{{end}}><td class="num">{{if .Line}}{{.Line}}{{end}}</td><td>{{.Type}}</td><td class="reason">{{if .Expected}}{{.Expected}}{{else}}{{.Reason}}{{end}}</td><td class="reason">{{.Seen}}</td><td>{{if .Passed}}<span class="ok">✔ passed</span>{{else}}<span class="bad">✘ failed</span>{{end}}</td></tr>
{{end}}</tbody>
</table>{{end}}
</section>

<section id="faults">
<h2>Fault timeline</h2>
{{if .Faults}}<figure>
{{.Gantt}}
</figure>
<table>
<thead><tr><th>type</th><th>target</th><th>start</th><th>end</th><th>length</th></tr></thead>
<tbody>
{{range .Faults}}<tr><td>{{.Type}}</td><td>{{.Target}}</td><td class="num">{{.Start}}</td><td class="num">{{.End}}</td><td class="num">{{.Length}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No faults in this run.</p>{{end}}
</section>
{{range .Plots}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
<figure>
{{.SVG}}
<figcaption>{{.Caption}}</figcaption>
</figure>
</section>
{{end}}
{{if .Zones}}<section id="zones">
<h2>Zones</h2>
<table>
<thead><tr><th>zone</th><th>nodes</th><th>Ready at the end</th><th>not Ready at the end</th><th>not registered</th><th>zone states (lifecycle controller)</th></tr></thead>
<tbody>
{{range .Zones}}<tr><td>{{if .Zone}}{{.Zone}}{{else}}(no zone){{end}}</td><td class="num">{{count .Nodes}}</td><td class="num">{{count .Ready}}</td><td class="num">{{count .NotReady}}</td><td class="num">{{count .Unregistered}}</td><td>{{.States}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}

{{if .Load}}<section id="load">
<h2>API load by resource</h2>
<p class="note">{{.Heartbeats}}</p>
<table>
<thead><tr><th>resource</th><th>writes</th><th>writes per virtual s</th><th>request bytes per virtual s</th><th>bytes per write</th></tr></thead>
<tbody>
{{range .Load}}<tr><td>{{.Resource}}</td><td class="num">{{.Writes}}</td><td class="num">{{.WritesPerSec}}</td><td class="num">{{.BytesPerS}}</td><td class="num">{{.MeanBytes}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}

{{if .Registration}}<section id="registration">
<h2>Registration to Ready, by pool</h2>
<p class="note">Virtual time from each node's NodeRegistered to its first Ready=True.</p>
<table>
<thead><tr><th>pool</th><th>nodes</th><th>registered</th><th>Ready</th><th>min</th><th>median</th><th>p90</th><th>max</th><th>mean</th></tr></thead>
<tbody>
{{range .Registration}}<tr><td>{{.Pool}}</td><td class="num">{{count .Nodes}}</td><td class="num">{{count .Registered}}</td><td class="num">{{count .Ready}}</td><td class="num">{{.Min}}</td><td class="num">{{.Median}}</td><td class="num">{{.P90}}</td><td class="num">{{.Max}}</td><td class="num">{{.Mean}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}

<section id="changes">
<h2>Node state changes</h2>
{{if .Changes}}<p class="note">Every registration, condition change, taint change and failed Lease renewal of the trace{{if lt (len .Changes) .ChangesAll}} (the first {{count (len .Changes)}} of {{count .ChangesAll}}; trace.jsonl has them all){{end}}. Choose a change and a pool to filter (no script: the page's own CSS does it); find a node with the browser's search.</p>
<style>{{.ChangeCSS}}</style>
<div class="filters">change: <input type="radio" name="ck" id="ck-all" checked><label for="ck-all">all</label>
{{range $i, $k := .ChangeKinds}}<input type="radio" name="ck" id="ck-{{$i}}"><label for="ck-{{$i}}">{{$k}}</label>
{{end}}</div>
{{if .ChangePools}}<div class="filters">pool: <input type="radio" name="cp" id="cp-all" checked><label for="cp-all">all</label>
{{range $i, $p := .ChangePools}}<input type="radio" name="cp" id="cp-{{$i}}"><label for="cp-{{$i}}">{{$p}}</label>
{{end}}</div>{{end}}
<div class="scroll"><table id="changes-table">
<thead><tr><th>t</th><th>node</th><th>pool</th><th>zone</th><th>event</th><th>detail</th></tr></thead>
<tbody>
{{range .Changes}}<tr class="k{{.Kind}} p{{.PoolIdx}}"><td class="num">{{.T}}</td><td>{{.Node}}</td><td>{{.Pool}}</td><td>{{.Zone}}</td><td>{{.Event}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table></div>
{{else}}<p class="note">No node changed state.</p>{{end}}
</section>

<section id="events">
<h2>Trace events</h2>
{{if .Counts}}<table>
<thead><tr><th>event</th><th>records</th></tr></thead>
<tbody>
{{range .Counts}}<tr><td>{{.Event}}</td><td class="num">{{count .Count}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">The trace is empty.</p>{{end}}
</section>
</main>
</body>
</html>
`))

// loadRows is the API load by resource, most written first.
func loadRows(in Input) []loadRow {
	type tally struct {
		name          string
		writes, bytes int64
	}
	var all []tally
	for res, verbs := range in.APIWrites {
		t := tally{name: res}
		for verb, n := range verbs {
			t.writes += n
			t.bytes += in.APIBytes[res][verb]
		}
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b tally) int {
		return cmp.Or(cmp.Compare(b.writes, a.writes), cmp.Compare(a.name, b.name))
	})
	secs := in.Duration.Seconds()
	var rows []loadRow
	for _, t := range all {
		r := loadRow{Resource: t.name, Writes: strconv.FormatInt(t.writes, 10)}
		if secs > 0 {
			r.WritesPerSec = strconv.FormatFloat(float64(t.writes)/secs, 'f', 2, 64)
			r.BytesPerS = strconv.FormatFloat(float64(t.bytes)/secs, 'f', 0, 64)
		}
		if t.writes > 0 {
			r.MeanBytes = strconv.FormatInt(t.bytes/t.writes, 10)
		}
		rows = append(rows, r)
	}
	return rows
}

// heartbeatSummary answers KEP-589's question for the run: how the Lease
// heartbeats compare with the NodeStatus posts in writes and bytes.
func heartbeatSummary(in Input) string {
	sum := func(m map[string]int64) (n int64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	lw, lb := sum(in.APIWrites["leases"]), sum(in.APIBytes["leases"])
	sw, sb := sum(in.APIWrites["nodes/status"]), sum(in.APIBytes["nodes/status"])
	secs := in.Duration.Seconds()
	if secs <= 0 || lw+sw == 0 {
		return "No heartbeats were written."
	}
	return fmt.Sprintf("Heartbeats (KEP-589): Lease renewals %.1f writes/s and %.0f B/s; NodeStatus posts %.2f writes/s and %.0f B/s, per virtual second. "+
		"Leases are %.0f%% of the heartbeat writes and %.0f%% of their bytes.",
		float64(lw)/secs, float64(lb)/secs, float64(sw)/secs, float64(sb)/secs,
		100*float64(lw)/float64(lw+sw), 100*float64(lb)/float64(max(lb+sb, 1)))
}

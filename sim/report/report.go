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
}

// Expectation is one checked expectation of the scenario.
type Expectation struct {
	Type, Reason string
	Passed       bool
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
	Scenario     string
	Seed         uint64
	Nodes        int
	Duration     string
	Wall         string
	Speedup      string
	Passed       bool
	Held         int
	Expectations []Expectation
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

	p := page{
		Scenario:     in.Scenario,
		Seed:         in.Seed,
		Nodes:        in.Nodes,
		Duration:     fmtDur(in.Duration),
		Wall:         strconv.FormatFloat(in.WallSeconds, 'f', 1, 64) + " s",
		Speedup:      "–",
		Passed:       in.Passed,
		Expectations: in.Expectations,
		Zones:        a.zones,
		Counts:       a.counts,
		Records:      len(in.Records),
		Load:         loadRows(in),
		Heartbeats:   heartbeatSummary(in),
	}
	if in.WallSeconds > 0 {
		p.Speedup = fmtNum(roundSig(in.Duration.Seconds()/in.WallSeconds)) + "×"
	}
	for _, e := range in.Expectations {
		if e.Passed {
			p.Held++
		}
	}
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
	writesCaption := "No API writes recorded."
	if a.writesTotal > 0 {
		writesCaption = fmt.Sprintf("%s API writes in all, %s per virtual second on average; the busiest sample %s/s (ending at %s).",
			fmtCount(float64(a.writesTotal)), fmtNum(roundSig(float64(a.writesTotal)/total.Seconds())),
			fmtNum(roundSig(a.peakRate.value)), fmtDur(a.peakRate.t))
	}
	p.Plots = []figure{
		{ID: "ready", Title: "Nodes by Ready status", Caption: readyCaption,
			SVG: renderPlot(tl, plotSpec{title: "nodes by Ready status", yLabel: "nodes", steps: ready, faults: spans})},
		{ID: "taints", Title: "Taints on nodes", Caption: fmt.Sprintf("Nodes carrying each taint (key:effect); %d distinct taints.", len(a.taints)),
			SVG: renderPlot(tl, plotSpec{title: "taints on nodes by key:effect", yLabel: "nodes", steps: a.taints, faults: spans, empty: "no taints in the trace"})},
		{ID: "evictions", Title: "Evictions", Caption: fmtCount(float64(a.evictions)) + " pods evicted by the taint eviction.",
			SVG: renderPlot(tl, plotSpec{title: "cumulative pod evictions", yLabel: "pods", steps: []*stepSeries{a.evicted}, faults: spans})},
		{ID: "writes", Title: "API writes per second", Caption: writesCaption,
			SVG: renderPlot(tl, plotSpec{title: "API writes per virtual second", yLabel: "writes / s (virtual)", rate: a.writes, faults: spans})},
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
<title>nodesim report: {{.Scenario}} — {{if .Passed}}PASS{{else}}FAIL{{end}}</title>
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
<div><dt>trace records</dt><dd>{{count .Records}}</dd></div>
</dl>
</header>

<section id="verdict">
<div class="verdict {{if .Passed}}pass{{else}}fail{{end}}">
<strong>{{if .Passed}}PASS{{else}}FAIL{{end}}</strong>
<span>{{if .Expectations}}{{.Held}} of {{len .Expectations}} expectations held{{else}}no expectations checked{{end}}</span>
</div>
{{if .Expectations}}<table>
<thead><tr><th>type</th><th>reason</th><th>passed</th></tr></thead>
<tbody>
{{range .Expectations}}<tr{{if not .Passed}} class="failed"{{end}}><td>{{.Type}}</td><td class="reason">{{.Reason}}</td><td>{{if .Passed}}<span class="ok">✔ passed</span>{{else}}<span class="bad">✘ failed</span>{{end}}</td></tr>
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

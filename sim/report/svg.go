package report

import (
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Geometry of every chart, in SVG user units (the SVG scales to the page
// width). All charts share the horizontal layout, so their time axes line
// up one under the other.
const (
	svgWidth    = 1060
	marginLeft  = 64
	marginRight = 20
	plotWidth   = svgWidth - marginLeft - marginRight
	// maxCols bounds the points of a series: one column per unit of plot
	// width, never more than this.
	maxCols     = 1000
	plotHeight  = 220
	headroom    = 8
	legendRowH  = 18
	axisBelow   = 42 // tick labels and the axis title under a plot
	fontSize    = 12
	charWidth   = 7.6 // generous estimate of one character at fontSize (DejaVu Sans is wide)
	ganttRowH   = 30
	maxGantt    = 200 // fault rows drawn; the table lists every fault
	maxLabelLen = 80  // characters of a fault label in the chart
)

var (
	readyColors = [readyStates]string{"#1a9850", "#d73027", "#f39c12", "#8c8c8c"}
	// palette is Tableau 10; series past it repeat its colors dashed.
	palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
		"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}
	faultPalette = []string{"#7b4fb8", "#c2185b", "#00838f", "#9e9d24", "#6d4c41", "#ef6c00", "#3949ab", "#558b2f"}
)

// faultSpan is a fault clamped to the run, with its color.
type faultSpan struct {
	typ, label string
	start, end time.Duration
	color      string
}

func faultSpans(faults []Fault, total time.Duration) []faultSpan {
	types := map[string]bool{}
	for _, f := range faults {
		types[f.Type] = true
	}
	color := map[string]string{}
	for i, t := range sortedKeys(types) {
		color[t] = faultPalette[i%len(faultPalette)]
	}
	spans := make([]faultSpan, 0, len(faults))
	for _, f := range faults {
		start := min(max(f.Start, 0), total)
		end := f.End
		if end == 0 {
			end = total
		}
		end = min(max(end, start), total)
		label := f.Type
		if f.Target != "" {
			label += " " + f.Target
		}
		spans = append(spans, faultSpan{typ: f.Type, label: label, start: start, end: end, color: color[f.Type]})
	}
	return spans
}

// svg accumulates one chart.
type svg struct {
	strings.Builder
	tl timeline
}

func (s *svg) num(v float64) {
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], math.Round(v*10)/10, 'f', -1, 64)
	s.Write(b)
}

// w writes parts: strings as they are (markup, never text) and numbers
// formatted compactly.
func (s *svg) w(parts ...any) {
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			s.WriteString(v)
		case float64:
			s.num(v)
		case int:
			s.WriteString(strconv.Itoa(v))
		}
	}
}

// text writes escaped character data.
func (s *svg) text(t string) { s.WriteString(template.HTMLEscapeString(t)) }

func (s *svg) x(t time.Duration) float64 {
	return marginLeft + float64(t)/float64(s.tl.total)*plotWidth
}

func (s *svg) colX(c int) float64 {
	return marginLeft + float64(c)*plotWidth/float64(s.tl.ncols)
}

func (s *svg) open(height float64, label string) {
	s.w(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `, svgWidth, ` `, height,
		`" width="100%" role="img" font-size="`, fontSize, `" aria-label="`)
	s.text(label)
	s.w(`"><title>`)
	s.text(label)
	s.w("</title>\n")
}

// timeAxis draws vertical grid lines, tick labels and the axis title for
// a plot area from top to bottom.
func (s *svg) timeAxis(top, bottom float64) {
	step := timeStep(s.tl.total)
	s.w(`<g class="grid">`)
	for t := time.Duration(0); t <= s.tl.total; t += step {
		x := s.x(t)
		s.w(`<line x1="`, x, `" x2="`, x, `" y1="`, top, `" y2="`, bottom, `"/>`)
	}
	s.w("</g>\n<g class=\"tick\" text-anchor=\"middle\">")
	for t := time.Duration(0); t <= s.tl.total; t += step {
		s.w(`<text x="`, s.x(t), `" y="`, bottom+16, `">`)
		s.text(fmtDur(t))
		s.w(`</text>`)
	}
	s.w("</g>\n")
	s.w(`<text class="axis" x="`, marginLeft+plotWidth/2.0, `" y="`, bottom+34,
		`" text-anchor="middle">virtual time since the scenario start</text>`, "\n")
}

func (s *svg) faultShading(spans []faultSpan, top, bottom float64) {
	if len(spans) == 0 {
		return
	}
	s.w(`<g class="fault" fill-opacity="0.14">`)
	for _, f := range spans {
		x0, x1 := s.x(f.start), s.x(f.end)
		s.w(`<rect x="`, x0, `" y="`, top, `" width="`, max(x1-x0, 1), `" height="`, bottom-top,
			`" fill="`, f.color, `"><title>`)
		s.text(f.label + ": " + fmtDur(f.start) + " – " + fmtDur(f.end))
		s.w("</title></rect>")
	}
	s.w("</g>\n")
}

// faultLegend has one shaded item per fault type.
func faultLegend(spans []faultSpan) []legendItem {
	var items []legendItem
	seen := map[string]bool{}
	for _, f := range spans {
		if !seen[f.typ] {
			seen[f.typ] = true
			items = append(items, legendItem{name: f.typ + " (shaded)", color: f.color, area: true})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	return items
}

type legendItem struct {
	name, color string
	dash, area  bool
}

// legend lays items out left to right in rows and returns the height used.
func (s *svg) legend(items []legendItem, top float64) float64 {
	x, y := float64(marginLeft), top+legendRowH/2.0
	rows := 1
	for _, it := range items {
		w := 24 + float64(utf8.RuneCountInString(it.name))*charWidth + 20
		if x+w > svgWidth-marginRight && x > marginLeft {
			x, y = marginLeft, y+legendRowH
			rows++
		}
		if it.area {
			s.w(`<rect x="`, x, `" y="`, y-6, `" width="18" height="12" fill="`, it.color, `" fill-opacity="0.3"/>`)
		} else {
			s.w(`<line x1="`, x, `" x2="`, x+18, `" y1="`, y, `" y2="`, y, `" stroke="`, it.color, `" stroke-width="3"`)
			if it.dash {
				s.w(` stroke-dasharray="5 3"`)
			}
			s.w(`/>`)
		}
		s.w(`<text class="legend" x="`, x+24, `" y="`, y+4, `">`)
		s.text(it.name)
		s.w("</text>")
		x += w
	}
	s.w("\n")
	return float64(rows) * legendRowH
}

// plotSpec is one plot over virtual time: step series or one rate series.
type plotSpec struct {
	title  string
	yLabel string
	steps  []*stepSeries
	rates  []*rateSeries
	faults []faultSpan
	empty  string // shown instead of lines when there are no series
}

func renderPlot(tl timeline, p plotSpec) template.HTML {
	s := &svg{tl: tl}
	var items []legendItem
	maxY := 0.0
	for _, st := range p.steps {
		items = append(items, legendItem{name: st.name, color: st.color, dash: st.dash})
		maxY = max(maxY, st.maxValue())
	}
	integer := true
	for _, r := range p.rates {
		items = append(items, legendItem{name: r.name, color: r.color})
		maxY = max(maxY, r.maxValue())
		integer = false
	}
	items = append(items, faultLegend(p.faults)...)

	// Lay out the legend once to learn its height, then draw for real.
	probe := &svg{tl: tl}
	top := 8 + probe.legend(items, 0) + 10
	bottom := top + plotHeight
	s.open(bottom+axisBelow, p.title)
	s.legend(items, 8)

	step, yTop := yScale(maxY, integer)
	// Values map to the plot area less a little headroom, so a series at
	// the top of the scale is not hidden under the frame.
	y := func(v float64) float64 { return bottom - v/yTop*(plotHeight-headroom) }

	s.w(`<rect class="area" x="`, marginLeft, `" y="`, top, `" width="`, plotWidth, `" height="`, plotHeight, `"/>`, "\n")
	s.faultShading(p.faults, top, bottom)
	s.w(`<g class="grid">`)
	for v := step; v <= yTop+step/2; v += step {
		s.w(`<line x1="`, marginLeft, `" x2="`, marginLeft+plotWidth, `" y1="`, y(v), `" y2="`, y(v), `"/>`)
	}
	s.w("</g>\n<g class=\"tick\" text-anchor=\"end\">")
	for i := 0; float64(i)*step <= yTop+step/2; i++ {
		v := float64(i) * step
		s.w(`<text x="`, marginLeft-6, `" y="`, y(v)+4, `">`)
		s.text(fmtTick(v, yTop))
		s.w(`</text>`)
	}
	s.w("</g>\n")
	s.w(`<text class="axis" transform="translate(14 `, top+plotHeight/2, `) rotate(-90)" text-anchor="middle">`)
	s.text(p.yLabel)
	s.w("</text>\n")
	s.timeAxis(top, bottom)

	// Series drawn first are drawn wider, so a series that coincides with
	// an earlier one leaves both colors visible.
	for i, st := range p.steps {
		width := 2.0
		if n := len(p.steps); n > 1 {
			width = 1.5 + 2*float64(n-1-i)/float64(n-1)
		}
		s.stepPath(st, width, y)
	}
	for _, r := range p.rates {
		s.ratePath(r, y)
	}
	if len(p.steps) == 0 && len(p.rates) == 0 && p.empty != "" {
		s.w(`<text class="empty" x="`, marginLeft+plotWidth/2.0, `" y="`, top+plotHeight/2, `" text-anchor="middle">`)
		s.text(p.empty)
		s.w("</text>\n")
	}
	s.w(`<rect class="frame" x="`, marginLeft, `" y="`, top, `" width="`, plotWidth, `" height="`, plotHeight, `"/>`, "\n")
	s.w("</svg>")
	return template.HTML(s.String())
}

// stepPath draws a step series: horizontal runs between columns, and in a
// column where the value changed a vertical stroke over the range it took.
func (s *svg) stepPath(st *stepSeries, width float64, y func(float64) float64) {
	s.w(`<path class="series" stroke="`, st.color, `" stroke-width="`, width, `"`)
	if st.dash {
		s.w(` stroke-dasharray="6 3"`)
	}
	s.w(` d="M`, float64(marginLeft), ` `, y(st.initial))
	pen := y(st.initial)
	penX := float64(marginLeft)
	for c, col := range st.cols {
		if !col.set {
			continue
		}
		if x := s.colX(c); x != penX {
			s.w(`H`, x)
			penX = x
		}
		for _, v := range [3]float64{col.min, col.max, col.last} {
			if yy := y(v); yy != pen {
				s.w(`V`, yy)
				pen = yy
			}
		}
	}
	s.w(`H`, float64(marginLeft+plotWidth), "\"><title>")
	s.text(st.name)
	s.w("</title></path>\n")
}

// ratePath draws a rate series as a line through the middle of each column
// that has samples.
func (s *svg) ratePath(r *rateSeries, y func(float64) float64) {
	s.w(`<path class="series rate" stroke="`, r.color, `" d="`)
	gap := true
	half := float64(plotWidth) / float64(s.tl.ncols) / 2
	for c := range r.seconds {
		v, ok := r.value(c)
		if !ok {
			gap = true
			continue
		}
		cmd := "L"
		if gap {
			cmd = "M"
		}
		s.w(cmd, s.colX(c)+half, ` `, y(v))
		gap = false
	}
	s.w("\"><title>")
	s.text(r.name)
	s.w("</title></path>\n")
}

// renderGantt draws one row per fault over virtual time.
func renderGantt(tl timeline, spans []faultSpan) template.HTML {
	s := &svg{tl: tl}
	n := min(len(spans), maxGantt)
	rows := n
	if len(spans) > n {
		rows++ // a line saying how many more the table lists
	}
	top := 8.0
	bottom := top + float64(rows)*ganttRowH + 4
	s.open(bottom+axisBelow, "fault timeline")
	s.w(`<rect class="area" x="`, marginLeft, `" y="`, top, `" width="`, plotWidth, `" height="`, bottom-top, `"/>`, "\n")
	s.timeAxis(top, bottom)
	for i, f := range spans[:n] {
		y := top + float64(i)*ganttRowH
		x0, x1 := s.x(f.start), s.x(f.end)
		s.w(`<g><title>`)
		s.text(f.label + ": " + fmtDur(f.start) + " – " + fmtDur(f.end))
		s.w(`</title><rect x="`, x0, `" y="`, y+16, `" width="`, max(x1-x0, 2), `" height="10" rx="2" fill="`, f.color, `"/>`)
		// The label sits above its bar, from the bar's start to the right
		// edge, or when there is more room the other way, ending at the
		// bar's end; cut to the room it has.
		startX := max(x0, marginLeft+2)
		right := float64(marginLeft+plotWidth-2) - startX
		left := x1 - (marginLeft + 2)
		room := max(right, left)
		label := truncate(f.label, min(maxLabelLen, int(room/charWidth)))
		if width := float64(utf8.RuneCountInString(label)) * charWidth; width <= right || right >= left {
			s.w(`<text class="label" x="`, startX, `" y="`, y+12, `">`)
		} else {
			s.w(`<text class="label" x="`, x1, `" y="`, y+12, `" text-anchor="end">`)
		}
		s.text(label)
		s.w("</text></g>\n")
	}
	if more := len(spans) - n; more > 0 {
		s.w(`<text class="empty" x="`, marginLeft+6, `" y="`, top+float64(n)*ganttRowH+18, `">… `, more, ` more faults, listed in the table below</text>`, "\n")
	}
	s.w(`<rect class="frame" x="`, marginLeft, `" y="`, top, `" width="`, plotWidth, `" height="`, bottom-top, `"/>`, "\n")
	s.w("</svg>")
	return template.HTML(s.String())
}

// truncate cuts s to n runes, the last an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return string([]rune(s)[:n-1]) + "…"
}

// yScale picks a tick step (1, 2 or 5 times a power of ten; whole numbers
// for counts) and the top of the axis.
func yScale(maxY float64, integer bool) (step, top float64) {
	if maxY <= 0 {
		return 1, 1
	}
	raw := maxY / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if integer {
		step = max(step, 1)
	}
	top = math.Ceil(maxY/step-1e-9) * step
	return step, top
}

var timeSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// timeStep picks the tick interval giving at most 10 intervals.
func timeStep(total time.Duration) time.Duration {
	i := sort.Search(len(timeSteps), func(i int) bool { return total/timeSteps[i] <= 10 })
	if i < len(timeSteps) {
		return timeSteps[i]
	}
	d := 24 * time.Hour
	for total/d > 10 {
		d *= 2
	}
	return d
}

// fmtDur formats virtual time compactly: 0s, 45s, 5m, 5m30s, 1h2m, 2.5s.
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	d = d.Round(time.Millisecond)
	h, m := d/time.Hour, d%time.Hour/time.Minute
	sec := d % time.Minute
	if h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
	}
	if m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
	}
	if sec > 0 {
		b.WriteString(strconv.FormatFloat(sec.Seconds(), 'f', -1, 64) + "s")
	}
	return b.String()
}

// fmtTick formats an axis value in the unit the top of the axis needs, so
// one axis reads 0, 5k, 10k rather than 0, 5000, 10k.
func fmtTick(v, top float64) string {
	switch {
	case top >= 1e6:
		return fmtScaled(v/1e6, "M")
	case top >= 1e4:
		return fmtScaled(v/1e3, "k")
	}
	return fmtScaled(v, "")
}

func fmtScaled(f float64, suffix string) string {
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) + suffix
}

// fmtNum formats a value: 3, 2.5, 12k, 1.5M.
func fmtNum(v float64) string {
	switch {
	case math.Abs(v) >= 1e6:
		return fmtScaled(v/1e6, "M")
	case math.Abs(v) >= 1e4:
		return fmtScaled(v/1e3, "k")
	}
	return fmtScaled(v, "")
}

package dashboards

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// RateInterval is the range of every rate in the dashboards: Grafana's
// $__rate_interval, at least four scrape intervals.
const RateInterval = "$__rate_interval"

// DatasourceVariable is the dashboards' Prometheus data source variable.
const DatasourceVariable = "datasource"

// Dashboard is one generated dashboard.
type Dashboard struct {
	// File is its file name in dashboards/.
	File string
	// UID is its stable Grafana uid.
	UID string
	// JSON is the dashboard model, indented, with a final newline.
	JSON []byte
	// Queries are its PromQL expressions, in panel order.
	Queries []string
}

// panel is a panel being defined: its builder and its queries.
type panel struct {
	builder cog.Builder[dashboard.Panel]
	queries []string
}

// query is one PromQL expression and its legend.
type query struct{ expr, legend string }

var datasource = dashboard.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + DatasourceVariable + "}")}

func target(q query, ref string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(q.expr).LegendFormat(q.legend).RefId(ref).Datasource(datasource)
}

func refID(i int) string { return string(rune('A' + i)) }

// series is a time series panel of the queries.
func series(title, description, unit string, width uint32, qs ...query) panel {
	b := timeseries.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource).Height(8).Span(width).Min(0).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom))
	p := panel{builder: b}
	for i, q := range qs {
		b.WithTarget(target(q, refID(i)))
		p.queries = append(p.queries, q.expr)
	}
	return p
}

// stacked is series with the series stacked (parts of a whole).
func stacked(title, description, unit string, width uint32, qs ...query) panel {
	p := series(title, description, unit, width, qs...)
	p.builder.(*timeseries.PanelBuilder).FillOpacity(40).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
	return p
}

// single is a stat panel of one query.
func single(title, description, unit string, width uint32, q query) panel {
	b := stat.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource).Height(4).Span(width).WithTarget(target(q, "A")).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	return panel{builder: b, queries: []string{q.expr}}
}

// rate is the per-second rate of a counter selector, summed by labels.
func rate(selector, by string) string {
	if by == "" {
		return fmt.Sprintf("sum(rate(%s[%s]))", selector, RateInterval)
	}
	return fmt.Sprintf("sum by (%s) (rate(%s[%s]))", by, selector, RateInterval)
}

// quantile is a quantile of a histogram's rate, by labels.
func quantile(q float64, histogram, matchers, by string) string {
	grouping := "le"
	if by != "" {
		grouping += ", " + by
	}
	return fmt.Sprintf("histogram_quantile(%g, sum by (%s) (rate(%s_bucket%s[%s])))", q, grouping, histogram, matchers, RateInterval)
}

// build makes a dashboard of rows of panels.
func build(file, uid, title, description string, rows []row) (Dashboard, error) {
	b := dashboard.NewDashboardBuilder(title).Uid(uid).Description(description).
		Tags([]string{"nodesim"}).Refresh("10s").Time("now-30m", "now").Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).Editable().
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVariable).Label("Data source").Type("prometheus"))
	d := Dashboard{File: file, UID: uid}
	for _, r := range rows {
		b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			b.WithPanel(p.builder)
			d.Queries = append(d.Queries, p.queries...)
		}
	}
	model, err := b.Build()
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", uid, err)
	}
	// Panel ids must be unique within a dashboard; number them in order.
	for i := range model.Panels {
		id := uint32(i + 1)
		switch p := model.Panels[i]; {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
	out, err := json.MarshalIndent(model, "", "  ")
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", uid, err)
	}
	d.JSON = append(out, '\n')
	return d, nil
}

type row struct {
	title  string
	panels []panel
}

// All builds every dashboard, in a fixed order.
func All() ([]Dashboard, error) {
	var out []Dashboard
	for _, f := range []func() (Dashboard, error){fleetHealth, heartbeatLoad, runtime, simulator} {
		d, err := f()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

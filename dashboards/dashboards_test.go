package dashboards_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/nodesim/nodesim/dashboards"
	"github.com/nodesim/nodesim/sim/metrics"
)

// TestCommittedJSONIsGenerated checks that dashboards/*.json is what the
// generator writes now: run `make dashboards` after changing a dashboard.
func TestCommittedJSONIsGenerated(t *testing.T) {
	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, d := range all {
		if uids[d.UID] {
			t.Errorf("uid %s used twice", d.UID)
		}
		uids[d.UID] = true
		committed, err := os.ReadFile(d.File)
		if err != nil {
			t.Fatalf("%s: %v (run make dashboards)", d.File, err)
		}
		if !bytes.Equal(committed, d.JSON) {
			t.Errorf("%s differs from the generator's output: run make dashboards", d.File)
		}
	}
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(all) {
		t.Errorf("dashboards/ has %d JSON files, the generator writes %d: %v", len(files), len(all), files)
	}
}

// parse parses a dashboard expression as Prometheus would after Grafana
// replaced its variables.
func parse(expr, rateInterval string) (parser.Expr, error) {
	return parser.NewParser(parser.Options{}).ParseExpr(strings.ReplaceAll(expr, dashboards.RateInterval, rateInterval))
}

// unknownMetrics returns the metric names expr selects that are not in
// exported (name -> type); a histogram's or summary's _bucket, _sum and
// _count series count as its own.
func unknownMetrics(expr string, exported map[string]string) ([]string, error) {
	ast, err := parse(expr, "1m")
	if err != nil {
		return nil, err
	}
	var unknown []string
	var selectors int
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		selectors++
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		if exported[name] != "" {
			return nil
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && (exported[base] == "histogram" || exported[base] == "summary" && suffix != "_bucket") {
				return nil
			}
		}
		unknown = append(unknown, name)
		return nil
	})
	if selectors == 0 {
		return nil, fmt.Errorf("selects no metric")
	}
	return unknown, nil
}

// TestQueriesNameOnlyExportedMetrics parses every dashboard expression and
// checks that each names a metric nodesim serves: its own (the metrics
// package's list) or one a real nodesim serve exposed at /metrics.
func TestQueriesNameOnlyExportedMetrics(t *testing.T) {
	exported := metrics.Families()
	for name, typ := range servedFamilies(t) {
		exported[name] = typ
	}
	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, d := range all {
		if len(d.Queries) == 0 {
			t.Errorf("%s: no queries", d.UID)
		}
		for _, q := range d.Queries {
			n++
			unknown, err := unknownMetrics(q, exported)
			if err != nil {
				t.Errorf("%s: %q: %v", d.UID, q, err)
				continue
			}
			if len(unknown) > 0 {
				t.Errorf("%s: %q names metrics nodesim does not export: %v", d.UID, q, unknown)
			}
		}
	}
	t.Logf("%d expressions over %d exported metric families", n, len(exported))
}

// TestUnknownMetricsFound checks the checker itself: a misspelt or foreign
// name, a bad expression and a metric-less one are all caught.
func TestUnknownMetricsFound(t *testing.T) {
	exported := map[string]string{"nodesim_fleet_nodes": "gauge", "nodesim_api_request_duration_seconds": "histogram"}
	for expr, want := range map[string][]string{
		`sum by (ready) (nodesim_fleet_nodes)`: nil,
		`histogram_quantile(0.9, sum by (le) (rate(nodesim_api_request_duration_seconds_bucket[$__rate_interval])))`: nil,
		`sum(nodesim_fleet_node) + nodesim_fleet_nodes`:                                                              {"nodesim_fleet_node"},
		`rate(kube_node_status_condition[5m])`:                                                                       {"kube_node_status_condition"},
		`{__name__="nodesim_fleet_nodez"}`:                                                                           {"nodesim_fleet_nodez"},
		`nodesim_fleet_nodes_bucket`:                                                                                 {"nodesim_fleet_nodes_bucket"},
		`rate(nodesim_api_request_duration_seconds_count[1m]) / on() up`:                                             {"up"},
	} {
		got, err := unknownMetrics(expr, exported)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%q: unknown %v, want %v", expr, got, want)
		}
	}
	for _, bad := range []string{`sum(rate(nodesim_fleet_nodes[$__rate_interval])`, `vector(1)`} {
		if _, err := unknownMetrics(bad, exported); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

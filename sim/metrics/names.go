package metrics

import (
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Names returns the names of nodesim's own metric families, sorted: what a
// dashboard may name besides the API server's, etcd's and the Go
// runtime's.
func Names() []string {
	families := Families()
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Families returns the type (counter, gauge, histogram) of each of
// nodesim's own metric families by name. It builds the metrics on a
// private registry, so it is always what New registers.
func Families() map[string]string {
	reg := prometheus.NewPedanticRegistry()
	m, err := New(Config{Registerer: reg})
	if err != nil {
		return nil
	}
	// A vector shows up in a gather only once it has a series.
	for _, c := range m.collectors() {
		touch(c)
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil
	}
	out := make(map[string]string, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = strings.ToLower(mf.GetType().String())
	}
	return out
}

// touch creates one series of a vector, with empty label values.
func touch(c prometheus.Collector) {
	var labels int
	switch v := c.(type) {
	case *prometheus.CounterVec:
		for labels = 0; labels < 8; labels++ {
			if _, err := v.GetMetricWithLabelValues(make([]string, labels)...); err == nil {
				return
			}
		}
	case *prometheus.GaugeVec:
		for labels = 0; labels < 8; labels++ {
			if _, err := v.GetMetricWithLabelValues(make([]string, labels)...); err == nil {
				return
			}
		}
	case *prometheus.HistogramVec:
		for labels = 0; labels < 8; labels++ {
			if _, err := v.GetMetricWithLabelValues(make([]string, labels)...); err == nil {
				return
			}
		}
	}
}

package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Names returns the names of nodesim's own metric families, sorted: what a
// dashboard may name besides the API server's, etcd's and the Go
// runtime's. It builds the metrics on a private registry, so it is always
// the list New registers.
func Names() []string {
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
	names := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	sort.Strings(names)
	return names
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

package metrics

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Gatherer is what /metrics and metrics.prom show: ours first, then the
// embedded API server's (k8s.io/component-base's legacy registry, where
// k8s.io/apiserver registers), then the Prometheus default registry's
// (where etcd and its gRPC server register). Both of those hold the Go
// runtime and process collectors, and apiserver_storage_size_bytes is in
// both, so a family already gathered is left out of the later ones
// instead of failing the scrape as prometheus.Gatherers would.
func Gatherer(ours prometheus.Gatherer) prometheus.Gatherer {
	return firstWins{ours, legacyregistry.DefaultGatherer, prometheus.DefaultGatherer}
}

// firstWins gathers each gatherer in turn and keeps the first family of
// each name.
type firstWins []prometheus.Gatherer

func (g firstWins) Gather() ([]*dto.MetricFamily, error) {
	seen := map[string]bool{}
	var out []*dto.MetricFamily
	var errs prometheus.MultiError
	for _, gatherer := range g {
		mfs, err := gatherer.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		for _, mf := range mfs {
			if seen[mf.GetName()] {
				continue
			}
			seen[mf.GetName()] = true
			out = append(out, mf)
		}
	}
	return out, errs.MaybeUnwrap()
}

// WriteText writes what g gathers in the Prometheus text exposition format
// (metrics.prom).
func WriteText(w io.Writer, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}

// Handler serves what g gathers at /metrics (and a pointer to it at /).
func Handler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "nodesim: metrics at /metrics")
	})
	return mux
}

// ListenAddr resolves a --metrics-addr value: "PORT" or ":PORT" listen on
// loopback only (127.0.0.1); a host given explicitly, even 0.0.0.0, is
// used as given, since whoever typed it chose to expose the metrics.
func ListenAddr(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("metrics address is empty: give PORT, :PORT or HOST:PORT")
	}
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("metrics address %q: %w", addr, err)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("metrics address %q: port %q is not a number from 0 to 65535", addr, port)
	} else if p == 0 && port != "0" {
		return "", fmt.Errorf("metrics address %q: bad port %q", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Listen listens on a --metrics-addr value (see ListenAddr).
func Listen(addr string) (net.Listener, error) {
	resolved, err := ListenAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", resolved)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", resolved, err)
	}
	return ln, nil
}

// IsLoopback says whether a listener's address is a loopback one.
func IsLoopback(ln net.Listener) bool {
	a, ok := ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

package metrics

import (
	"strconv"
	"time"
)

// Request is one API request of the simulation, as its client saw it.
type Request struct {
	// Resource is the resource and subresource, e.g. "leases",
	// "nodes/status".
	Resource string
	// Verb is create, update, patch, delete, get, list or watch.
	Verb string
	// Code is the HTTP status code; 0 when no response came.
	Code int
	// Node is the virtual node whose kubelet sent the request; "" for the
	// control plane.
	Node string
	// Wall is the wall time from sending to the response headers.
	Wall time.Duration
	// Bytes is the request body's size (a write's bytes).
	Bytes int64
}

// ObserveRequest counts an API request: requests, latency and bytes
// written, and the kubelets' accepted Lease writes and status posts.
func (m *Metrics) ObserveRequest(r Request) {
	code := "error"
	if r.Code > 0 {
		code = strconv.Itoa(r.Code)
	}
	m.apiRequests.WithLabelValues(r.Resource, r.Verb, code).Inc()
	m.apiSeconds.WithLabelValues(r.Resource, r.Verb).Observe(r.Wall.Seconds())
	ok := r.Code >= 200 && r.Code < 300
	if !ok {
		return
	}
	switch r.Verb {
	case "create", "update", "patch", "delete":
		if r.Bytes > 0 {
			m.apiWriteBytes.WithLabelValues(r.Resource, r.Verb).Add(float64(r.Bytes))
		} else {
			// The series exists from the first write, even of no body.
			m.apiWriteBytes.WithLabelValues(r.Resource, r.Verb)
		}
	}
	if r.Node == "" {
		return
	}
	switch {
	case r.Resource == "leases" && (r.Verb == "create" || r.Verb == "update"):
		pool, zone := m.Locate(r.Node)
		m.leaseRenewals.WithLabelValues(pool, zone).Inc()
	case r.Resource == "nodes/status" && r.Verb == "patch":
		pool, zone := m.Locate(r.Node)
		m.statusPosts.WithLabelValues(pool, zone).Inc()
	}
}

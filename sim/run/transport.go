package run

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// traffic counts the simulation's API writes and their bytes by resource
// and verb, at the HTTP layer, so every client is counted the same way.
type traffic struct {
	// fault, if set, may fail a request before it is sent.
	fault func(*http.Request) error
	// observe, if set, hears of every request sent and how it went (the
	// nodesim_api_* metrics hook, sim/run/metrics.go).
	observe func(req *http.Request, resp *http.Response, err error, wall time.Duration)
	// measure, if set, hears of every request too, failed ones included
	// (the report's measurements, sim/run/measure.go).
	measure *measure

	mu     sync.Mutex
	writes map[string]map[string]int64
	bytes  map[string]map[string]int64
}

func newTraffic() *traffic {
	return &traffic{writes: map[string]map[string]int64{}, bytes: map[string]map[string]int64{}}
}

// wrap is a rest.Config WrapTransport.
func (t *traffic) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if t.fault != nil {
			if err := t.fault(req); err != nil {
				t.measure.request(req, nil, err, 0)
				return nil, err
			}
		}
		verb := writeVerbs[req.Method]
		sent := time.Now()
		resp, err := rt.RoundTrip(req)
		wall := time.Since(sent)
		if t.observe != nil { // metrics hook
			t.observe(req, resp, err, wall)
		}
		t.measure.request(req, resp, err, wall)
		if verb == "" {
			return resp, err
		}
		if err == nil && resp.StatusCode < 300 {
			t.add(resourceOf(req.URL.Path), verb, req.ContentLength)
		}
		return resp, err
	})
}

func (t *traffic) add(resource, verb string, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.writes[resource] == nil {
		t.writes[resource] = map[string]int64{}
		t.bytes[resource] = map[string]int64{}
	}
	t.writes[resource][verb]++
	if n > 0 {
		t.bytes[resource][verb] += n
	}
}

// snapshot returns copies of the counts.
func (t *traffic) snapshot() (writes, bytes map[string]map[string]int64, total int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	writes, bytes = map[string]map[string]int64{}, map[string]map[string]int64{}
	for r, verbs := range t.writes {
		writes[r], bytes[r] = map[string]int64{}, map[string]int64{}
		for v, n := range verbs {
			writes[r][v] = n
			bytes[r][v] = t.bytes[r][v]
			total += n
		}
	}
	return writes, bytes, total
}

var writeVerbs = map[string]string{
	http.MethodPost:   "create",
	http.MethodPut:    "update",
	http.MethodPatch:  "patch",
	http.MethodDelete: "delete",
}

// resourceOf names the resource (and subresource) of an API path:
// /api/v1/nodes/n1/status is nodes/status, /apis/coordination.k8s.io/v1/
// namespaces/kube-node-lease/leases/n1 is leases.
func resourceOf(path string) string {
	parts, ok := resourceParts(path)
	switch {
	case !ok || len(parts) == 0:
		return "other"
	case len(parts) <= 2:
		return parts[0]
	}
	return parts[0] + "/" + parts[2]
}

// resourceParts is an API path after its group, version and namespace:
// resource, then name and subresource if any. ok is false for a path that
// is not under /api or /apis.
func resourceParts(path string) (parts []string, ok bool) {
	parts = strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return nil, false
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	return parts, true
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

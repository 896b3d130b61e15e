package node

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// namesKubelet is a fakeKubelet that records the names requests reach it
// with.
type namesKubelet struct {
	*fakeKubelet
	mu    sync.Mutex
	names []string
}

func (n *namesKubelet) record(names ...string) {
	n.mu.Lock()
	n.names = append(n.names, names...)
	n.mu.Unlock()
}

func (n *namesKubelet) ContainerLogs(ctx context.Context, ns, pod, ctr string, opts *corev1.PodLogOptions, w io.Writer) error {
	n.record(ns, pod, ctr)
	return n.fakeKubelet.ContainerLogs(ctx, ns, pod, ctr, opts, w)
}

func (n *namesKubelet) Checkpoint(ctx context.Context, ns, pod, ctr string, timeout time.Duration) (string, error) {
	n.record(ns, pod, ctr)
	return n.fakeKubelet.Checkpoint(ctx, ns, pod, ctr, timeout)
}

// FuzzKubeletAPIPath: any method, path and query to a kubelet's API gets
// an HTTP status, never a panic, and a name that reaches the kubelet
// (namespace, pod, container) is one path segment: never empty, ".", ".."
// or holding a "/".
//
//	go test -run '^$' -fuzz FuzzKubeletAPIPath -fuzztime 60s ./node/
func FuzzKubeletAPIPath(f *testing.F) {
	for _, seed := range []struct{ method, target string }{
		{"GET", "/healthz"}, {"GET", "/healthz/syncloop"}, {"GET", "/configz"}, {"GET", "/pods"}, {"GET", "/pods/"},
		{"GET", "/containerLogs/default/p/c?tailLines=2&timestamps=true"},
		{"GET", "/containerLogs/default/p/c?sinceSeconds=-1"},
		{"GET", "/containerLogs/default/../p/c"}, {"GET", "/containerLogs//p/c"},
		{"POST", "/checkpoint/default/p/c?timeout=10"}, {"POST", "/checkpoint/default/p/c?timeout=x"},
		{"POST", "/checkpoint/default/p/c/extra"}, {"POST", "/checkpoint/%2e%2e/p/c"}, {"POST", "/checkpoint/default/p%2Fq/c"},
		{"PUT", "/checkpoint/default/p/c"}, {"GET", "/nope"}, {"CONNECT", "/checkpoint/../x"},
	} {
		f.Add(seed.method, seed.target)
	}
	backend := &namesKubelet{fakeKubelet: newFakeKubelet()}
	h := &handler{cfg: &ServerConfig{
		NodeName: "api-node", AuthorizationMode: AuthorizationModeAlwaysAllow, Backend: backend,
		Authenticator: authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
			return &authenticator.Response{User: &user.DefaultInfo{Name: "fuzzer"}}, true, nil
		}),
	}}
	f.Fuzz(func(t *testing.T, method, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" || strings.ContainsAny(method, " \t\r\n") {
			return
		}
		req := &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{}, Host: "api-node", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		req = req.WithContext(context.Background())
		rec := httptest.NewRecorder()
		backend.mu.Lock()
		backend.names = nil
		backend.mu.Unlock()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("%s %s: status %d", method, target, rec.Code)
		}
		backend.mu.Lock()
		defer backend.mu.Unlock()
		for _, name := range backend.names {
			if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
				t.Fatalf("%s %s reached the kubelet with name %q", method, target, name)
			}
		}
	})
}

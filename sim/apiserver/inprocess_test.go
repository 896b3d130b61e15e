package apiserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestInProcessAbortedRequest: a handler that aborts (the API server's
// timeout filter panics with http.ErrAbortHandler when the client has gone)
// fails that request for its client, as over a connection, and takes
// nothing else down; a watch ends its stream.
func TestInProcessAbortedRequest(t *testing.T) {
	abort := handlerTransport{handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPut, "https://127.0.0.1/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := abort.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "aborted") {
		t.Fatalf("RoundTrip = %v, %v; want an aborted request", resp, err)
	}
	watch, err := http.NewRequest(http.MethodGet, "https://127.0.0.1/api/v1/nodes?watch=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := abort.RoundTrip(watch)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 0 {
		t.Errorf("aborted watch body %q, %v; want an empty stream", b, err)
	}

	other := handlerTransport{handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("a bug") })}
	defer func() {
		if p := recover(); p != "a bug" {
			t.Errorf("recovered %v; a panic other than ErrAbortHandler must go on", p)
		}
	}()
	other.RoundTrip(req)
}

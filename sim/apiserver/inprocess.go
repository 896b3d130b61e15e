package apiserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	restclient "k8s.io/client-go/rest"
)

// InProcessConfig is an admin client configuration whose requests do not
// cross the network: each is handed to the server's full handler chain
// (authentication by the same bearer token, priority and fairness,
// authorization, admission, validation, storage in etcd, watch fan-out).
// It saves the TLS and HTTP/2 framing of the loopback connection, which
// is most of what a small write costs besides the write itself. Requests
// run on the caller's goroutine; watches on one of their own, streaming
// their events until the caller closes the response body.
func (s *Server) InProcessConfig() *restclient.Config {
	return &restclient.Config{
		Host:        s.url,
		BearerToken: s.adminToken,
		Transport:   handlerTransport{handler: s.handler},
		QPS:         -1,
	}
}

// IdentityConfig is an in-process client configuration authenticated as
// user in groups by a client certificate the run's CA signs, presented
// with each request as over TLS: the server's x509 authenticator verifies
// it on every request as it does a remote client's, and Node and RBAC
// authorization and admission (NodeRestriction) see that identity.
func (s *Server) IdentityConfig(userName string, groups ...string) (*restclient.Config, error) {
	kp, err := s.pki.signClient(userName, groups)
	if err != nil {
		return nil, fmt.Errorf("client certificate for %s: %w", userName, err)
	}
	peer := &tls.ConnectionState{
		Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: "localhost",
		PeerCertificates: []*x509.Certificate{kp.cert},
	}
	return &restclient.Config{
		Host:      s.url,
		Transport: handlerTransport{handler: s.handler, tls: peer},
		QPS:       -1,
	}, nil
}

// NodeConfig is IdentityConfig for a kubelet: system:node:<node> in
// system:nodes.
func (s *Server) NodeConfig(node string) (*restclient.Config, error) {
	return s.IdentityConfig(NodeUserPrefix+node, NodesGroup)
}

// handlerTransport is an http.RoundTripper that serves requests with an
// http.Handler, as if they came over a TLS connection with tls (nil: no
// client certificate).
type handlerTransport struct {
	handler http.Handler
	tls     *tls.ConnectionState
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if isWatch(req) {
		return t.stream(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout)
	defer cancel()
	in := t.serverRequest(ctx, req)
	w := &bufferedResponse{header: http.Header{}}
	if !t.serve(w, in) {
		return nil, fmt.Errorf("%s %s: the server aborted the request: %w", req.Method, req.URL.Path, context.Cause(ctx))
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	body := w.body.Bytes()
	w.header.Set("Content-Length", strconv.Itoa(len(body)))
	return response(req, w.status, w.header, io.NopCloser(bytes.NewReader(body)), int64(len(body))), nil
}

// stream serves a watch on a goroutine of its own: the response is handed
// back once the server has sent its header, and its body streams the
// events until the caller closes it (which ends the watch) or the server
// ends the watch.
func (t handlerTransport) stream(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	pr, pw := io.Pipe()
	w := &streamingResponse{header: http.Header{}, body: pw, sent: make(chan struct{}), closed: make(chan bool, 1)}
	go func() {
		defer cancel()
		t.serve(w, t.serverRequest(ctx, req))
		w.send()
		pw.Close()
	}()
	select {
	case <-w.sent:
	case <-ctx.Done():
		pr.Close()
		return nil, ctx.Err()
	}
	body := &watchBody{PipeReader: pr, stop: func() {
		cancel()
		w.closed <- true
	}}
	return response(req, w.status, w.sentHeader, body, -1), nil
}

// serve runs the handler as net/http's server does: a handler that
// panics with http.ErrAbortHandler (the API server's timeout filter does
// when the client has gone or the request timed out) aborts the response,
// which the client sees as a failed request, and nothing else; serve then
// returns false.
func (t handlerTransport) serve(w http.ResponseWriter, r *http.Request) (completed bool) {
	defer func() {
		if !completed {
			if p := recover(); p != nil && p != http.ErrAbortHandler { //nolint:errorlint // net/http compares the same way
				panic(p)
			}
		}
	}()
	t.handler.ServeHTTP(w, r)
	return true
}

// isWatch says whether a request is a watch (`?watch=true` or the legacy
// /watch/ paths).
func isWatch(req *http.Request) bool {
	switch req.URL.Query().Get("watch") {
	case "true", "1":
		return true
	}
	return strings.Contains(req.URL.Path, "/watch/")
}

// serverRequest is req as the server receives it from a client on
// loopback over HTTP/2 and TLS.
func (t handlerTransport) serverRequest(ctx context.Context, req *http.Request) *http.Request {
	in := req.Clone(ctx)
	in.TLS = t.tls
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/2.0", 2, 0
	return in
}

func response(req *http.Request, status int, header http.Header, body io.ReadCloser, length int64) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        header,
		Body:          body,
		ContentLength: length,
		Request:       req,
	}
}

// bufferedResponse is an http.ResponseWriter that keeps the whole response.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedResponse) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// streamingResponse is an http.ResponseWriter whose body is a pipe to the
// client. It is a Flusher and a CloseNotifier, as HTTP/2's response writer
// is: the API server's watch needs the first, and its response writer
// wrappers keep both only when the writer has both.
type streamingResponse struct {
	header     http.Header
	sentHeader http.Header
	status     int
	body       *io.PipeWriter
	sent       chan struct{}
	closed     chan bool
}

func (w *streamingResponse) Header() http.Header { return w.header }

// WriteHeader sends the status and the header as they are now.
func (w *streamingResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.send()
}

func (w *streamingResponse) send() {
	if w.sentHeader != nil {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.sentHeader = w.header.Clone()
	close(w.sent)
}

func (w *streamingResponse) Write(b []byte) (int, error) {
	w.send()
	return w.body.Write(b)
}

// Flush sends the header; the body has no buffer to flush.
func (w *streamingResponse) Flush() { w.send() }

// CloseNotify is told when the client closes the body.
func (w *streamingResponse) CloseNotify() <-chan bool { return w.closed }

// watchBody ends the watch when closed.
type watchBody struct {
	*io.PipeReader
	once sync.Once
	stop func()
}

func (b *watchBody) Close() error {
	b.once.Do(b.stop)
	return b.PipeReader.Close()
}

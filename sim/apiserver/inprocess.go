package apiserver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/sets"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	restclient "k8s.io/client-go/rest"
)

// InProcessConfig is an admin client configuration whose requests do not
// cross the network: each is handed to the server's full handler chain
// (authentication by the same bearer token, authorization, admission,
// validation, storage in etcd, watch fan-out). It saves the TLS and HTTP/2
// framing of the loopback connection, which is most of what a small write
// costs besides the write itself. Requests run on the caller's goroutine;
// watches on one of their own, streaming their events until the caller
// closes the response body.
func (s *Server) InProcessConfig() *restclient.Config {
	return &restclient.Config{
		Host:        s.url,
		BearerToken: s.adminToken,
		Transport:   handlerTransport{handler: s.handler},
		QPS:         -1,
	}
}

// handlerTransport is an http.RoundTripper that serves requests with an
// http.Handler.
type handlerTransport struct{ handler http.Handler }

// inProcessKey marks the context of a request made through
// handlerTransport.
type inProcessKey struct{}

// longRunning is the server's LongRunningFunc: kube-apiserver's (watches,
// proxies, logs, exec, attach and port forwarding) and every in-process
// request. The server's timeout filter runs each request that is not
// long-running on a goroutine of its own, so as to answer 504 while the
// handler goes on; that goroutine's stack grows through the whole handler
// chain, a few copies a request and a twentieth of the CPU of every
// write. An in-process request gets the same deadline from its transport
// instead, on the caller's goroutine.
func longRunning() apirequest.LongRunningRequestCheck {
	kubeAPIServer := genericfilters.BasicLongRunningRequestCheck(
		sets.NewString("watch", "proxy"), sets.NewString("attach", "exec", "proxy", "log", "portforward"))
	return func(r *http.Request, info *apirequest.RequestInfo) bool {
		return r.Context().Value(inProcessKey{}) != nil || kubeAPIServer(r, info)
	}
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if isWatch(req) {
		return t.stream(req)
	}
	ctx, cancel := context.WithTimeout(context.WithValue(req.Context(), inProcessKey{}, true), requestTimeout)
	defer cancel()
	in := serverRequest(ctx, req)
	w := &bufferedResponse{header: http.Header{}}
	t.handler.ServeHTTP(w, in)
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
		t.handler.ServeHTTP(w, serverRequest(ctx, req))
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
// loopback over HTTP/2.
func serverRequest(ctx context.Context, req *http.Request) *http.Request {
	in := req.Clone(ctx)
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

package apiserver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/util/sets"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	restclient "k8s.io/client-go/rest"
)

// InProcessConfig is an admin client configuration whose requests do not
// cross the network: each is handed to the server's full handler chain
// (authentication by the same bearer token, authorization, admission,
// validation, storage in etcd, watch fan-out) on the caller's goroutine.
// It saves the TLS and HTTP/2 framing of the loopback connection, which
// is most of what a small write costs besides the write itself. It serves
// requests whose response ends (every verb but watch): informers use
// RESTConfig.
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
	ctx, cancel := context.WithTimeout(context.WithValue(req.Context(), inProcessKey{}, true), requestTimeout)
	defer cancel()
	in := req.Clone(ctx)
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/2.0", 2, 0
	w := &bufferedResponse{header: http.Header{}}
	t.handler.ServeHTTP(w, in)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	body := w.body.Bytes()
	w.header.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         in.Proto,
		ProtoMajor:    in.ProtoMajor,
		ProtoMinor:    in.ProtoMinor,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
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

package apiserver

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

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

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
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

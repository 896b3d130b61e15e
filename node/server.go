package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes/scheme"
)

// Authorization modes of the kubelet's HTTPS API, as
// KubeletConfiguration.authorization.mode.
const (
	// AuthorizationModeAlwaysAllow lets every authenticated request through.
	AuthorizationModeAlwaysAllow = "AlwaysAllow"
	// AuthorizationModeWebhook asks the API server (a SubjectAccessReview);
	// here, ServerConfig.Authorizer. It is the v1beta1 default.
	AuthorizationModeWebhook = "Webhook"
)

// Limits of the kubelet's HTTP server (ListenAndServeKubeletServer).
const (
	serverIdleTimeout    = 90 * time.Second
	serverReadTimeout    = 4 * 60 * time.Minute
	serverWriteTimeout   = 4 * 60 * time.Minute
	serverMaxHeaderBytes = 1 << 20
)

// The kubelet API's paths (pkg/kubelet/server and component-base).
const (
	healthzPath       = "/healthz"
	configzPath       = "/configz"
	podsPath          = "/pods"
	containerLogsPath = "/containerLogs"
	checkpointPath    = "/checkpoint/"
	statsPath         = "/stats/"
	metricsPath       = "/metrics"
	logsPath          = "/logs/"
	statuszPath       = "/statusz"
	flagzPath         = "/flagz"
	allocatedPodsPath = "/allocatedPods"
	runningPodsPath   = "/runningpods/"
)

// ErrPodNotFound is what a KubeletAPI returns for a pod the kubelet does not
// have; the API answers 404.
var ErrPodNotFound = errors.New("pod does not exist")

// ContainerNotFoundError is what a KubeletAPI returns for a container the
// pod does not have; the API answers 404.
type ContainerNotFoundError struct {
	Container string
}

func (e *ContainerNotFoundError) Error() string {
	return fmt.Sprintf("container %s does not exist", e.Container)
}

// KubeletAPI is what the kubelet's HTTPS API serves, the kubelet side of
// pkg/kubelet/server's HostInterface. Its methods are called from the HTTP
// server's goroutines, concurrently with each other and with the kubelet,
// so an implementation synchronises with the kubelet's own state.
type KubeletAPI interface {
	// Pods are the pods bound to the node that the kubelet manages (its pod
	// manager's view), served at /pods and used to check names before a
	// checkpoint or a log request.
	Pods(ctx context.Context) []*corev1.Pod
	// KubeletConfig is the kubelet's configuration, served at /configz
	// under "kubeletconfig": a versioned object with apiVersion and kind set
	// (a kubelet.config.k8s.io/v1beta1 KubeletConfiguration).
	KubeletConfig(ctx context.Context) any
	// ContainerLogs writes a container's log to w as the options say
	// (tailLines, limitBytes, timestamps, sinceSeconds, sinceTime; previous
	// may fail). Follow is served as a plain read of what is there.
	ContainerLogs(ctx context.Context, namespace, pod, container string, opts *corev1.PodLogOptions, w io.Writer) error
	// Checkpoint checkpoints a container and returns the archive's path.
	// timeout is the request's ?timeout= (0: none given, the CRI's
	// default). ErrPodNotFound and *ContainerNotFoundError answer 404, any
	// other error 500.
	Checkpoint(ctx context.Context, namespace, pod, container string, timeout time.Duration) (path string, err error)
	// CheckpointEnabled says whether the ContainerCheckpoint feature gate is
	// on; off, /checkpoint/ is not served (404), as upstream does not
	// register it.
	CheckpointEnabled() bool
	// SyncLoopHealthy is /healthz's syncloop check: nil when the kubelet's
	// sync loop runs.
	SyncLoopHealthy(ctx context.Context) error
}

// ServerConfig configures one node's kubelet HTTPS server.
type ServerConfig struct {
	// NodeName is the node's name, the name authorized on nodes/<name>.
	NodeName string
	// Address is ip:port to listen on (address and port of the
	// KubeletConfiguration); port 0 picks a free one (see Server.Addr).
	Address string
	// Listener, when set, is a listener already bound at Address that the
	// server takes over (and closes on Close) instead of listening
	// itself: an address reserved earlier stays held with no window in
	// which another process could bind it.
	Listener net.Listener
	// Certificate is the serving certificate (tlsCertFile/tlsPrivateKeyFile).
	// Ignored when TLSConfig is set.
	Certificate tls.Certificate
	// TLSConfig, when set, is used as is instead of one built from
	// Certificate, so that many nodes can share one (for example with a
	// GetCertificate keyed by the connection's local address). It must
	// request client certificates for x509 authentication.
	TLSConfig *tls.Config
	// Authenticator identifies callers (authentication.x509 and
	// authentication.webhook); anonymous access is disabled: a request it
	// does not identify gets 401.
	Authenticator authenticator.Request
	// AuthorizationMode is authorization.mode: AuthorizationModeWebhook
	// (default) or AuthorizationModeAlwaysAllow.
	AuthorizationMode string
	// Authorizer decides in Webhook mode (what a SubjectAccessReview would
	// consult).
	Authorizer authorizer.Authorizer
	// Backend is the kubelet the API serves.
	Backend KubeletAPI
	// ErrorLog receives the HTTP server's errors (failed TLS handshakes);
	// nil discards them.
	ErrorLog *log.Logger
}

func (c *ServerConfig) complete() error {
	if c.NodeName == "" {
		return errors.New("kubelet server: node name is required")
	}
	if c.Address == "" {
		return fmt.Errorf("kubelet server for node %s: address is required", c.NodeName)
	}
	if c.TLSConfig == nil && len(c.Certificate.Certificate) == 0 {
		return fmt.Errorf("kubelet server for node %s: a serving certificate is required", c.NodeName)
	}
	if c.Authenticator == nil {
		return fmt.Errorf("kubelet server for node %s: an authenticator is required", c.NodeName)
	}
	switch c.AuthorizationMode {
	case "":
		c.AuthorizationMode = AuthorizationModeWebhook
	case AuthorizationModeWebhook, AuthorizationModeAlwaysAllow:
	default:
		return fmt.Errorf("kubelet server for node %s: authorization mode %q is not %s or %s",
			c.NodeName, c.AuthorizationMode, AuthorizationModeAlwaysAllow, AuthorizationModeWebhook)
	}
	if c.AuthorizationMode == AuthorizationModeWebhook && c.Authorizer == nil {
		return fmt.Errorf("kubelet server for node %s: authorization mode Webhook needs an authorizer", c.NodeName)
	}
	if c.Backend == nil {
		return fmt.Errorf("kubelet server for node %s: a backend is required", c.NodeName)
	}
	return nil
}

// Server is one node's running kubelet HTTPS server: one listener and one
// net/http server, with a goroutine blocked in Accept and one per open
// connection, nothing else.
type Server struct {
	cfg      ServerConfig
	http     *http.Server
	listener net.Listener
	done     chan struct{}
	once     sync.Once
}

// StartServer listens on cfg.Address and serves the kubelet API there.
func StartServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	tlsConfig := cfg.TLSConfig
	if tlsConfig == nil {
		// The kubelet requests, but does not itself verify, client
		// certificates: the x509 authenticator verifies them.
		tlsConfig = &tls.Config{
			Certificates: []tls.Certificate{cfg.Certificate},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   tls.VersionTLS12,
		}
	}
	l := cfg.Listener
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", cfg.Address); err != nil {
			return nil, fmt.Errorf("kubelet server for node %s: listen on %s: %w", cfg.NodeName, cfg.Address, err)
		}
	}
	errorLog := cfg.ErrorLog
	if errorLog == nil {
		errorLog = log.New(io.Discard, "", 0)
	}
	s := &Server{cfg: cfg, listener: l, done: make(chan struct{})}
	s.http = &http.Server{
		Handler:        &handler{cfg: &s.cfg},
		IdleTimeout:    serverIdleTimeout,
		ReadTimeout:    serverReadTimeout,
		WriteTimeout:   serverWriteTimeout,
		MaxHeaderBytes: serverMaxHeaderBytes,
		ErrorLog:       errorLog,
	}
	go func() {
		defer close(s.done)
		s.http.Serve(tls.NewListener(l, tlsConfig)) // returns ErrServerClosed on Close
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Close stops listening and closes every connection; it returns once the
// server has stopped. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.http.Close()
		<-s.done
	})
	return err
}

// handler serves the kubelet API of one node. Routing mirrors the
// kubelet's: an http.ServeMux of registered roots (anything else is the
// mux's plain 404, before authentication), the authentication and
// authorization filter, then go-restful's routes under each root.
type handler struct {
	cfg *ServerConfig
}

// route is a registered root of the kubelet's mux.
type route int

const (
	routeNone route = iota
	routeHealthz
	routeConfigz
	routePods
	routeContainerLogs
	routeCheckpoint
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// http.ServeMux sends unclean paths (.., //) to their clean form, so
	// no name reaching a handler is "." or ".." or empty.
	if clean := cleanPath(r.URL.Path); clean != r.URL.Path && r.Method != http.MethodConnect {
		u := *r.URL
		u.Path = clean
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
		return
	}
	p := r.URL.Path
	rt := routeNone
	switch {
	case p == healthzPath || p == healthzPath+"/ping" || p == healthzPath+"/log" || p == healthzPath+"/syncloop":
		rt = routeHealthz
	case p == configzPath:
		rt = routeConfigz
	case p == podsPath || strings.HasPrefix(p, podsPath+"/"):
		rt = routePods
	case p == containerLogsPath || strings.HasPrefix(p, containerLogsPath+"/"):
		rt = routeContainerLogs
	case strings.HasPrefix(p, checkpointPath) && h.cfg.Backend.CheckpointEnabled():
		rt = routeCheckpoint
	case p+"/" == checkpointPath && h.cfg.Backend.CheckpointEnabled():
		u := *r.URL
		u.Path = checkpointPath
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
		return
	}
	if rt == routeNone {
		http.NotFound(w, r)
		return
	}
	if !h.authorize(w, r) {
		return
	}
	switch rt {
	case routeHealthz:
		h.healthz(w, r)
	case routeConfigz:
		h.configz(w, r)
	case routePods:
		h.pods(w, r)
	case routeContainerLogs:
		h.containerLogs(w, r)
	case routeCheckpoint:
		h.checkpoint(w, r)
	}
}

// cleanPath is http.ServeMux's: path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// authorize is the kubelet's auth filter: authenticate (401), compute the
// request's attributes, and allow it if any of them is allowed (403).
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	resp, ok, err := h.cfg.Authenticator.AuthenticateRequest(r)
	if err != nil || !ok {
		writeError(w, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	attrs := RequestAttributes(h.cfg.NodeName, resp.User, r)
	if h.cfg.AuthorizationMode == AuthorizationModeAlwaysAllow {
		return true
	}
	subresources := make([]string, 0, len(attrs))
	for _, a := range attrs {
		subresources = append(subresources, a.GetSubresource())
		decision, _, err := h.cfg.Authorizer.Authorize(r.Context(), a)
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=%s, subresource=%s)",
				a.GetUser().GetName(), a.GetVerb(), a.GetResource(), a.GetSubresource()))
			return false
		}
		if decision == authorizer.DecisionAllow {
			return true
		}
	}
	first := attrs[0]
	writeError(w, http.StatusForbidden, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)\n",
		first.GetUser().GetName(), first.GetVerb(), first.GetResource(), subresources))
	return false
}

// RequestAttributes are the authorization attributes the kubelet computes
// for a request to its API (pkg/kubelet/server/auth.go, with
// KubeletFineGrainedAuthz, locked on since 1.36): verb from the method,
// resource nodes/<node>, and a subresource from the path: /stats stats,
// /metrics metrics, /logs log, /checkpoint checkpoint, /statusz statusz,
// /flagz configz, anything else proxy; /pods, /allocatedPods and
// /runningpods are tried as pods, /healthz as healthz and /configz as
// configz before proxy. The request is allowed if any of them is.
func RequestAttributes(nodeName string, u user.Info, r *http.Request) []authorizer.Attributes {
	verb := ""
	switch r.Method {
	case http.MethodPost:
		verb = "create"
	case http.MethodGet:
		verb = "get"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
	}
	p := r.URL.Path
	var subresources []string
	switch {
	case isSubpath(p, allocatedPodsPath), isSubpath(p, podsPath):
		subresources = append(subresources, "pods")
	case isSubpath(p, healthzPath):
		subresources = append(subresources, "healthz")
	case isSubpath(p, configzPath):
		subresources = append(subresources, "configz")
	case isSubpath(p, runningPodsPath):
		subresources = append(subresources, "pods")
	}
	switch {
	case isSubpath(p, statsPath):
		subresources = append(subresources, "stats")
	case isSubpath(p, metricsPath):
		subresources = append(subresources, "metrics")
	case isSubpath(p, logsPath):
		subresources = append(subresources, "log")
	case isSubpath(p, checkpointPath):
		subresources = append(subresources, "checkpoint")
	case isSubpath(p, statuszPath):
		subresources = append(subresources, "statusz")
	case isSubpath(p, flagzPath):
		subresources = append(subresources, "configz")
	default:
		subresources = append(subresources, "proxy")
	}
	attrs := make([]authorizer.Attributes, 0, len(subresources))
	for _, sub := range subresources {
		attrs = append(attrs, authorizer.AttributesRecord{
			User:            u,
			Verb:            verb,
			APIVersion:      "v1",
			Resource:        "nodes",
			Subresource:     sub,
			Name:            nodeName,
			ResourceRequest: true,
			Path:            p,
		})
	}
	return attrs
}

func isSubpath(subpath, p string) bool {
	p = strings.TrimSuffix(p, "/")
	return subpath == p || (strings.HasPrefix(subpath, p) && subpath[len(p)] == '/')
}

// writeError answers as go-restful's WriteErrorString and the kubelet's
// filters do: the status and the message as plain text.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

// restful's answers when no route under a root matches.
const (
	pageNotFound     = "404: Page Not Found"
	methodNotAllowed = "405: Method Not Allowed"
)

func writeMethodNotAllowed(w http.ResponseWriter, allowed string) {
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, methodNotAllowed)
}

// params splits the path below root into exactly n non-empty segments, as
// a go-restful route /{a}/{b}/... matches.
func params(p, root string, n int) ([]string, bool) {
	rest := strings.Trim(strings.TrimPrefix(p, root), "/")
	parts := strings.Split(rest, "/")
	if len(parts) != n {
		return nil, false
	}
	for _, s := range parts {
		if s == "" {
			return nil, false
		}
	}
	return parts, true
}

// healthz serves /healthz and its checks (ping, log, syncloop), as
// k8s.io/apiserver's healthz handler does.
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	syncloop := h.cfg.Backend.SyncLoopHealthy(r.Context())
	switch r.URL.Path {
	case healthzPath + "/ping", healthzPath + "/log":
		io.WriteString(w, "ok")
		return
	case healthzPath + "/syncloop":
		if syncloop != nil {
			http.Error(w, fmt.Sprintf("internal server error: %v", syncloop), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
		return
	}
	var out bytes.Buffer
	out.WriteString("[+]ping ok\n[+]log ok\n")
	if syncloop != nil {
		out.WriteString("[-]syncloop failed: reason withheld\n")
		http.Error(w, out.String()+"healthz check failed", http.StatusInternalServerError)
		return
	}
	out.WriteString("[+]syncloop ok\n")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, verbose := r.URL.Query()["verbose"]; !verbose {
		io.WriteString(w, "ok")
		return
	}
	out.WriteString("healthz check passed\n")
	out.WriteTo(w)
}

// configz serves the configuration as component-base's configz does: a JSON
// object of the registered configurations, the kubelet's under
// "kubeletconfig". It answers every method.
func (h *handler) configz(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(map[string]any{"kubeletconfig": h.cfg.Backend.KubeletConfig(r.Context())})
	if err != nil {
		http.Error(w, fmt.Sprintf("error marshaling json: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// pods serves /pods: the kubelet's pods as a v1 PodList.
func (h *handler) pods(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != podsPath && r.URL.Path != podsPath+"/" {
		writeError(w, http.StatusNotFound, pageNotFound)
		return
	}
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, http.MethodGet)
		return
	}
	list := &corev1.PodList{}
	for _, p := range h.cfg.Backend.Pods(r.Context()) {
		list.Items = append(list.Items, *p)
	}
	data, err := runtime.Encode(scheme.Codecs.LegacyCodec(corev1.SchemeGroupVersion), list)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, data)
}

func writeJSON(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

// findPod is the kubelet's GetPodByName over the backend's pods.
func (h *handler) findPod(ctx context.Context, namespace, name string) *corev1.Pod {
	for _, p := range h.cfg.Backend.Pods(ctx) {
		if p.Namespace == namespace && p.Name == name {
			return p
		}
	}
	return nil
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// containerLogs serves GET /containerLogs/{namespace}/{pod}/{container}.
func (h *handler) containerLogs(w http.ResponseWriter, r *http.Request) {
	ps, ok := params(r.URL.Path, containerLogsPath, 3)
	if !ok {
		writeError(w, http.StatusNotFound, pageNotFound)
		return
	}
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, http.MethodGet)
		return
	}
	namespace, podName, container := ps[0], ps[1], ps[2]
	query := r.URL.Query()
	// "tail" is the old name of tailLines; "all" means no limit.
	if tail := query.Get("tail"); tail != "" {
		query["tailLines"] = []string{tail}
		if tail == "all" {
			delete(query, "tailLines")
		}
	}
	opts, err := decodeLogOptions(query)
	if err != nil {
		writeError(w, http.StatusBadRequest, `{"message": "Unable to decode query."}`)
		return
	}
	if !validLogOptions(opts) {
		writeError(w, http.StatusUnprocessableEntity, `{"message": "Invalid request."}`)
		return
	}
	pod := h.findPod(r.Context(), namespace, podName)
	if pod == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("pod %q does not exist", podName))
		return
	}
	if !hasContainer(pod, container) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("container %q not found in pod %q", container, podName))
		return
	}
	// PodLogsQuerySplitStreams is off in 1.37: only the combined stream.
	if opts.Stream != nil && *opts.Stream != corev1.LogStreamAll {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unable to return the given log stream: %q. Please enable PodLogsQuerySplitStreams feature gate in kubelet", *opts.Stream))
		return
	}
	out := &trackingWriter{w: w}
	err = h.cfg.Backend.ContainerLogs(r.Context(), namespace, podName, container, opts, out)
	switch {
	case err == nil:
		if !out.wrote {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusOK)
		}
	case out.wrote:
		// The status is sent; the kubelet's late WriteError only logs.
	case errors.Is(err, ErrPodNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("pod %q does not exist", podName))
	case errors.As(err, new(*ContainerNotFoundError)):
		writeError(w, http.StatusNotFound, fmt.Sprintf("container %q not found in pod %q", container, podName))
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}

// decodeLogOptions reads PodLogOptions from a query as the kubelet's
// parameter codec does (the generated Convert_url_Values_To_v1_PodLogOptions):
// the first value of each parameter, booleans true unless "0" or "false",
// numbers base 10, times RFC 3339.
func decodeLogOptions(q url.Values) (*corev1.PodLogOptions, error) {
	o := &corev1.PodLogOptions{}
	first := func(key string) (*[]string, bool) {
		v := q[key]
		return &v, len(v) > 0
	}
	if v, ok := first("container"); ok {
		o.Container = (*v)[0]
	}
	bools := []struct {
		key string
		dst *bool
	}{{"follow", &o.Follow}, {"previous", &o.Previous}, {"timestamps", &o.Timestamps}, {"insecureSkipTLSVerifyBackend", &o.InsecureSkipTLSVerifyBackend}}
	for _, b := range bools {
		if v, ok := first(b.key); ok {
			if err := runtime.Convert_Slice_string_To_bool(v, b.dst, nil); err != nil {
				return nil, err
			}
		}
	}
	ints := []struct {
		key string
		dst **int64
	}{{"sinceSeconds", &o.SinceSeconds}, {"tailLines", &o.TailLines}, {"limitBytes", &o.LimitBytes}}
	for _, i := range ints {
		if v, ok := first(i.key); ok {
			if err := runtime.Convert_Slice_string_To_Pointer_int64(v, i.dst, nil); err != nil {
				return nil, err
			}
		}
	}
	if v, ok := first("sinceTime"); ok {
		if err := metav1.Convert_Slice_string_To_Pointer_v1_Time(v, &o.SinceTime, nil); err != nil {
			return nil, err
		}
	}
	if v, ok := first("stream"); ok {
		stream := (*v)[0]
		o.Stream = &stream
	}
	return o, nil
}

// validLogOptions is ValidatePodLogOptions without the split streams.
func validLogOptions(o *corev1.PodLogOptions) bool {
	switch {
	case o.TailLines != nil && *o.TailLines < 0:
	case o.LimitBytes != nil && *o.LimitBytes < 1:
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
	case o.SinceSeconds != nil && o.SinceTime != nil:
	default:
		return true
	}
	return false
}

// trackingWriter streams a log and remembers whether the status was sent.
type trackingWriter struct {
	w     http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	if !t.wrote {
		t.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		t.wrote = true
	}
	n, err := t.w.Write(p)
	if f, ok := t.w.(http.Flusher); ok {
		f.Flush()
	}
	return n, err
}

// checkpoint serves POST /checkpoint/{namespace}/{pod}/{container}: the
// kubelet checks the pod and container exist, parses ?timeout=, and asks
// the runtime.
func (h *handler) checkpoint(w http.ResponseWriter, r *http.Request) {
	ps, ok := params(r.URL.Path, checkpointPath, 3)
	if !ok {
		writeError(w, http.StatusNotFound, pageNotFound)
		return
	}
	if r.Method != http.MethodPost {
		writeMethodNotAllowed(w, http.MethodPost)
		return
	}
	namespace, podName, container := ps[0], ps[1], ps[2]
	pod := h.findPod(r.Context(), namespace, podName)
	if pod == nil {
		writeError(w, http.StatusNotFound, ErrPodNotFound.Error())
		return
	}
	if !hasContainer(pod, container) {
		writeError(w, http.StatusNotFound, (&ContainerNotFoundError{Container: container}).Error())
		return
	}
	var timeout time.Duration
	// With several values the last one counts; the unit is seconds.
	if values := r.URL.Query()["timeout"]; len(values) > 0 {
		seconds, err := strconv.ParseInt(values[len(values)-1], 10, 64)
		if err != nil {
			writeError(w, http.StatusNotFound, "cannot parse value of timeout parameter")
			return
		}
		timeout = secondsToDuration(seconds)
	}
	location, err := h.cfg.Backend.Checkpoint(r.Context(), namespace, podName, container, timeout)
	var missing *ContainerNotFoundError
	switch {
	case errors.Is(err, ErrPodNotFound):
		writeError(w, http.StatusNotFound, ErrPodNotFound.Error())
		return
	case errors.As(err, &missing):
		writeError(w, http.StatusNotFound, missing.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("checkpointing of %s/%s/%s failed (%v)", namespace, podName, container, err))
		return
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Items []string `json:"items"`
	}{[]string{location}})
	writeJSON(w, bytes.TrimSuffix(body.Bytes(), []byte("\n")))
}

// secondsToDuration converts, saturating instead of overflowing.
func secondsToDuration(s int64) time.Duration {
	switch {
	case s > math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case s < math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return time.Duration(s) * time.Second
}

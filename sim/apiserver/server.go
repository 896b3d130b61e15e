package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	aggregatorapiserver "k8s.io/kube-aggregator/pkg/apiserver"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// Defaults of Config.
const (
	// DefaultBindAddress keeps the server on loopback unless asked.
	DefaultBindAddress = "127.0.0.1"
	// readyTimeout bounds how long Start waits for /readyz.
	readyTimeout = 60 * time.Second
	// hooksTimeout bounds how long Stop waits for the post-start hooks
	// of a server whose start was interrupted.
	hooksTimeout = 10 * time.Second
	// requestTimeout is --request-timeout: how long a request that is not
	// long-running may take.
	requestTimeout = 60 * time.Second
)

// SystemNamespaces exist from the start, as in every cluster: kube-apiserver
// creates them (its system namespaces controller).
var SystemNamespaces = []string{
	metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease,
}

// Config says how to start the embedded API server. The zero value is a
// loopback server on a free port in a fresh temporary directory.
type Config struct {
	// Dir holds etcd's data and the PKI. Empty: a temporary directory,
	// removed by Stop.
	Dir string
	// BindAddress is the address to serve on (default 127.0.0.1).
	BindAddress string
	// Port to serve on; 0 picks a free one.
	Port int
	// EventTTL is --event-ttl (default 1h).
	EventTTL time.Duration
	// NotReadyTolerationSeconds and UnreachableTolerationSeconds are
	// --default-not-ready-toleration-seconds and
	// --default-unreachable-toleration-seconds (default 300).
	NotReadyTolerationSeconds, UnreachableTolerationSeconds int64
}

func (c *Config) complete() error {
	if c.BindAddress == "" {
		c.BindAddress = DefaultBindAddress
	}
	if net.ParseIP(c.BindAddress) == nil {
		return &StartError{What: "bind address", Err: fmt.Errorf("%q is not an IP address", c.BindAddress)}
	}
	if c.Port < 0 || c.Port > 65535 {
		return &StartError{What: "port", Err: fmt.Errorf("%d is out of range 0-65535", c.Port)}
	}
	if c.EventTTL == 0 {
		c.EventTTL = DefaultEventTTL
	}
	if c.NotReadyTolerationSeconds == 0 {
		c.NotReadyTolerationSeconds = DefaultNotReadyTolerationSeconds
	}
	if c.UnreachableTolerationSeconds == 0 {
		c.UnreachableTolerationSeconds = DefaultUnreachableTolerationSeconds
	}
	return nil
}

// StartError says which part of the start-up failed (the port, the
// directory, etcd, ...); the command line turns it into exit status 2.
type StartError struct {
	What string
	Err  error
}

func (e *StartError) Error() string { return fmt.Sprintf("start API server: %s: %v", e.What, e.Err) }
func (e *StartError) Unwrap() error { return e.Err }

// Server is a running embedded API server with its etcd.
type Server struct {
	dir       string
	removeDir bool
	// removeSocketDir is a directory of etcd's socket to remove.
	removeSocketDir string
	url             string
	pki             *pki
	adminToken      string
	files           pkiFiles
	etcd            *embed.Etcd
	storage         *inProcessStorage
	// handler is the full handler chain, for in-process clients.
	handler  http.Handler
	cancel   context.CancelFunc
	done     chan struct{}
	runErr   error
	ready    bool // Start returned the server
	stopOnce sync.Once
	stopErr  error

	// authn and authz are the server's own authentication and
	// authorization (its client certificates and tokens; Node,RBAC),
	// which kubelets consult too, as through a TokenReview and a
	// SubjectAccessReview (KubeletAuthenticator, Authorizer).
	authn        authenticator.Request
	authz        authorizer.Authorizer
	kubeletAuthn authenticator.Request
	// cluster is the server's way to kubelets (RouteKubelet).
	cluster *clusterNetwork
}

var _ Backend = &Server{}

// Start starts etcd and kube-apiserver and returns once /readyz answers ok
// and the system namespaces exist.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	s := &Server{done: make(chan struct{}), cluster: &clusterNetwork{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := s.makeDir(cfg.Dir); err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, &StartError{What: "port", Err: err}
	}
	serving := false // from Run on, the server owns the listener
	defer func() {
		if err != nil && !serving {
			listener.Close()
		}
	}()
	host, portString, _ := net.SplitHostPort(listener.Addr().String())
	port, _ := strconv.Atoi(portString)
	s.url = "https://" + net.JoinHostPort(host, portString)

	ips := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	if s.pki, err = newPKI(ips); err != nil {
		return nil, &StartError{What: "certificates", Err: err}
	}
	if s.adminToken, err = newToken(); err != nil {
		return nil, &StartError{What: "token", Err: err}
	}
	if s.files, err = s.pki.write(filepath.Join(s.dir, "pki"), s.adminToken); err != nil {
		return nil, &StartError{What: "certificates", Err: err}
	}
	socketDir, err := s.socketDir()
	if err != nil {
		return nil, &StartError{What: "etcd", Err: err}
	}
	var etcdEndpoint string
	if s.etcd, etcdEndpoint, err = startEtcd(s.dir, socketDir); err != nil {
		return nil, &StartError{What: "etcd", Err: err}
	}
	opts, err := newOptions(ctx, commandLine(cfg, s.files, etcdEndpoint, port), listener)
	if err != nil {
		return nil, &StartError{What: "options", Err: err}
	}
	server, err := s.build(opts)
	if err != nil {
		return nil, &StartError{What: "build", Err: err}
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		return nil, &StartError{What: "build", Err: err}
	}
	s.handler = server.GenericAPIServer.Handler
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	serving = true
	go func() {
		defer close(s.done)
		s.runErr = prepared.Run(runCtx)
	}()
	if err := s.waitReady(ctx); err != nil {
		return nil, &StartError{What: "readiness", Err: err}
	}
	s.ready = true
	return s, nil
}

func (s *Server) makeDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "nodesim-apiserver-")
		if err != nil {
			return &StartError{What: "directory", Err: err}
		}
		s.dir, s.removeDir = d, true
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &StartError{What: "directory", Err: err}
	}
	probe, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return &StartError{What: "directory", Err: fmt.Errorf("%s is not writable: %w", dir, err)}
	}
	probe.Close()
	os.Remove(probe.Name())
	s.dir = dir
	return nil
}

// socketDir is where etcd's socket goes: the server's directory, or, when
// its path is too long for a unix socket, a private temporary directory
// (0700) with a short path, removed by Stop.
func (s *Server) socketDir() (string, error) {
	if len(filepath.Join(s.dir, "etcd.sock")) <= maxSocketPath {
		return s.dir, nil
	}
	base := os.TempDir()
	if len(filepath.Join(base, "nodesim-etcd-0123456789", "etcd.sock")) > maxSocketPath {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "nodesim-etcd-")
	if err != nil {
		return "", err
	}
	s.removeSocketDir = dir
	return dir, nil
}

// build assembles kube-apiserver's server chain (aggregator, the built-in
// API, apiextensions) from the completed options, as kube-apiserver's Run
// does, with nodesim's in-process storage and requests.
func (s *Server) build(opts options.CompletedOptions) (*aggregatorapiserver.APIAggregator, error) {
	config, err := app.NewConfig(opts)
	if err != nil {
		return nil, err
	}
	generic := config.KubeAPIs.ControlPlane.Generic
	s.authn = generic.Authentication.Authenticator
	s.authz = generic.Authorization.Authorizer
	if s.kubeletAuthn, err = s.newKubeletAuthenticator(); err != nil {
		return nil, err
	}
	s.routeCluster(config)
	s.storage = newInProcessStorage(s.etcd.Server)
	config.KubeAPIs.ControlPlane.Generic.RESTOptionsGetter = s.storage.wrap(generic.RESTOptionsGetter)
	config.ApiExtensions.GenericConfig.RESTOptionsGetter = s.storage.wrap(config.ApiExtensions.GenericConfig.RESTOptionsGetter)
	config.ApiExtensions.ExtraConfig.CRDRESTOptionsGetter = s.storage.wrap(config.ApiExtensions.ExtraConfig.CRDRESTOptionsGetter)
	config.Aggregator.GenericConfig.RESTOptionsGetter = s.storage.wrap(config.Aggregator.GenericConfig.RESTOptionsGetter)
	for _, c := range []*genericapiserver.Config{generic, &config.ApiExtensions.GenericConfig.Config, &config.Aggregator.GenericConfig.Config} {
		c.EffectiveVersion = newServedVersion(c.EffectiveVersion)
	}
	completed, err := config.Complete()
	if err != nil {
		return nil, err
	}
	return app.CreateServerChain(completed)
}

// waitReady polls /readyz until it answers ok, the server fails, or the
// deadline passes.
func (s *Server) waitReady(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(s.RESTConfig())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			if err = systemNamespacesExist(ctx, client); err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-s.done:
			return fmt.Errorf("server stopped: %v", s.runErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %v", readyTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// RESTConfig is an admin (system:masters) client configuration.
func (s *Server) RESTConfig() *restclient.Config {
	return &restclient.Config{
		Host:            s.url,
		BearerToken:     s.adminToken,
		TLSClientConfig: restclient.TLSClientConfig{CAData: s.pki.CA.CertPEM, ServerName: "localhost"},
		QPS:             -1,
	}
}

// ClientConfigFor is a client configuration authenticated by a client
// certificate for user in groups, e.g. system:node:<name> in system:nodes.
func (s *Server) ClientConfigFor(userName string, groups ...string) (*restclient.Config, error) {
	kp, err := s.pki.signClient(userName, groups)
	if err != nil {
		return nil, fmt.Errorf("client certificate for %s: %w", userName, err)
	}
	return &restclient.Config{
		Host: s.url,
		TLSClientConfig: restclient.TLSClientConfig{
			CAData: s.pki.CA.CertPEM, ServerName: "localhost",
			CertData: kp.CertPEM, KeyData: kp.KeyPEM,
		},
		QPS: -1,
	}, nil
}

// URL is the server's https address.
func (s *Server) URL() string { return s.url }

// Dir is where etcd's data lives.
func (s *Server) Dir() string { return s.dir }

// CAFile is the path of the run's CA certificate (kube-apiserver's
// --client-ca-file).
func (s *Server) CAFile() string { return s.files.ca }

// CACert is the PEM certificate of the run's certificate authority.
func (s *Server) CACert() []byte { return s.pki.CA.CertPEM }

// Stop shuts the API server and etcd down and removes the temporary
// directory, if Start made it. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			if !s.ready {
				// Start was interrupted: kube-apiserver ends the process
				// (klog.Fatal) when a post-start hook fails, as one does
				// when its context ends under it. Let them finish first.
				ctx, cancel := context.WithTimeout(context.Background(), hooksTimeout)
				_ = s.waitReady(ctx)
				cancel()
			}
			s.cancel()
			<-s.done
			if s.runErr != nil && !errors.Is(s.runErr, context.Canceled) {
				s.stopErr = s.runErr
			}
		}
		s.cleanup()
	})
	return s.stopErr
}

func (s *Server) cleanup() {
	if s.storage != nil {
		s.storage.close()
		s.storage = nil
	}
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
	if s.removeDir && s.dir != "" {
		os.RemoveAll(s.dir)
	}
	if s.removeSocketDir != "" {
		os.RemoveAll(s.removeSocketDir)
	}
}

// systemNamespacesExist says whether kube-apiserver's system namespaces
// controller has made every system namespace.
func systemNamespacesExist(ctx context.Context, client kubernetes.Interface) error {
	for _, name := range SystemNamespaces {
		if _, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// ensureNamespaces creates the system namespaces, as kube-apiserver's
// bootstrap controller does.
func ensureNamespaces(ctx context.Context, config *restclient.Config) error {
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	for _, name := range SystemNamespaces {
		if err := createNamespace(ctx, client, name); err != nil {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

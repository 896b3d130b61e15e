package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericfeatures "k8s.io/apiserver/pkg/features"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/nodesim/nodesim/sim/apiserver/openapi"
	"github.com/nodesim/nodesim/sim/apiserver/registry"
)

// Defaults of Config.
const (
	// DefaultBindAddress keeps the server on loopback unless asked.
	DefaultBindAddress = "127.0.0.1"
	// readyTimeout bounds how long Start waits for /readyz.
	readyTimeout = 60 * time.Second
	// requestTimeout is --request-timeout: how long a request that is not
	// long-running may take.
	requestTimeout = 60 * time.Second
)

// SystemNamespaces exist from the start, as in every cluster.
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
	// Authorizer decides for users outside system:masters; nil allows
	// every authenticated user.
	Authorizer authorizer.Authorizer
	// EventTTL is --event-ttl (default 1h).
	EventTTL time.Duration
	// NotReadyTolerationSeconds and UnreachableTolerationSeconds are the
	// DefaultTolerationSeconds admission settings (default 300).
	NotReadyTolerationSeconds, UnreachableTolerationSeconds int64
	// Clock dates the AGE column kubectl prints (default the real clock).
	Clock clock.PassiveClock
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
		c.EventTTL = registry.DefaultEventTTL
	}
	if c.NotReadyTolerationSeconds == 0 {
		c.NotReadyTolerationSeconds = DefaultNotReadyTolerationSeconds
	}
	if c.UnreachableTolerationSeconds == 0 {
		c.UnreachableTolerationSeconds = DefaultUnreachableTolerationSeconds
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
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
	dir        string
	removeDir  bool
	url        string
	pki        *pki
	adminToken string
	etcd       *embed.Etcd
	etcdURL    string
	storage    *inProcessStorage
	// handler is the full handler chain, for in-process clients.
	handler  http.Handler
	cancel   context.CancelFunc
	done     chan struct{}
	runErr   error
	stopOnce sync.Once
	stopErr  error

	// authn and authz are the server's own authentication and
	// authorization, which kubelets consult too (KubeletAuthenticator,
	// Authorizer).
	authn authenticator.Request
	authz authorizer.Authorizer
}

var _ Backend = &Server{}

// Start starts etcd and the API server and returns once /readyz answers ok
// and the system namespaces exist.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	s := &Server{done: make(chan struct{})}
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
	serving := false // from RunWithContext on, the server owns the listener
	defer func() {
		if err != nil && !serving {
			listener.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(listener.Addr().String())
	s.url = "https://" + net.JoinHostPort(host, port)

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
	if s.etcd, s.etcdURL, err = startEtcd(s.dir); err != nil {
		return nil, &StartError{What: "etcd", Err: err}
	}
	server, err := s.build(cfg, listener, s.etcdURL)
	if err != nil {
		return nil, &StartError{What: "build", Err: err}
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	prepared := server.PrepareRun()
	s.handler = server.Handler
	serving = true
	go func() {
		defer close(s.done)
		s.runErr = prepared.RunWithContext(runCtx)
	}()
	if err := s.waitReady(ctx); err != nil {
		return nil, &StartError{What: "readiness", Err: err}
	}
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

// build assembles the generic API server: authentication, authorization,
// admission, OpenAPI, storage and the served resources.
func (s *Server) build(cfg Config, listener net.Listener, etcdURL string) (*genericapiserver.GenericAPIServer, error) {
	if err := disableMemoryHungryFeatures(); err != nil {
		return nil, err
	}
	scheme, codecs, err := newScheme()
	if err != nil {
		return nil, err
	}
	c := genericapiserver.NewRecommendedConfig(codecs)
	c.EffectiveVersion = newServedVersion()

	serving, err := dynamiccertificates.NewStaticCertKeyContent("serving-cert", s.pki.Serving.CertPEM, s.pki.Serving.KeyPEM)
	if err != nil {
		return nil, err
	}
	clientCA, err := dynamiccertificates.NewStaticCAContent("client-ca", s.pki.CA.CertPEM)
	if err != nil {
		return nil, err
	}
	c.SecureServing = &genericapiserver.SecureServingInfo{Listener: listener, Cert: serving, ClientCA: clientCA}
	loopbackToken, err := newToken()
	if err != nil {
		return nil, err
	}
	if c.LoopbackClientConfig, err = c.SecureServing.NewLoopbackClientConfig(loopbackToken, s.pki.CA.CertPEM); err != nil {
		return nil, err
	}
	s.authn = newAuthenticator(clientCA, map[string]*user.DefaultInfo{
		s.adminToken: {Name: AdminUser, Groups: []string{user.SystemPrivilegedGroup}},
	})
	c.Authentication.Authenticator = s.authn
	c.Authorization.Authorizer, c.RuleResolver = newAuthorizer(cfg.Authorizer)
	s.authz = c.Authorization.Authorizer
	kubelets, err := s.kubeletConnection()
	if err != nil {
		return nil, err
	}

	// The simulator's own clients are many; in-flight limits would only
	// queue the heartbeats they are meant to measure.
	c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight = 0, 0
	c.FlowControl = nil
	c.RequestTimeout = requestTimeout
	c.LongRunningFunc = longRunning()

	namer := openapinamer.NewDefinitionNamer(scheme)
	c.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIConfig.Info.Title = "nodesim"
	c.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIV3Config.Info.Title = "nodesim"

	if err := s.applyStorage(&c.Config, scheme, codecs, etcdURL); err != nil {
		return nil, err
	}

	loopback, err := kubernetes.NewForConfig(c.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	c.SharedInformerFactory = informers.NewSharedInformerFactory(loopback, 0)
	namespaces, err := lifecycle.NewLifecycle(sets.New(metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic))
	if err != nil {
		return nil, err
	}
	namespaces.SetExternalKubeClientSet(loopback)
	namespaces.SetExternalKubeInformerFactory(c.SharedInformerFactory)
	if err := namespaces.ValidateInitialization(); err != nil {
		return nil, err
	}
	c.AdmissionControl = admission.NewChainHandler(
		namespaces,
		newTaintNodesByCondition(),
		newDefaultTolerationSeconds(cfg.NotReadyTolerationSeconds, cfg.UnreachableTolerationSeconds),
	)

	server, err := c.Complete().New("nodesim-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	if err := installAPIs(server, scheme, codecs, registry.Options{
		RESTOptions: c.RESTOptionsGetter, Scheme: scheme, Clock: cfg.Clock,
	}, cfg.EventTTL, kubelets); err != nil {
		return nil, err
	}
	server.AddPostStartHookOrDie("nodesim-system-namespaces", func(hc genericapiserver.PostStartHookContext) error {
		return ensureNamespaces(hc, hc.LoopbackClientConfig)
	})
	return server, nil
}

// applyStorage stores every resource in etcd as protobuf, behind the watch
// cache, as kube-apiserver does.
func (s *Server) applyStorage(c *genericapiserver.Config, scheme *runtime.Scheme, codecs serializer.CodecFactory, etcdURL string) error {
	backend := storagebackend.NewDefaultConfig("/registry", nil)
	backend.Transport.ServerList = []string{etcdURL}
	etcdOptions := genericoptions.NewEtcdOptions(backend)
	etcdOptions.DefaultStorageMediaType = runtime.ContentTypeProtobuf
	etcdOptions.EnableGarbageCollection = false
	// The in-process stores run their own compactor (inProcessStorage).
	etcdOptions.StorageConfig.CompactionInterval = 0

	resources := serverstorage.NewResourceConfig()
	resources.EnableVersions(corev1.SchemeGroupVersion, coordinationv1.SchemeGroupVersion, policyv1.SchemeGroupVersion)
	factory := serverstorage.NewDefaultStorageFactory(
		etcdOptions.StorageConfig, etcdOptions.DefaultStorageMediaType, codecs,
		serverstorage.NewDefaultResourceEncodingConfigForEffectiveVersion(scheme, c.EffectiveVersion),
		resources, nil)
	if err := etcdOptions.ApplyWithStorageFactoryTo(factory, c); err != nil {
		return err
	}
	s.storage = newInProcessStorage(c.RESTOptionsGetter, s.etcd.Server)
	c.RESTOptionsGetter = s.storage
	return nil
}

// disableMemoryHungryFeatures turns off ListFromCacheSnapshot (beta, on by
// default since 1.34): the watch cache keeps a copy-on-write snapshot of
// its store for every resourceVersion of the last 75 s to serve consistent
// lists, which under a simulated fleet's heartbeats is the largest single
// use of memory (a fifth of the live heap at 10,000 nodes) and of copying.
// The simulator's clients never list at an old resourceVersion, so nothing
// they see changes; lists are served from etcd or the cache's current
// state as before 1.34. The gate is process-wide, as in kube-apiserver.
func disableMemoryHungryFeatures() error {
	return utilfeature.DefaultMutableFeatureGate.SetFromMap(map[string]bool{string(genericfeatures.ListFromCacheSnapshot): false})
}

// installAPIs serves core/v1 and coordination.k8s.io/v1.
func installAPIs(server *genericapiserver.GenericAPIServer, scheme *runtime.Scheme, codecs serializer.CodecFactory, o registry.Options, eventTTL time.Duration, kubelets registry.KubeletConnection) error {
	nodes, err := registry.NewNodeStorage(o)
	if err != nil {
		return err
	}
	pods, err := registry.NewPodStorage(o)
	if err != nil {
		return err
	}
	namespaces, err := registry.NewNamespaceStorage(o)
	if err != nil {
		return err
	}
	events, err := registry.NewEventStorage(o, eventTTL)
	if err != nil {
		return err
	}
	leases, err := registry.NewLeaseStorage(o)
	if err != nil {
		return err
	}
	if err := registry.AddConnectConversions(scheme); err != nil {
		return err
	}
	nodeProxy, err := registry.NewNodeProxyREST(nodes.Node, kubelets)
	if err != nil {
		return err
	}
	podLog, err := registry.NewPodLogREST(pods.Pod, nodes.Node, kubelets)
	if err != nil {
		return err
	}
	parameterCodec := runtime.NewParameterCodec(scheme)

	core := genericapiserver.NewDefaultAPIGroupInfo(corev1.GroupName, scheme, parameterCodec, codecs)
	core.VersionedResourcesStorageMap[corev1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"nodes":             nodes.Node,
		"nodes/status":      nodes.Status,
		"nodes/proxy":       nodeProxy,
		"pods":              pods.Pod,
		"pods/status":       pods.Status,
		"pods/binding":      pods.Binding,
		"pods/eviction":     pods.Eviction,
		"pods/log":          podLog,
		"namespaces":        namespaces.Namespace,
		"namespaces/status": namespaces.Status,
		"events":            events,
	}
	if err := server.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &core); err != nil {
		return fmt.Errorf("install core/v1: %w", err)
	}
	coordination := genericapiserver.NewDefaultAPIGroupInfo(coordinationv1.GroupName, scheme, parameterCodec, codecs)
	coordination.VersionedResourcesStorageMap[coordinationv1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"leases": leases,
	}
	if err := server.InstallAPIGroup(&coordination); err != nil {
		return fmt.Errorf("install coordination.k8s.io/v1: %w", err)
	}
	return nil
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
			return nil
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

// CACert is the PEM certificate of the run's certificate authority.
func (s *Server) CACert() []byte { return s.pki.CA.CertPEM }

// Stop shuts the API server and etcd down and removes the temporary
// directory, if Start made it. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
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

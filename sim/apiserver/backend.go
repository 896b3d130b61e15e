package apiserver

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Backend is what the simulator needs of a Kubernetes API server: a client
// configuration, a kubeconfig a person can use, and a way to stop. The
// embedded Server is one; External stands for a cluster given by kubeconfig.
type Backend interface {
	// RESTConfig is a client configuration with full rights.
	RESTConfig() *restclient.Config
	// InProcessConfig is a client configuration for the simulator's own
	// requests, in-process where the server runs in this process; it does
	// not serve watches.
	InProcessConfig() *restclient.Config
	// IdentityConfig is InProcessConfig authenticated as user in groups,
	// where the backend can issue that identity.
	IdentityConfig(user string, groups ...string) (*restclient.Config, error)
	// NodeConfig is the configuration of a node's kubelet: its identity
	// system:node:<node> where the backend can issue it.
	NodeConfig(node string) (*restclient.Config, error)
	// WriteKubeconfig writes a kubeconfig that kubectl uses as is.
	WriteKubeconfig(path string) error
	// Stop releases what the backend holds.
	Stop() error
}

// External is a cluster nodesim did not start, reached through a kubeconfig
// (`--kubeconfig`); it runs in real time.
type External struct {
	path   string
	config *restclient.Config
}

var _ Backend = &External{}

// NewExternal loads a kubeconfig and checks the cluster answers.
func NewExternal(ctx context.Context, kubeconfigPath string) (*External, error) {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
	}
	return newExternal(ctx, kubeconfigPath, "cluster of "+kubeconfigPath, config)
}

// NewInCluster is the cluster nodesim runs in as a pod, reached with its
// ServiceAccount's credentials (client-go's in-cluster configuration).
func NewInCluster(ctx context.Context) (*External, error) {
	config, err := restclient.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster configuration: %w", err)
	}
	return newExternal(ctx, "", "cluster nodesim runs in", config)
}

func newExternal(ctx context.Context, path, what string, config *restclient.Config) (*External, error) {
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		return nil, fmt.Errorf("%s not ready: %w", what, err)
	}
	if err := ensureNamespaces(ctx, config); err != nil {
		return nil, err
	}
	return &External{path: path, config: config}, nil
}

// RESTConfig is the kubeconfig's client configuration.
func (e *External) RESTConfig() *restclient.Config { return restclient.CopyConfig(e.config) }

// InProcessConfig is RESTConfig: the cluster is elsewhere.
func (e *External) InProcessConfig() *restclient.Config { return e.RESTConfig() }

// IdentityConfig is RESTConfig: nodesim cannot issue identities of a
// cluster it did not start; every client acts as the kubeconfig's user.
func (e *External) IdentityConfig(string, ...string) (*restclient.Config, error) {
	return e.RESTConfig(), nil
}

// NodeConfig is RESTConfig, as IdentityConfig.
func (e *External) NodeConfig(string) (*restclient.Config, error) { return e.RESTConfig(), nil }

// WriteKubeconfig copies the kubeconfig nodesim was given.
func (e *External) WriteKubeconfig(path string) error {
	if e.path == "" {
		return fmt.Errorf("in a cluster's pod there is no kubeconfig to copy")
	}
	b, err := os.ReadFile(e.path)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}

// Stop does nothing: the cluster is not nodesim's.
func (e *External) Stop() error { return nil }

// createNamespace creates a namespace unless it exists, retrying while the
// server is still settling (admission waits for its informers). One that
// exists is not created: an identity that may read namespaces but not
// create them (a shard's ServiceAccount on a real cluster) gets by.
func createNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	var last error
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		if _, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
			return nil
		}
		_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-time.After(delay):
		}
	}
}

package apiserver

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"

	"github.com/nodesim/nodesim/sim/kcm"
)

// testServer is shared by the tests of this package: starting etcd and the
// API server takes seconds, and each test works in names of its own.
var testServer *Server

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	klog.LogToStderr(false) // the server's informational logs drown test output
	klog.SetOutput(io.Discard)
	s, err := Start(context.Background(), Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testServer = s
	// The controllers a cluster cannot do without for these tests: the
	// service accounts pods need, namespace deletion.
	cfg, err := s.ControllerManagerConfig([]string{names.ServiceAccountController, names.NamespaceController, names.GarbageCollectorController})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	controllers, err := kcm.Start(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer controllers.Stop()
	if err := serviceAccountMade(s, metav1.NamespaceDefault); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
		return 1
	}
	return code
}

// waitServiceAccount waits for the default service account of namespace,
// which kube-controller-manager's serviceaccount-controller makes and pods
// need.
func waitServiceAccount(t testing.TB, namespace string) {
	t.Helper()
	if err := serviceAccountMade(testServer, namespace); err != nil {
		t.Fatal(err)
	}
}

func serviceAccountMade(s *Server, namespace string) error {
	c, err := kubernetes.NewForConfig(s.RESTConfig())
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("service account %s/default: %w", namespace, err)
	}
	return nil
}

// newClient is a client of the shared server; protobuf when asked.
func newClient(t testing.TB, protobuf bool) kubernetes.Interface {
	t.Helper()
	return clientFor(t, testServer.RESTConfig(), protobuf)
}

// eachTransport runs f as a subtest with a protobuf client over the
// network and one in process, each with a suffix for the names it creates.
func eachTransport(t *testing.T, f func(t *testing.T, c kubernetes.Interface, suffix string)) {
	t.Run("network", func(t *testing.T) { f(t, newClient(t, true), "-net") })
	t.Run("in-process", func(t *testing.T) { f(t, clientFor(t, testServer.InProcessConfig(), true), "-inproc") })
}

func clientFor(t testing.TB, cfg *restclient.Config, protobuf bool) kubernetes.Interface {
	t.Helper()
	if protobuf {
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

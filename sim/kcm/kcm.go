package kcm

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1core "k8s.io/client-go/kubernetes/typed/core/v1"
	restclient "k8s.io/client-go/rest"
	"k8s.io/controller-manager/pkg/clientbuilder"
	controllerhealthz "k8s.io/controller-manager/pkg/healthz"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
)

// Config is what the in-process kube-controller-manager runs with.
type Config struct {
	// Kubeconfig is the path of its kubeconfig (kubeadm's
	// controller-manager.conf: system:kube-controller-manager).
	Kubeconfig string
	// RootCAFile is --root-ca-file, the CA the root-ca-cert-publisher
	// publishes as kube-root-ca.crt.
	RootCAFile string
	// ServiceClusterIPRange is --service-cluster-ip-range.
	ServiceClusterIPRange string
	// Controllers are the names of kube-controller-manager's controllers to
	// run (Selection.KubeControllerManager). Empty: nothing runs.
	Controllers []string
	// Flags are further kube-controller-manager flags, e.g.
	// --node-monitor-grace-period=5s.
	Flags []string
}

// ControllerManager is kube-controller-manager's controllers running in
// this process.
type ControllerManager struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Start runs cfg.Controllers as kube-controller-manager runs them: the same
// options (kubeadm's flags: --use-service-account-credentials, so each
// controller acts as its own service account with its bootstrap role), the
// same controller context, shared informers and start-up. What it leaves
// out is what a process of its own needs and one inside nodesim must not
// have: a serving port, leader election (there is one), and /configz
// (process-wide, so only one could register). It returns once the
// controllers are started.
func Start(ctx context.Context, cfg Config) (*ControllerManager, error) {
	if len(cfg.Controllers) == 0 {
		return &ControllerManager{done: closed()}, nil
	}
	args := []string{
		"--kubeconfig=" + cfg.Kubeconfig,
		"--controllers=" + strings.Join(cfg.Controllers, ","),
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--root-ca-file=" + cfg.RootCAFile,
		"--service-cluster-ip-range=" + cfg.ServiceClusterIPRange,
		"--secure-port=0",
	}
	s, err := ParseFlags(append(args, cfg.Flags...))
	if err != nil {
		return nil, err
	}
	if err := s.ComponentGlobalsRegistry.Set(); err != nil {
		return nil, err
	}
	config, err := s.Config(ctx, app.KnownControllers(), app.ControllersDisabledByDefault(), app.ControllerAliases())
	if err != nil {
		return nil, fmt.Errorf("kube-controller-manager: %w", err)
	}
	c := config.Complete()

	runCtx, cancel := context.WithCancel(context.Background())
	m := &ControllerManager{cancel: cancel, done: make(chan struct{})}
	c.EventBroadcaster.StartRecordingToSink(&v1core.EventSinkImpl{Interface: c.Client.CoreV1().Events("")})
	rootClients := clientbuilder.SimpleControllerClientBuilder{ClientConfig: c.Kubeconfig}
	clients := clientbuilder.NewDynamicClientBuilder(restclient.AnonymousClientConfig(c.Kubeconfig), c.Client.CoreV1(), metav1.NamespaceSystem)
	controllerContext, err := app.CreateControllerContext(runCtx, c, rootClients, clients)
	if err != nil {
		cancel()
		c.EventBroadcaster.Shutdown()
		return nil, fmt.Errorf("kube-controller-manager: %w", err)
	}
	controllers, err := app.BuildControllers(runCtx, controllerContext, app.NewControllerDescriptors(), nil, controllerhealthz.NewMutableHealthzHandler())
	if err != nil {
		cancel()
		c.EventBroadcaster.Shutdown()
		return nil, fmt.Errorf("kube-controller-manager: %w", err)
	}
	controllerContext.InformerFactory.Start(runCtx.Done())
	controllerContext.ObjectOrMetadataInformerFactory.Start(runCtx.Done())
	close(controllerContext.InformersStarted)
	go func() {
		defer close(m.done)
		defer c.EventBroadcaster.Shutdown()
		defer controllerContext.InformerFactory.Shutdown()
		app.RunControllers(runCtx, controllerContext, controllers, app.ControllerStartJitter, c.ControllerShutdownTimeout)
	}()
	return m, nil
}

// ParseFlags parses args as kube-controller-manager parses its command
// line, into its options.
func ParseFlags(args []string) (*options.KubeControllerManagerOptions, error) {
	s, err := options.NewKubeControllerManagerOptions()
	if err != nil {
		return nil, err
	}
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	named := s.Flags(app.KnownControllers(), app.ControllersDisabledByDefault(), app.ControllerAliases())
	for _, f := range named.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("kube-controller-manager flags: %w", err)
	}
	s.ParsedFlags = &named
	return s, nil
}

// Stop stops the controllers and waits for them.
func (m *ControllerManager) Stop() {
	m.once.Do(func() {
		if m.cancel != nil {
			m.cancel()
		}
		<-m.done
	})
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

package apiserver

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
// are kube-apiserver's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds.
const (
	DefaultNotReadyTolerationSeconds    int64 = 300
	DefaultUnreachableTolerationSeconds int64 = 300
)

// DefaultEventTTL is kube-apiserver's --event-ttl.
const DefaultEventTTL = time.Hour

// ServiceClusterIPRange is --service-cluster-ip-range as kubeadm sets it.
const ServiceClusterIPRange = "10.96.0.0/12"

// serviceAccountIssuer is --service-account-issuer as kubeadm sets it.
const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// commandLine is the kube-apiserver command line nodesim runs, as kubeadm
// writes it for a control-plane node (its static Pod manifest), with the
// paths of this run's PKI, its etcd socket and its settings. Everything
// not named here is kube-apiserver's default: the default-enabled
// admission plugins (NodeRestriction added, as kubeadm does), the watch
// cache, API priority and fairness, every API group and version enabled
// by default.
func commandLine(cfg Config, files pkiFiles, etcdEndpoint string, port int) []string {
	return []string{
		"--advertise-address=" + cfg.BindAddress,
		"--bind-address=" + cfg.BindAddress,
		"--secure-port=" + strconv.Itoa(port),
		"--allow-privileged=true",
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--client-ca-file=" + files.ca,
		"--token-auth-file=" + files.tokens,
		"--tls-cert-file=" + files.servingCert,
		"--tls-private-key-file=" + files.servingKey,
		"--kubelet-client-certificate=" + files.kubeletClientCert,
		"--kubelet-client-key=" + files.kubeletClientKey,
		"--kubelet-certificate-authority=" + files.ca,
		// Virtual nodes' Hostname addresses name no host; their
		// InternalIPs are where their kubelets listen.
		"--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP",
		"--etcd-servers=" + etcdEndpoint,
		"--service-account-issuer=" + serviceAccountIssuer,
		"--service-account-key-file=" + files.serviceAccountKey,
		"--service-account-signing-key-file=" + files.serviceAccountKey,
		"--service-cluster-ip-range=" + ServiceClusterIPRange,
		// The kubernetes Service's endpoints would be the bind address,
		// and Endpoints may not name a loopback address.
		"--endpoint-reconciler-type=none",
		"--event-ttl=" + cfg.EventTTL.String(),
		"--default-not-ready-toleration-seconds=" + strconv.FormatInt(cfg.NotReadyTolerationSeconds, 10),
		"--default-unreachable-toleration-seconds=" + strconv.FormatInt(cfg.UnreachableTolerationSeconds, 10),
		"--cert-dir=" + filepath.Dir(files.ca),
		// A stop waits 2 s, not the 60 s request timeout, for the
		// connections of watches still open (kubectl get -w, a user's
		// informers) before it closes them: the process is the whole
		// cluster, and Ctrl-C ends it. Requests in flight finish first;
		// the clients see what a restarting API server shows them.
		"--shutdown-send-retry-after=true",
	}
}

// newOptions parses args as kube-apiserver parses its command line and
// completes and validates the options, with listener as its secure port.
// Each server gets a registry of component versions and feature gates of
// its own (a copy of the process's gates), as kube-apiserver's test
// server does, so that servers started one after another in a process
// don't share state through it.
func newOptions(ctx context.Context, args []string, listener net.Listener) (options.CompletedOptions, error) {
	featureGate := utilfeature.DefaultMutableFeatureGate.DeepCopy()
	effectiveVersion := compatibility.DefaultBuildEffectiveVersion()
	registry := basecompatibility.NewComponentGlobalsRegistry()
	if err := registry.Register(basecompatibility.DefaultKubeComponent, effectiveVersion, featureGate); err != nil {
		return options.CompletedOptions{}, err
	}
	s := options.NewServerRunOptions()
	s.GenericServerRunOptions.ComponentGlobalsRegistry = registry
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return options.CompletedOptions{}, fmt.Errorf("kube-apiserver flags %s: %w", strings.Join(args, " "), err)
	}
	if err := registry.Set(); err != nil {
		return options.CompletedOptions{}, err
	}
	s.SecureServing.Listener = listener
	completed, err := s.Complete(ctx)
	if err != nil {
		return options.CompletedOptions{}, err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return options.CompletedOptions{}, utilerrors.NewAggregate(errs)
	}
	return completed, nil
}

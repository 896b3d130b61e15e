package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/nodesim/nodesim/sim/apiserver/registry"
)

// KubeletClientUser is the API server's identity towards kubelets, in
// system:masters, as kubeadm issues apiserver-kubelet-client.crt.
const KubeletClientUser = "kube-apiserver-kubelet-client"

// Limits of the API server's connections to kubelets: a proxied request is
// rare next to heartbeats, so few idle connections are kept, and not for
// long, however many nodes there are.
const (
	kubeletDialTimeout     = 30 * time.Second
	kubeletMaxIdleConns    = 100
	kubeletIdleConnTimeout = 90 * time.Second
)

// KubeletServingCert signs a kubelet serving certificate for node with the
// run's CA: common name system:node:<node> in system:nodes (what the
// kubelet's serving CSR asks for), valid for ips and the node's name.
func (s *Server) KubeletServingCert(node string, ips []net.IP) (tls.Certificate, error) {
	if node == "" {
		return tls.Certificate{}, fmt.Errorf("kubelet serving certificate: node name is required")
	}
	kp, err := newCert(&s.pki.CA, x509.Certificate{
		Subject:     pkix.Name{CommonName: "system:node:" + node, Organization: []string{NodesGroup}},
		DNSNames:    []string{node},
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet serving certificate for %s: %w", node, err)
	}
	return kp.tlsCertificate(), nil
}

// KubeletAuthenticator is what a kubelet of this cluster authenticates its
// API's callers with: client certificates signed by the run's CA
// (authentication.x509.clientCAFile) and the API server's bearer tokens
// (what a TokenReview, authentication.webhook, would accept). Everyone it
// accepts is in system:authenticated; anonymous requests are refused.
func (s *Server) KubeletAuthenticator() authenticator.Request { return s.authn }

// Authorizer is the API server's own authorizer, the one a
// SubjectAccessReview from a kubelet in Webhook mode would consult:
// system:masters may do anything, everyone else is asked of
// Config.Authorizer.
func (s *Server) Authorizer() authorizer.Authorizer { return s.authz }

// KubeletClientCert is the API server's client certificate towards
// kubelets (KubeletClientUser in system:masters).
func (s *Server) KubeletClientCert() tls.Certificate { return s.pki.KubeletClient.tlsCertificate() }

// kubeletConnection is how nodes/proxy and pods/log reach kubelets: HTTPS
// with the kubelet client certificate, the kubelets' serving certificates
// verified against the run's CA (--kubelet-certificate-authority).
func (s *Server) kubeletConnection() (registry.KubeletConnection, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.pki.CA.CertPEM) {
		return registry.KubeletConnection{}, fmt.Errorf("kubelet client: the CA certificate does not parse")
	}
	newTransport := func(certs []tls.Certificate) *http.Transport {
		return &http.Transport{
			Proxy:               nil, // kubelets are never behind an HTTP proxy here
			DialContext:         (&net.Dialer{Timeout: kubeletDialTimeout}).DialContext,
			TLSClientConfig:     &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        kubeletMaxIdleConns,
			IdleConnTimeout:     kubeletIdleConnTimeout,
		}
	}
	return registry.KubeletConnection{
		Transport:      newTransport([]tls.Certificate{s.pki.KubeletClient.tlsCertificate()}),
		ProxyTransport: newTransport(nil),
	}, nil
}

// tlsCertificate is the key pair as crypto/tls wants it.
func (kp keyPair) tlsCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key, Leaf: kp.cert}
}

package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/egressselector"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// KubeletClientUser is the API server's identity towards kubelets, in
// system:masters, as kubeadm issues apiserver-kubelet-client.crt.
const KubeletClientUser = "kube-apiserver-kubelet-client"

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
// API's callers with, as kubeadm configures it: client certificates signed
// by the run's CA (authentication.x509.clientCAFile), bearer tokens as a
// TokenReview (authentication.webhook) would judge them, that is by the API
// server's own authentication, and no anonymous requests
// (authentication.anonymous.enabled false). Everyone it accepts is in
// system:authenticated.
func (s *Server) KubeletAuthenticator() authenticator.Request { return s.kubeletAuthn }

// newKubeletAuthenticator builds KubeletAuthenticator.
func (s *Server) newKubeletAuthenticator() (authenticator.Request, error) {
	ca, err := dynamiccertificates.NewStaticCAContent("client-ca", s.pki.CA.CertPEM)
	if err != nil {
		return nil, err
	}
	certs := x509request.NewDynamic(ca.VerifyOptions, x509request.CommonNameUserConversion)
	tokenReview := authenticator.TokenFunc(func(ctx context.Context, token string) (*authenticator.Response, bool, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, nil)
		if err != nil {
			return nil, false, err
		}
		r.Header.Set("Authorization", "Bearer "+token)
		resp, ok, err := s.authn.AuthenticateRequest(r)
		if err != nil || !ok || resp.User.GetName() == user.Anonymous {
			return nil, false, err
		}
		return resp, true, nil
	})
	return group.NewAuthenticatedGroupAdder(union.New(certs, bearertoken.New(tokenReview))), nil
}

// Authorizer is the API server's own authorizer (Node,RBAC, with
// system:masters allowed everything), the one a SubjectAccessReview from
// a kubelet in Webhook mode consults.
func (s *Server) Authorizer() authorizer.Authorizer { return s.authz }

// KubeletClientCert is the API server's client certificate towards
// kubelets (KubeletClientUser in system:masters).
func (s *Server) KubeletClientCert() tls.Certificate { return s.pki.KubeletClient.tlsCertificate() }

// tlsCertificate is the key pair as crypto/tls wants it.
func (kp keyPair) tlsCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key, Leaf: kp.cert}
}

// RouteKubelet tells the server that the kubelet of a node whose status
// says it is at nodeAddr (host:port) listens at listenAddr. Virtual nodes
// report addresses of a node network (kube-apiserver refuses to proxy to
// loopback addresses, as it must for real nodes), while their kubelet
// APIs listen on loopback: the server reaches them as it reaches nodes
// through a konnectivity tunnel, its egress selector's dialer for the
// cluster network (--egress-selector-config-file) mapping one to the
// other. Addresses without a route are dialled as they are.
func (s *Server) RouteKubelet(nodeAddr, listenAddr string) {
	s.cluster.routes.Store(nodeAddr, listenAddr)
}

// UnrouteKubelet forgets a route RouteKubelet made.
func (s *Server) UnrouteKubelet(nodeAddr string) { s.cluster.routes.Delete(nodeAddr) }

// clusterNetwork is the egress to the cluster network: kubelets
// (nodes/proxy, pods/log, exec) and pods and services (proxy). It is a
// value of its own, not the Server's: client-go keeps the kubelet client's
// transport, its dialer with it, in a process-wide cache for good (and its
// certificate reloader running), so a dialer that held the Server kept all
// of a stopped server alive, 61 MiB of heap each.
type clusterNetwork struct {
	// routes maps node addresses to their kubelets' listeners.
	routes sync.Map
}

func (n *clusterNetwork) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if to, ok := n.routes.Load(addr); ok {
		addr = to.(string)
	}
	return (&net.Dialer{Timeout: kubeletDialTimeout}).DialContext(ctx, network, addr)
}

// kubeletDialTimeout is how long a connection to a kubelet may take to
// open (kube-apiserver's proxy dialer's).
const kubeletDialTimeout = 30 * time.Second

// routeCluster makes the server dial the cluster network through
// s.cluster.
func (s *Server) routeCluster(config *app.Config) {
	dial := s.cluster.dial
	config.KubeAPIs.Extra.KubeletClientConfig.Lookup = func(egressselector.NetworkContext) (utilnet.DialFunc, error) {
		return dial, nil
	}
	proxy := config.KubeAPIs.ControlPlane.Extra.ProxyTransport.Clone()
	proxy.DialContext = dial
	config.KubeAPIs.ControlPlane.Extra.ProxyTransport = proxy
}

package apiserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"
)

// certValidity is how long the generated certificates last: a run's PKI is
// thrown away with the run, a year is plenty for `serve`.
const certValidity = 365 * 24 * time.Hour

// keyPair is a PEM certificate and its PEM private key.
type keyPair struct {
	CertPEM []byte
	KeyPEM  []byte
	cert    *x509.Certificate
	key     crypto.Signer
}

// pki is the run's certificate authority and the certificates it signed.
type pki struct {
	CA      keyPair
	Serving keyPair // the API server's, for the names in serverNames
	Admin   keyPair // a system:masters client, written into the kubeconfig
	// KubeletClient is the API server's identity towards kubelets
	// (--kubelet-client-certificate), for nodes/proxy and pods/log.
	KubeletClient keyPair
}

// serverNames are the DNS names the serving certificate is valid for; the
// kubeconfig names the server by IP and sets TLS server name "localhost";
// the server's own loopback client asks for "apiserver-loopback-client".
var serverNames = []string{"localhost", "nodesim", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "apiserver-loopback-client"}

// newPKI makes a fresh CA and signs a serving certificate for ips and the
// names above, and an admin client certificate.
func newPKI(ips []net.IP) (*pki, error) {
	ca, err := newCert(nil, x509.Certificate{
		Subject:               pkix.Name{CommonName: "nodesim-ca"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	})
	if err != nil {
		return nil, fmt.Errorf("certificate authority: %w", err)
	}
	serving, err := newCert(&ca, x509.Certificate{
		Subject:     pkix.Name{CommonName: "nodesim-apiserver"},
		DNSNames:    serverNames,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	admin, err := newCert(&ca, x509.Certificate{
		Subject:     pkix.Name{CommonName: AdminUser, Organization: []string{"system:masters"}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("admin client certificate: %w", err)
	}
	kubeletClient, err := newCert(&ca, x509.Certificate{
		Subject:     pkix.Name{CommonName: KubeletClientUser, Organization: []string{"system:masters"}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	return &pki{CA: ca, Serving: serving, Admin: admin, KubeletClient: kubeletClient}, nil
}

// signClient signs a client certificate for a user in groups, for identities
// such as system:node:<name> that virtual kubelets and tests present.
func (p *pki) signClient(user string, groups []string) (keyPair, error) {
	return newCert(&p.CA, x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// newCert creates an ECDSA P-256 key and a certificate from template, signed
// by parent (self-signed when parent is nil).
func newCert(parent *keyPair, template x509.Certificate) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return keyPair{}, err
	}
	now := time.Now()
	template.SerialNumber = serial
	template.NotBefore = now.Add(-time.Minute)
	template.NotAfter = now.Add(certValidity)
	signerCert, signerKey := &template, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, signerCert, key.Public(), signerKey)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		cert:    cert,
		key:     key,
	}, nil
}

// newToken returns a random bearer token.
func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// pkiFiles are the paths of the files kube-apiserver reads its PKI and
// credentials from (its --client-ca-file, --tls-cert-file, ... flags).
type pkiFiles struct {
	ca, servingCert, servingKey         string
	kubeletClientCert, kubeletClientKey string
	serviceAccountKey, tokens           string
}

// write puts the PKI, a service account signing key and the static token
// file (adminToken for AdminUser in system:masters) into dir, as kubeadm
// lays out /etc/kubernetes/pki: the directory 0700, every file 0600.
func (p *pki) write(dir, adminToken string) (pkiFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return pkiFiles{}, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pkiFiles{}, err
	}
	saDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return pkiFiles{}, err
	}
	f := pkiFiles{
		ca:                filepath.Join(dir, "ca.crt"),
		servingCert:       filepath.Join(dir, "apiserver.crt"),
		servingKey:        filepath.Join(dir, "apiserver.key"),
		kubeletClientCert: filepath.Join(dir, "apiserver-kubelet-client.crt"),
		kubeletClientKey:  filepath.Join(dir, "apiserver-kubelet-client.key"),
		serviceAccountKey: filepath.Join(dir, "sa.key"),
		tokens:            filepath.Join(dir, "tokens.csv"),
	}
	contents := map[string][]byte{
		f.ca:                p.CA.CertPEM,
		f.servingCert:       p.Serving.CertPEM,
		f.servingKey:        p.Serving.KeyPEM,
		f.kubeletClientCert: p.KubeletClient.CertPEM,
		f.kubeletClientKey:  p.KubeletClient.KeyPEM,
		f.serviceAccountKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}),
		f.tokens:            fmt.Appendf(nil, "%s,%s,%s,%q\n", adminToken, AdminUser, AdminUser, user.SystemPrivilegedGroup),
	}
	for path, b := range contents {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return pkiFiles{}, err
		}
	}
	return f, nil
}

package apiserver

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nodesim/nodesim/sim/kcm"
)

// ContextName names the cluster, user and context of the kubeconfig nodesim
// writes.
const ContextName = "nodesim"

// Kubeconfig returns a kubeconfig for the admin user: the CA, the server
// address with TLS server name "localhost" (the serving certificate's name),
// and the admin client certificate.
func (s *Server) Kubeconfig() ([]byte, error) { return s.kubeconfig(s.pki.Admin) }

// KubeconfigFor returns a kubeconfig as Kubeconfig for user in groups, with
// a client certificate of its own, as kubeadm writes controller-manager.conf
// and scheduler.conf.
func (s *Server) KubeconfigFor(user string, groups ...string) ([]byte, error) {
	kp, err := s.pki.signClient(user, groups)
	if err != nil {
		return nil, fmt.Errorf("client certificate for %s: %w", user, err)
	}
	return s.kubeconfig(kp)
}

func (s *Server) kubeconfig(client keyPair) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{
		Server:                   s.url,
		CertificateAuthorityData: s.pki.CA.CertPEM,
		TLSServerName:            "localhost",
	}
	cfg.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: client.CertPEM,
		ClientKeyData:         client.KeyPEM,
	}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName, Namespace: "default"}
	cfg.CurrentContext = ContextName
	return clientcmd.Write(*cfg)
}

// WriteKubeconfig writes Kubeconfig to path, readable by its owner only.
func (s *Server) WriteKubeconfig(path string) error {
	b, err := s.Kubeconfig()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ControllerManagerConfig is the configuration of a kube-controller-manager
// of this cluster that runs controllers, as kubeadm sets one up: its own
// kubeconfig as system:kube-controller-manager (controller-manager.conf,
// written into the server's directory), the run's CA as --root-ca-file.
func (s *Server) ControllerManagerConfig(controllers []string) (kcm.Config, error) {
	kubeconfig, err := s.KubeconfigFor(ControllerManagerUser)
	if err != nil {
		return kcm.Config{}, err
	}
	path := filepath.Join(s.dir, "controller-manager.conf")
	if err := writeFileAtomic(path, kubeconfig, 0o600); err != nil {
		return kcm.Config{}, fmt.Errorf("kube-controller-manager: %w", err)
	}
	return kcm.Config{Kubeconfig: path, RootCAFile: s.files.ca, ServiceClusterIPRange: ServiceClusterIPRange, Controllers: controllers}, nil
}

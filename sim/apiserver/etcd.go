package apiserver

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// etcdStartTimeout bounds how long a single-member etcd may take to elect
// itself and serve.
const etcdStartTimeout = 60 * time.Second

// maxSocketPath is the longest path a unix socket binds to on Linux
// (sun_path is 108 bytes with its terminating NUL).
const maxSocketPath = 107

// startEtcd runs a single-member etcd in dir that listens on no TCP port:
// its only listener is a unix socket, mode 0600 in a 0700 directory, for
// the clients kube-apiserver builds from --etcd-servers (health checks,
// storage of what the in-process client does not serve); the stores reach
// it in process (inProcessStorage). It has no peer listener: a single
// member never talks to a peer. fsync is off: a simulation is hermetic and
// thrown away, so durability buys nothing and costs most of etcd's write
// latency. socketDir is where the socket goes (dir when empty).
func startEtcd(dir, socketDir string) (*embed.Etcd, string, error) {
	if socketDir == "" {
		socketDir = dir
	}
	socket := filepath.Join(socketDir, "etcd.sock")
	if len(socket) > maxSocketPath {
		return nil, "", fmt.Errorf("etcd socket path %s is longer than %d bytes", socket, maxSocketPath)
	}
	os.Remove(socket) // a dead run's
	clientURL := url.URL{Scheme: "unix", Path: socket}
	cfg := embed.NewConfig()
	cfg.Name = "nodesim"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenClientHttpUrls = nil
	cfg.ListenPeerUrls = nil
	// Named in the member list, never dialled: there is no other member.
	cfg.AdvertisePeerUrls = []url.URL{{Scheme: "http", Host: "localhost:2380"}}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	// etcd's own log is noise to a simulator's user; errors reach us
	// through Err() and failed requests.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.QuotaBackendBytes = 8 << 30
	cfg.MaxRequestBytes = 3 << 20

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("start etcd in %s: %w", cfg.Dir, err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		e.Close()
		return nil, "", fmt.Errorf("etcd socket %s: %w", socket, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, "", fmt.Errorf("etcd failed: %w", err)
	case <-time.After(etcdStartTimeout):
		e.Close()
		return nil, "", fmt.Errorf("etcd not ready after %s", etcdStartTimeout)
	}
	return e, clientURL.String(), nil
}

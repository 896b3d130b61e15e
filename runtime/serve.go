package runtime

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// MaxSocketPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes with the terminating NUL).
const MaxSocketPath = 107

// Serve serves the runtime and image services over gRPC on a unix socket
// at socketPath (STATE/<node>/cri.sock), replacing a stale socket file, in
// one goroutine of grpc.Server (plus one per open connection). A path
// longer than MaxSocketPath is an error naming it: choose a shorter state
// dir.
func (r *Runtime) Serve(socketPath string) error {
	if len(socketPath) > MaxSocketPath {
		return fmt.Errorf("runtime %s: serve CRI on %s: the path is %d bytes, longer than the %d a unix socket allows; use a shorter state dir",
			r.cfg.Node, socketPath, len(socketPath), MaxSocketPath)
	}
	r.serveMu.Lock()
	defer r.serveMu.Unlock()
	if r.server != nil {
		return fmt.Errorf("runtime %s: serve CRI on %s: already serving on %s", r.cfg.Node, socketPath, r.listener)
	}
	if err := os.MkdirAll(filepath.Dir(socketPath), 0o755); err != nil {
		return fmt.Errorf("runtime %s: serve CRI: %w", r.cfg.Node, err)
	}
	if fi, err := os.Lstat(socketPath); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("runtime %s: serve CRI on %s: a file that is not a socket is in the way", r.cfg.Node, socketPath)
		}
		if err := os.Remove(socketPath); err != nil {
			return fmt.Errorf("runtime %s: serve CRI: remove stale socket: %w", r.cfg.Node, err)
		}
	}
	lis, err := net.Listen("unix", socketPath)
	if err != nil {
		return fmt.Errorf("runtime %s: serve CRI on %s: %w", r.cfg.Node, socketPath, err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, r)
	runtimeapi.RegisterImageServiceServer(srv, r)
	r.server, r.listener = srv, socketPath
	go func() { _ = srv.Serve(lis) }()
	return nil
}

// Close stops serving (closing open connections) and removes the socket.
// The runtime's state stays usable in process.
func (r *Runtime) Close() error {
	r.serveMu.Lock()
	defer r.serveMu.Unlock()
	if r.server == nil {
		return nil
	}
	r.server.Stop()
	err := os.Remove(r.listener)
	r.server, r.listener = nil, ""
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("runtime %s: remove CRI socket: %w", r.cfg.Node, err)
	}
	return nil
}

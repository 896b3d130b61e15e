package run

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Each node with endpoints holds three descriptors (its kubelet API
// listener, cri.sock, device-plugins/kubelet.sock), more with device
// plugins; the API server, etcd and the watches need some of their own.
const (
	fdsPerNode  = 4
	fdsReserved = 4096
)

// ensureFileLimit makes room for nodes' endpoints: it raises the process's
// open-file limit (soft, and hard where the process may) if it is too low,
// and says plainly when it cannot.
func ensureFileLimit(nodes int) error {
	need := uint64(nodes*fdsPerNode + fdsReserved)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // nothing to learn; the sockets will say if they fail
	}
	if lim.Cur >= need {
		return nil
	}
	raised := lim
	raised.Cur = need
	if raised.Max < need {
		raised.Max = need
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
		return nil
	}
	if lim.Max >= need {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
			return nil
		}
	}
	return &InputError{fmt.Errorf("%d nodes with their kubelet API, CRI and device plugin sockets need about %d open files, but the limit is %d (hard %d): raise it (ulimit -n), or set spec.nodeEndpoints: false",
		nodes, need, lim.Cur, lim.Max)}
}

// maxSocketPath is the longest path a unix socket can be bound at.
const maxSocketPath = 107

// longestSocketSuffix is the longest path of a socket under a node's root
// dir, the device plugins' endpoints included.
const longestSocketSuffix = "/device-plugins/example.com-gpu-0123456789abcdef.sock"

// socketDir is where the nodes' sockets are bound: the state dir itself,
// or, when its path is too long for a unix socket, a short symbolic link
// to it in the temporary folder (the sockets still live in the state dir;
// the link is removed by the returned function).
func socketDir(stateDir string, longestNode int) (string, func(), error) {
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return "", nil, err
	}
	if len(abs)+1+longestNode+len(longestSocketSuffix) <= maxSocketPath {
		return abs, func() {}, nil
	}
	tmp, remove, err := TempDir("sock")
	if err != nil {
		return "", nil, fmt.Errorf("short path for sockets: %w", err)
	}
	link := filepath.Join(tmp, "s")
	if err := os.Symlink(abs, link); err != nil {
		remove()
		return "", nil, fmt.Errorf("short path for sockets: %w", err)
	}
	return link, remove, nil
}

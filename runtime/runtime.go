package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/sim"
)

// Defaults of Config and the numbers of the model.
const (
	// DefaultRuntimeVersion is Config.RuntimeVersion when empty, as a node
	// reports it in status.nodeInfo.containerRuntimeVersion.
	DefaultRuntimeVersion = "containerd://2.1.4"
	// DefaultCheckpointTimeout is the checkpoint timeout when the request
	// gives none (Timeout 0): the kubelet's runtimeRequestTimeout default,
	// which the kubelet's CRI client also applies as the least timeout.
	DefaultCheckpointTimeout = 2 * time.Minute
	// DefaultCheckpointBase and DefaultCheckpointRate make a checkpoint take
	// base + memory working set / rate of virtual time (100 ms + 1 s per GiB).
	DefaultCheckpointBase = 100 * time.Millisecond
	DefaultCheckpointRate = 1 << 30 // bytes per virtual second
	// DefaultPullBase and DefaultPullRate make an image pull take base +
	// image size / rate of virtual time (200 ms + 1 s per 50 MiB).
	DefaultPullBase = 200 * time.Millisecond
	DefaultPullRate = 50 << 20 // bytes per virtual second
	// DefaultMinImageSize and DefaultImageSizeSpread: an image is
	// DefaultMinImageSize + (FNV-1a 64 of its normalized reference modulo
	// DefaultImageSizeSpread) bytes, rounded down to 4 KiB.
	DefaultMinImageSize    = 8 << 20
	DefaultImageSizeSpread = 248 << 20
	// DefaultMemoryRequest is a container's memory request when the
	// MemoryRequestAnnotation is absent or unparsable.
	DefaultMemoryRequest = 64 << 20
	// DefaultMemoryRamp is how long a running container's working set takes
	// to grow linearly from its request to its limit. Without a limit
	// (linux.resources.memory_limit_in_bytes 0) the ceiling is twice the
	// request.
	DefaultMemoryRamp = 10 * time.Minute
	// DefaultTickEvery is how often, in counter steps (virtual seconds of
	// running), a container logs "tick N".
	DefaultTickEvery = 10
	// DefaultCPUNanoCoresPerSecond is the simulated CPU use of a running
	// container: 5 millicores.
	DefaultCPUNanoCoresPerSecond = 5_000_000
)

// MemoryRequestAnnotation on a container config carries the container's
// memory request in bytes, which the CRI does not carry (the kubelet side
// sets it).
const MemoryRequestAnnotation = "nodesim.dev/memory-request"

// Features are the runtime handler features the node's kernel allows.
type Features struct {
	// UserNamespaces: the handler supports pods with hostUsers: false
	// (kernel 6.3+ with idmapped mounts in practice).
	UserNamespaces bool
	// RecursiveReadOnlyMounts: the handler supports recursiveReadOnly
	// mounts (kernel 5.12+).
	RecursiveReadOnlyMounts bool
}

// Config configures one node's runtime.
type Config struct {
	// Node is the virtual node's name; it goes into IDs and archives.
	Node string
	// RootDir is the node's root dir (STATE/<node>, the kubelet's
	// --root-dir): checkpoints are only written under RootDir/checkpoints
	// and container logs whose directory is outside RootDir are re-rooted
	// under RootDir/logs.
	RootDir string
	// RuntimeVersion is "<name>://<version>" as in a node's
	// containerRuntimeVersion (default DefaultRuntimeVersion), for example
	// "cri-o://1.34.1".
	RuntimeVersion string
	// Features are what the runtime handlers report.
	Features Features
	// PodCIDR, if set, is where sandbox IPs are allocated from (the node's
	// spec.podCIDR); without it sandboxes have no IP.
	PodCIDR string
	// Clock gives the time of calls that carry no sim entity. Required.
	Clock clockwork.Clock
	// HostIO runs the runtime's larger file I/O on the host (reading and
	// writing checkpoint archives) with a bound: what, for messages, and
	// the work. nil runs it directly. A run gives sim.BoundedHost, so
	// that a stuck disk fails one checkpoint or restore, never holds the
	// engine (which waits for every node at each window).
	HostIO func(what string, fn func() error) error
}

// Runtime is one virtual node's container runtime. It is safe for
// concurrent use.
type Runtime struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	cfg            Config
	runtimeName    string
	runtimeVersion string
	checkpointsDir string
	podPrefix      netip.Prefix

	mu             sync.Mutex
	seq            uint64
	ipSeq          uint64
	sandboxes      map[string]*sandbox
	containers     map[string]*container
	images         map[string]*image // by ID
	runtimeReady   bool
	networkReady   bool
	checkpointFail error

	serveMu  sync.Mutex
	server   *grpc.Server
	listener string
}

// New returns the runtime of cfg.Node.
func New(cfg Config) (*Runtime, error) {
	if cfg.Node == "" {
		return nil, errors.New("runtime: config: node name is empty")
	}
	if cfg.Clock == nil {
		return nil, fmt.Errorf("runtime %s: config: clock is nil", cfg.Node)
	}
	if cfg.RootDir == "" {
		return nil, fmt.Errorf("runtime %s: config: root dir is empty", cfg.Node)
	}
	root, err := filepath.Abs(cfg.RootDir)
	if err != nil {
		return nil, fmt.Errorf("runtime %s: config: root dir %q: %w", cfg.Node, cfg.RootDir, err)
	}
	cfg.RootDir = root
	if cfg.RuntimeVersion == "" {
		cfg.RuntimeVersion = DefaultRuntimeVersion
	}
	name, version, ok := strings.Cut(cfg.RuntimeVersion, "://")
	if !ok || name == "" || version == "" {
		return nil, fmt.Errorf("runtime %s: config: runtime version %q is not <name>://<version>", cfg.Node, cfg.RuntimeVersion)
	}
	r := &Runtime{
		cfg:            cfg,
		runtimeName:    name,
		runtimeVersion: version,
		checkpointsDir: filepath.Join(root, "checkpoints"),
		sandboxes:      map[string]*sandbox{},
		containers:     map[string]*container{},
		images:         map[string]*image{},
		runtimeReady:   true,
		networkReady:   true,
	}
	if cfg.PodCIDR != "" {
		p, err := netip.ParsePrefix(cfg.PodCIDR)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return nil, fmt.Errorf("runtime %s: config: pod CIDR %q is not an IPv4 prefix of at most /30", cfg.Node, cfg.PodCIDR)
		}
		r.podPrefix = p.Masked()
	}
	return r, nil
}

// host runs fn through Config.HostIO.
func (r *Runtime) host(what string, fn func() error) error {
	if r.cfg.HostIO == nil {
		return fn()
	}
	return r.cfg.HostIO(what, fn)
}

// Node is the name of the runtime's node.
func (r *Runtime) Node() string { return r.cfg.Node }

// CheckpointsDir is RootDir/checkpoints, the only place checkpoints go.
func (r *Runtime) CheckpointsDir() string { return r.checkpointsDir }

// SetRuntimeReady sets the RuntimeReady condition Status reports (the
// runtimeDown fault sets it false).
func (r *Runtime) SetRuntimeReady(ready bool) {
	r.mu.Lock()
	r.runtimeReady = ready
	r.mu.Unlock()
}

// SetNetworkReady sets the NetworkReady condition Status reports (the
// networkDown fault sets it false).
func (r *Runtime) SetNetworkReady(ready bool) {
	r.mu.Lock()
	r.networkReady = ready
	r.mu.Unlock()
}

// SetCheckpointFailure makes every checkpoint fail with err while writing
// the archive (codes.Internal); nil makes them succeed again.
func (r *Runtime) SetCheckpointFailure(err error) {
	r.mu.Lock()
	r.checkpointFail = err
	r.mu.Unlock()
}

// clock is the virtual time of a call and, if the caller may wait, the
// entity to wait on.
type clock struct {
	now time.Time
	en  *sim.Entity
}

// sleep waits d of virtual time if the caller is an entity's process.
func (c clock) sleep(d time.Duration) {
	if c.en != nil && d > 0 {
		c.en.Sleep(d)
	}
}

// clockOf reads the time of a call: the entity's when the context carries
// one (its timers too), else the configured clock.
func (r *Runtime) clockOf(ctx context.Context) clock {
	if en, ok := sim.EntityFrom(ctx); ok {
		c := clock{now: en.Now()}
		if en.InProcess() {
			c.en = en
		}
		return c
	}
	return clock{now: r.cfg.Clock.Now()}
}

// newID returns a 64-hex-digit ID unique in this runtime, derived from the
// node, a sequence number and what it names, so that runs repeat.
func (r *Runtime) newIDLocked(kind, name string) string {
	r.seq++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d/%s", r.cfg.Node, kind, r.seq, name))
	return hex.EncodeToString(sum[:])
}

// Version reports the runtime's name and version.
func (r *Runtime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{
		Version:           "0.1.0",
		RuntimeName:       r.runtimeName,
		RuntimeVersion:    r.runtimeVersion,
		RuntimeApiVersion: "v1",
	}, nil
}

// Status reports the RuntimeReady and NetworkReady conditions and the
// runtime handlers with their features.
func (r *Runtime) Status(_ context.Context, req *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	r.mu.Lock()
	runtimeReady, networkReady := r.runtimeReady, r.networkReady
	r.mu.Unlock()
	rc := &runtimeapi.RuntimeCondition{Type: runtimeapi.RuntimeReady, Status: true}
	if !runtimeReady {
		// containerd and CRI-O never report this condition false (a dead
		// runtime does not answer); these words are nodesim's.
		rc.Status = false
		rc.Reason = "RuntimeNotReady"
		rc.Message = r.runtimeName + " is not ready"
	}
	nc := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: true}
	if !networkReady {
		// As containerd says while no CNI config is loaded.
		nc.Status = false
		nc.Reason = "NetworkPluginNotReady"
		nc.Message = "Network plugin returns error: cni plugin not initialized"
	}
	resp := &runtimeapi.StatusResponse{
		Status:   &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{rc, nc}},
		Features: &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true},
	}
	// The handlers containerd reports by default: the default one (empty
	// name) and runc.
	for _, h := range []string{"", "runc"} {
		resp.RuntimeHandlers = append(resp.RuntimeHandlers, &runtimeapi.RuntimeHandler{
			Name: h,
			Features: &runtimeapi.RuntimeHandlerFeatures{
				RecursiveReadOnlyMounts: r.cfg.Features.RecursiveReadOnlyMounts,
				UserNamespaces:          r.cfg.Features.UserNamespaces,
			},
		})
	}
	if req.GetVerbose() {
		cfg, _ := json.Marshal(map[string]string{"node": r.cfg.Node, "rootDir": r.cfg.RootDir, "runtime": r.cfg.RuntimeVersion})
		resp.Info = map[string]string{"config": string(cfg)}
	}
	return resp, nil
}

// UpdateRuntimeConfig accepts the pod CIDR the kubelet passes on.
func (r *Runtime) UpdateRuntimeConfig(context.Context, *runtimeapi.UpdateRuntimeConfigRequest) (*runtimeapi.UpdateRuntimeConfigResponse, error) {
	return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
}

// notFound is containerd's error for an unknown ID.
func notFound(kind, id string) error {
	return status.Errorf(codes.NotFound, "an error occurred when try to find %s %q: not found", kind, id)
}

// lookupLocked finds an object by full ID or unique ID prefix, as
// containerd's truncated index does.
func lookupLocked[T any](m map[string]T, kind, id string) (T, error) {
	var zero T
	if id == "" {
		return zero, status.Errorf(codes.InvalidArgument, "%s ID must not be empty", kind)
	}
	if v, ok := m[id]; ok {
		return v, nil
	}
	var found []string
	for full := range m {
		if strings.HasPrefix(full, id) {
			found = append(found, full)
		}
	}
	switch len(found) {
	case 1:
		return m[found[0]], nil
	case 0:
		return zero, notFound(kind, id)
	default:
		return zero, status.Errorf(codes.InvalidArgument, "%s ID %q is ambiguous: it matches %d %ss", kind, id, len(found), kind)
	}
}

// matchLabels says whether labels hold every pair of selector.
func matchLabels(labels, selector map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

package devices

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/nodesim/nodesim/sim"
)

const (
	// KubeletSocketName is the name of the Registration socket in the device
	// plugin directory, as in upstream's pluginapi.KubeletSocket.
	KubeletSocketName = "kubelet.sock"

	// DefaultEndpointStopGracePeriod mirrors upstream's
	// endpointStopGracePeriod: how long the devices of a plugin that went
	// away stay in capacity (unhealthy) before they are removed.
	DefaultEndpointStopGracePeriod = 5 * time.Minute

	// DirPerm is the mode the device plugin directory is created with, as the
	// kubelet's registration server creates it.
	DirPerm = 0o750

	// MaxSocketPathLen is the longest path a unix socket can be bound to on
	// Linux: sun_path holds 108 bytes including the terminating NUL.
	MaxSocketPathLen = 107
)

// ManagerConfig configures the device manager of one virtual node.
type ManagerConfig struct {
	// Dir is the node's device plugin directory, STATE/<node>/device-plugins
	// (upstream pluginapi.DevicePluginPath). Required and absolute; created
	// with DirPerm if missing.
	Dir string
	// Clock gives virtual time to calls whose context carries no sim entity.
	// Required.
	Clock clockwork.Clock
	// EndpointStopGracePeriod is upstream's endpointStopGracePeriod; zero
	// means DefaultEndpointStopGracePeriod.
	EndpointStopGracePeriod time.Duration
	// BoundCall, if set, bounds each call to a plugin (GetPreferredAllocation,
	// Allocate, PreStartContainer): it derives the call's context. A run
	// gives a wall-time deadline, so that a plugin that never answers
	// fails the pod's admission or start, as a failed call does on a
	// kubelet, and does not hold the node's window, which every node
	// waits for. nil: only the caller's context bounds a call.
	BoundCall func(context.Context) (context.Context, context.CancelFunc)
}

// Manager is the device manager of one virtual node: the Registration
// server, one client per registered plugin and the devices' allocation.
// Its methods are safe for concurrent use.
type Manager struct {
	pluginapi.UnimplementedRegistrationServer

	cfg       ManagerConfig
	socket    string
	server    *grpc.Server
	serveDone chan struct{}
	receivers sync.WaitGroup

	// allocMu serializes allocations, across the plugin RPCs they make, so
	// that two allocations never choose the same device.
	allocMu sync.Mutex

	mu         sync.Mutex
	closed     bool
	resources  map[string]*resourceState
	endpoints  map[string]*endpoint // connected endpoints by socket path
	pods       map[string]map[string]map[string]*allocation
	generation uint64
	// notify is closed and replaced whenever the state changes.
	notify chan struct{}
}

// resourceState is what the manager knows of one resource.
type resourceState struct {
	name string
	// known: the resource was reported once, so it stays in Resources (at
	// least at 0) as the kubelet's node status keeps it.
	known bool
	// listed: ids and healthy hold a ListAndWatch response still in force
	// (false before the first one and after removal).
	listed  bool
	ids     []string // in the order the plugin listed them
	healthy map[string]bool
	// eps are the connected endpoints in connection order; endpoint is the
	// one allocations go to (the latest connected, or the last one stopped).
	eps      []*endpoint
	endpoint *endpoint
	// stopped: the last endpoint went away; stopTime is stamped on the
	// caller's clock at the next call (zero until then).
	stopped  bool
	stopTime time.Time
}

// endpoint is one connection to a registered plugin.
type endpoint struct {
	resource string
	socket   string
	conn     *grpc.ClientConn
	client   pluginapi.DevicePluginClient
	opts     *pluginapi.DevicePluginOptions
	cancel   context.CancelFunc
	// last is the last ListAndWatch response applied from this endpoint.
	last []*pluginapi.Device
	gone bool
}

// allocation is the devices of one resource given to one container.
type allocation struct {
	ids  []string
	resp *pluginapi.ContainerAllocateResponse
}

// NewManager creates cfg.Dir, removes stale sockets from it (as the kubelet
// does on start) and serves the Registration service on
// cfg.Dir/kubelet.sock. Close stops it.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("device manager: directory %q must be an absolute path", cfg.Dir)
	}
	if cfg.Clock == nil {
		return nil, errors.New("device manager: a clock is required")
	}
	if cfg.EndpointStopGracePeriod < 0 {
		return nil, fmt.Errorf("device manager: endpointStopGracePeriod %v must not be negative", cfg.EndpointStopGracePeriod)
	}
	if cfg.EndpointStopGracePeriod == 0 {
		cfg.EndpointStopGracePeriod = DefaultEndpointStopGracePeriod
	}
	cfg.Dir = filepath.Clean(cfg.Dir)
	socket := filepath.Join(cfg.Dir, KubeletSocketName)
	if err := checkSocketPath(socket); err != nil {
		return nil, fmt.Errorf("device manager: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, DirPerm); err != nil {
		return nil, fmt.Errorf("device manager: create device plugin directory: %w", err)
	}
	if err := removeSockets(cfg.Dir); err != nil {
		return nil, fmt.Errorf("device manager: clean up device plugin directory: %w", err)
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("device manager: listen on %s: %w", socket, err)
	}
	m := &Manager{
		cfg:       cfg,
		socket:    socket,
		server:    grpc.NewServer(),
		serveDone: make(chan struct{}),
		resources: map[string]*resourceState{},
		endpoints: map[string]*endpoint{},
		pods:      map[string]map[string]map[string]*allocation{},
		notify:    make(chan struct{}),
	}
	pluginapi.RegisterRegistrationServer(m.server, m)
	go func() {
		defer close(m.serveDone)
		_ = m.server.Serve(ln) // returns when Close stops the server
	}()
	return m, nil
}

// SocketPath is the path of the Registration socket.
func (m *Manager) SocketPath() string { return m.socket }

// Dir is the device plugin directory.
func (m *Manager) Dir() string { return m.cfg.Dir }

// Close stops the Registration server and disconnects every plugin. The
// plugins' devices are no longer reported as anything; Close is for the end
// of the node's life.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	var eps []*endpoint
	for _, e := range m.endpoints {
		eps = append(eps, e)
	}
	m.mu.Unlock()
	m.server.Stop()
	<-m.serveDone
	for _, e := range eps {
		e.cancel()
	}
	m.receivers.Wait()
}

// Register is the Registration service: it validates the request as the
// kubelet does, dials the plugin's endpoint, asks for its options and starts
// consuming its ListAndWatch stream. It returns before the first device
// list arrives, as upstream does.
func (m *Manager) Register(ctx context.Context, r *pluginapi.RegisterRequest) (*pluginapi.Empty, error) {
	if !slices.Contains(pluginapi.SupportedVersions[:], r.Version) {
		return &pluginapi.Empty{}, fmt.Errorf("requested API version %q is not supported by kubelet. Supported version is %q", r.Version, pluginapi.SupportedVersions)
	}
	if !IsExtendedResourceName(r.ResourceName) {
		return &pluginapi.Empty{}, fmt.Errorf("the ResourceName %q is invalid", r.ResourceName)
	}
	socket, err := m.endpointPath(r.Endpoint)
	if err != nil {
		return &pluginapi.Empty{}, err
	}
	conn, err := dialUnix(socket)
	if err != nil {
		return &pluginapi.Empty{}, fmt.Errorf("failed to dial device plugin: %w", err)
	}
	client := pluginapi.NewDevicePluginClient(conn)
	opts, err := client.GetDevicePluginOptions(ctx, &pluginapi.Empty{})
	if err != nil {
		_ = conn.Close()
		return &pluginapi.Empty{}, fmt.Errorf("failed to get device plugin options: %w", err)
	}
	streamCtx, cancel := context.WithCancel(context.Background())
	e := &endpoint{resource: r.ResourceName, socket: socket, conn: conn, client: client, opts: opts, cancel: cancel}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel()
		_ = conn.Close()
		return &pluginapi.Empty{}, errors.New("the kubelet's device manager is shutting down")
	}
	if _, ok := m.endpoints[socket]; ok {
		m.mu.Unlock()
		cancel()
		_ = conn.Close()
		return &pluginapi.Empty{}, fmt.Errorf("device plugin already connected: %s", socket)
	}
	m.endpoints[socket] = e
	rs := m.resources[r.ResourceName]
	if rs == nil {
		rs = &resourceState{name: r.ResourceName}
		m.resources[r.ResourceName] = rs
	}
	rs.eps = append(rs.eps, e)
	rs.endpoint = e
	rs.stopped, rs.stopTime = false, time.Time{}
	m.receivers.Add(1)
	m.changedLocked(false)
	m.mu.Unlock()

	go m.receive(streamCtx, e)
	return &pluginapi.Empty{}, nil
}

// endpointPath is the socket path of a registration's endpoint, which must
// name a socket inside the device plugin directory.
func (m *Manager) endpointPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("the device plugin endpoint is empty; it must name a socket in the device plugin directory")
	}
	p := filepath.Join(m.cfg.Dir, name)
	rel, err := filepath.Rel(m.cfg.Dir, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("the device plugin endpoint %q is outside the device plugin directory %s", name, m.cfg.Dir)
	}
	if err := checkSocketPath(p); err != nil {
		return "", err
	}
	return p, nil
}

// receive consumes e's ListAndWatch stream until it ends, then disconnects
// e, as upstream's client.Run and runClient do.
func (m *Manager) receive(ctx context.Context, e *endpoint) {
	defer m.receivers.Done()
	stream, err := e.client.ListAndWatch(ctx, &pluginapi.Empty{})
	if err == nil {
		for {
			resp, err := stream.Recv()
			if err != nil {
				break
			}
			m.apply(e, resp.Devices)
		}
	}
	m.disconnect(e)
	e.cancel()
	_ = e.conn.Close()
}

// apply takes a ListAndWatch response: it replaces the resource's devices,
// as upstream's genericDeviceUpdateCallback does.
func (m *Manager) apply(e *endpoint, devs []*pluginapi.Device) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.gone {
		return
	}
	e.last = cloneDevices(devs)
	rs := m.resources[e.resource]
	ids := make([]string, 0, len(devs))
	healthy := make(map[string]bool, len(devs))
	for _, d := range devs {
		if _, dup := healthy[d.ID]; dup {
			continue
		}
		ids = append(ids, d.ID)
		healthy[d.ID] = d.Health == pluginapi.Healthy
	}
	visible := !rs.listed || !slices.Equal(ids, rs.ids) || !sameHealth(healthy, rs.healthy)
	rs.ids, rs.healthy, rs.listed, rs.known = ids, healthy, true, true
	m.changedLocked(visible)
}

// disconnect forgets e; if it was the resource's last endpoint, the
// resource's devices become unhealthy at once (upstream's
// PluginDisconnected and markResourceUnhealthy).
func (m *Manager) disconnect(e *endpoint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.gone {
		return
	}
	e.gone = true
	delete(m.endpoints, e.socket)
	rs := m.resources[e.resource]
	rs.eps = slices.DeleteFunc(rs.eps, func(x *endpoint) bool { return x == e })
	if len(rs.eps) > 0 {
		rs.endpoint = rs.eps[len(rs.eps)-1]
		m.changedLocked(false)
		return
	}
	rs.stopped, rs.stopTime = true, time.Time{}
	visible := false
	for id, ok := range rs.healthy {
		if ok {
			rs.healthy[id] = false
			visible = true
		}
	}
	if !rs.listed {
		// Upstream creates empty device sets here, so the resource is
		// reported (at 0) from now on.
		visible = visible || !rs.known
		rs.known = true
	}
	m.changedLocked(visible)
}

// changedLocked wakes waiters; visible says whether what Resources returns
// changed, which counts as a new generation.
func (m *Manager) changedLocked(visible bool) {
	if visible {
		m.generation++
	}
	close(m.notify)
	m.notify = make(chan struct{})
}

// now is the caller's virtual time: its entity's, else the configured
// clock's.
func (m *Manager) now(ctx context.Context) time.Time {
	if en, ok := sim.EntityFrom(ctx); ok && en != nil {
		return en.Now()
	}
	return m.cfg.Clock.Now()
}

// settleLocked stamps the stop time of plugins seen gone since the last call
// and removes the devices of those stopped longer than the grace period, as
// upstream's GetCapacity does.
func (m *Manager) settleLocked(now time.Time) {
	for _, rs := range m.resources {
		if !rs.stopped {
			continue
		}
		if rs.stopTime.IsZero() {
			rs.stopTime = now
		}
		if rs.listed && now.Sub(rs.stopTime) > m.cfg.EndpointStopGracePeriod {
			visible := len(rs.ids) > 0
			rs.listed, rs.ids, rs.healthy = false, nil, nil
			m.changedLocked(visible)
		}
	}
}

// Resources is the device plugin resources' capacity (all devices) and
// allocatable (healthy devices), as the kubelet puts them into its node
// status. A resource whose plugin went away more than the grace period ago
// is reported at 0 in both, as the kubelet's node status keeps it.
func (m *Manager) Resources(ctx context.Context) (capacity, allocatable corev1.ResourceList) {
	now := m.now(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settleLocked(now)
	capacity, allocatable = corev1.ResourceList{}, corev1.ResourceList{}
	for name, rs := range m.resources {
		if !rs.known {
			continue
		}
		total, healthy := 0, 0
		if rs.listed {
			total = len(rs.ids)
			for _, ok := range rs.healthy {
				if ok {
					healthy++
				}
			}
		}
		capacity[corev1.ResourceName(name)] = *resource.NewQuantity(int64(total), resource.DecimalSI)
		allocatable[corev1.ResourceName(name)] = *resource.NewQuantity(int64(healthy), resource.DecimalSI)
	}
	return capacity, allocatable
}

// Generation counts the changes of what Resources returns: a device listed,
// gone or changing health, a resource removed after the grace period (counted
// at the call that sees it). The kubelet posts its node status when it moved.
func (m *Manager) Generation() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.generation
}

// Changed returns a channel closed at the next change of the manager's
// state (which may or may not move Generation).
func (m *Manager) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notify
}

// NextRemoval is when the earliest pending removal falls due: the devices of
// a plugin gone at T are removed by the first call after T plus the grace
// period. ok is false when no removal is pending (or the stop time is not
// stamped yet, which the next call does).
func (m *Manager) NextRemoval() (at time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rs := range m.resources {
		if rs.stopped && rs.listed && !rs.stopTime.IsZero() {
			due := rs.stopTime.Add(m.cfg.EndpointStopGracePeriod)
			if !ok || due.Before(at) {
				at, ok = due, true
			}
		}
	}
	return at, ok
}

// WaitFor waits until cond holds for the manager's capacity and allocatable
// (evaluated at the caller's time), or ctx is done. It is for plugins other
// than FakePlugin, whose updates arrive on their own.
func (m *Manager) WaitFor(ctx context.Context, cond func(capacity, allocatable corev1.ResourceList) bool) error {
	for {
		ch := m.Changed()
		if cond(m.Resources(ctx)) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for device plugin resources: %w", ctx.Err())
		}
	}
}

// waitListed waits until the endpoint at socket has applied devs. If the
// endpoint is not connected it returns an error when mustBeConnected, nil
// otherwise (the manager no longer sees the plugin at all).
func (m *Manager) waitListed(ctx context.Context, socket string, devs []*pluginapi.Device, mustBeConnected bool) error {
	for {
		m.mu.Lock()
		e := m.endpoints[socket]
		done := e != nil && e.last != nil && sameDevices(e.last, devs)
		ch := m.notify
		m.mu.Unlock()
		switch {
		case done:
			return nil
		case e == nil && mustBeConnected:
			return fmt.Errorf("device plugin at %s disconnected before the kubelet listed its devices", socket)
		case e == nil:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for the kubelet to list the devices of %s: %w", socket, ctx.Err())
		}
	}
}

// waitGone waits until no endpoint is connected at socket, then stamps the
// stop time on the caller's clock.
func (m *Manager) waitGone(ctx context.Context, socket string) error {
	now := m.now(ctx)
	for {
		m.mu.Lock()
		_, connected := m.endpoints[socket]
		if !connected {
			m.settleLocked(now)
		}
		ch := m.notify
		m.mu.Unlock()
		if !connected {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for the kubelet to see the device plugin at %s go: %w", socket, ctx.Err())
		}
	}
}

// IsExtendedResourceName says whether name is an extended resource a device
// plugin may advertise, by upstream's rule (v1helper.IsExtendedResourceName):
// qualified with a domain outside kubernetes.io, not requests.-prefixed, and
// a qualified name once prefixed with "requests.".
func IsExtendedResourceName(name string) bool {
	if !strings.Contains(name, "/") || strings.Contains(name, corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(name, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+name)) == 0
}

// checkSocketPath fails for a path too long to bind a unix socket to.
func checkSocketPath(p string) error {
	if len(p) > MaxSocketPathLen {
		return fmt.Errorf("unix socket path %s is %d bytes long, more than the %d a unix socket allows", p, len(p), MaxSocketPathLen)
	}
	return nil
}

// removeSockets removes the sockets directly in dir, as upstream's
// CleanupPluginDirectory does on start; other files stay.
func removeSockets(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, ent := range entries {
		if ent.Type()&os.ModeSocket == 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, ent.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// bound is the context of one call to a plugin (ManagerConfig.BoundCall).
func (m *Manager) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.cfg.BoundCall == nil {
		return ctx, func() {}
	}
	return m.cfg.BoundCall(ctx)
}

// dialUnix makes a gRPC client of the unix socket at path; it connects on
// the first call, which fails at once if nobody listens.
func dialUnix(path string) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+path,
		grpc.WithAuthority("localhost"),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}),
	)
}

func cloneDevices(devs []*pluginapi.Device) []*pluginapi.Device {
	out := make([]*pluginapi.Device, len(devs))
	for i, d := range devs {
		out[i] = &pluginapi.Device{ID: d.ID, Health: d.Health}
	}
	return out
}

func sameDevices(a, b []*pluginapi.Device) bool {
	return slices.EqualFunc(a, b, func(x, y *pluginapi.Device) bool { return x.ID == y.ID && x.Health == y.Health })
}

func sameHealth(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sortedKeys returns m's keys in order, so that nothing depends on map order.
func sortedKeys[K ~string, V any](m map[K]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}

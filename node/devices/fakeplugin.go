package devices

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

// FakePluginConfig configures a fake device plugin, as a scenario pool's
// devicePlugins entry ({resourceName, count}) declares it.
type FakePluginConfig struct {
	// Dir is the device plugin directory holding the kubelet's
	// kubelet.sock; the plugin's own socket goes there too. Required.
	Dir string
	// ResourceName is the extended resource the plugin advertises, such as
	// example.com/gpu. Required.
	ResourceName string
	// Count is the number of devices, IDs <basename>-0 .. <basename>-(Count-1)
	// (gpu-0, gpu-1, ... for example.com/gpu). Zero or more.
	Count int
	// Endpoint is the plugin's socket name in Dir; empty means the resource
	// name with '/' replaced by '-' plus ".sock" (example.com-gpu.sock).
	Endpoint string
	// PreStartRequired and GetPreferredAllocationAvailable are the plugin's
	// DevicePluginOptions.
	PreStartRequired                bool
	GetPreferredAllocationAvailable bool
	// Manager, when set, is the kubelet's device manager the plugin registers
	// with: Start, SetHealthy and Stop then return only once the manager has
	// applied the change (see the package doc). Without it they return once
	// the plugin has done its part, which suits a kubelet elsewhere.
	Manager *Manager
}

// FakePluginCalls counts the RPCs a fake plugin served.
type FakePluginCalls struct {
	GetDevicePluginOptions, ListAndWatch, GetPreferredAllocation, Allocate, PreStartContainer int
}

// FakePlugin is a device plugin serving pluginapi.DevicePluginServer on its
// own unix socket and registering with the kubelet the way real plugins do.
// Its methods are meant for one caller at a time (they serialize).
type FakePlugin struct {
	pluginapi.UnimplementedDevicePluginServer

	cfg     FakePluginConfig
	socket  string
	kubelet string
	ids     []string
	env     string
	devPath map[string]string

	// op serializes Start, Stop and SetHealthy.
	op sync.Mutex

	mu      sync.Mutex
	healthy int
	running bool
	server  *grpc.Server
	served  chan struct{}
	// changed is closed and replaced when the device list changes.
	changed chan struct{}
	calls   FakePluginCalls
}

// NewFakePlugin validates cfg and prepares the plugin; Start serves and
// registers it. All devices start healthy.
func NewFakePlugin(cfg FakePluginConfig) (*FakePlugin, error) {
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("fake device plugin %s: directory %q must be an absolute path", cfg.ResourceName, cfg.Dir)
	}
	if !IsExtendedResourceName(cfg.ResourceName) {
		return nil, fmt.Errorf("fake device plugin: resourceName %q is not an extended resource name (domain/name outside kubernetes.io)", cfg.ResourceName)
	}
	if cfg.Count < 0 {
		return nil, fmt.Errorf("fake device plugin %s: count %d must not be negative", cfg.ResourceName, cfg.Count)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = strings.ReplaceAll(cfg.ResourceName, "/", "-") + ".sock"
	}
	if filepath.Base(cfg.Endpoint) != cfg.Endpoint || cfg.Endpoint == KubeletSocketName {
		return nil, fmt.Errorf("fake device plugin %s: endpoint %q must be a plain socket name other than %s", cfg.ResourceName, cfg.Endpoint, KubeletSocketName)
	}
	cfg.Dir = filepath.Clean(cfg.Dir)
	f := &FakePlugin{
		cfg:     cfg,
		socket:  filepath.Join(cfg.Dir, cfg.Endpoint),
		kubelet: filepath.Join(cfg.Dir, KubeletSocketName),
		healthy: cfg.Count,
		changed: make(chan struct{}),
		devPath: map[string]string{},
	}
	if err := checkSocketPath(f.socket); err != nil {
		return nil, fmt.Errorf("fake device plugin %s: %w", cfg.ResourceName, err)
	}
	base := cfg.ResourceName[strings.LastIndex(cfg.ResourceName, "/")+1:]
	for i := range cfg.Count {
		id := base + "-" + strconv.Itoa(i)
		f.ids = append(f.ids, id)
		f.devPath[id] = "/dev/" + base + strconv.Itoa(i)
	}
	f.env = envName(base) + "_VISIBLE_DEVICES"
	return f, nil
}

// envName turns a resource's base name into an environment variable name:
// upper case, anything but letters and digits as '_'.
func envName(base string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(base) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// SocketPath is the plugin's own socket.
func (f *FakePlugin) SocketPath() string { return f.socket }

// ResourceName is the resource the plugin advertises.
func (f *FakePlugin) ResourceName() string { return f.cfg.ResourceName }

// DeviceIDs are the plugin's device IDs in order.
func (f *FakePlugin) DeviceIDs() []string { return slices.Clone(f.ids) }

// Healthy is how many devices (the first ones) are healthy.
func (f *FakePlugin) Healthy() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthy
}

// Running says whether the plugin is serving.
func (f *FakePlugin) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}

// Calls counts the RPCs served so far.
func (f *FakePlugin) Calls() FakePluginCalls {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Start serves the plugin on its socket and registers it with the kubelet
// socket in Dir; with a Manager it returns once the manager lists the
// plugin's devices. Starting a stopped plugin brings it back, as a
// restarted plugin registers again.
func (f *FakePlugin) Start(ctx context.Context) error {
	f.op.Lock()
	defer f.op.Unlock()
	f.mu.Lock()
	if f.running {
		f.mu.Unlock()
		return fmt.Errorf("fake device plugin %s: already started", f.cfg.ResourceName)
	}
	f.mu.Unlock()
	if err := os.Remove(f.socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fake device plugin %s: remove stale socket: %w", f.cfg.ResourceName, err)
	}
	ln, err := net.Listen("unix", f.socket)
	if err != nil {
		return fmt.Errorf("fake device plugin %s: listen on %s: %w", f.cfg.ResourceName, f.socket, err)
	}
	srv := grpc.NewServer()
	pluginapi.RegisterDevicePluginServer(srv, f)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns when Stop stops the server
	}()
	f.mu.Lock()
	f.running, f.server, f.served = true, srv, served
	devs := f.devicesLocked()
	f.mu.Unlock()

	if err := f.register(ctx); err != nil {
		f.stopServer()
		return err
	}
	if m := f.cfg.Manager; m != nil {
		if err := m.waitListed(ctx, f.socket, devs, true); err != nil {
			f.stopServer()
			return fmt.Errorf("fake device plugin %s: %w", f.cfg.ResourceName, err)
		}
	}
	return nil
}

// register calls the kubelet's Registration service, as a device plugin
// does once it serves.
func (f *FakePlugin) register(ctx context.Context) error {
	conn, err := dialUnix(f.kubelet)
	if err != nil {
		return fmt.Errorf("fake device plugin %s: dial kubelet at %s: %w", f.cfg.ResourceName, f.kubelet, err)
	}
	defer conn.Close()
	_, err = pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
		Version:      pluginapi.Version,
		Endpoint:     f.cfg.Endpoint,
		ResourceName: f.cfg.ResourceName,
		Options: &pluginapi.DevicePluginOptions{
			PreStartRequired:                f.cfg.PreStartRequired,
			GetPreferredAllocationAvailable: f.cfg.GetPreferredAllocationAvailable,
		},
	})
	if err != nil {
		return fmt.Errorf("fake device plugin %s: register with kubelet at %s: %w", f.cfg.ResourceName, f.kubelet, err)
	}
	return nil
}

// Stop makes the plugin go away: its server stops and its socket is gone,
// which ends the kubelet's ListAndWatch stream. With a Manager it returns
// once the manager has marked the devices unhealthy and stamped the stop
// time at the caller's virtual time (the context's sim entity, else the
// manager's clock).
func (f *FakePlugin) Stop(ctx context.Context) error {
	f.op.Lock()
	defer f.op.Unlock()
	if !f.stopServer() {
		return nil
	}
	if m := f.cfg.Manager; m != nil {
		if err := m.waitGone(ctx, f.socket); err != nil {
			return fmt.Errorf("fake device plugin %s: %w", f.cfg.ResourceName, err)
		}
	}
	return nil
}

// stopServer stops serving; it says whether the plugin was running.
func (f *FakePlugin) stopServer() bool {
	f.mu.Lock()
	srv, served, running := f.server, f.served, f.running
	f.running, f.server = false, nil
	f.mu.Unlock()
	if !running {
		return false
	}
	srv.Stop()
	<-served
	_ = os.Remove(f.socket)
	return true
}

// SetHealthy keeps the first n devices Healthy and makes the rest Unhealthy
// (the deviceHealth action's healthy: N), streaming the new list on
// ListAndWatch. With a Manager it returns once the manager has applied it.
func (f *FakePlugin) SetHealthy(ctx context.Context, n int) error {
	if n < 0 || n > f.cfg.Count {
		return fmt.Errorf("fake device plugin %s: healthy %d is outside 0..%d, the plugin's device count", f.cfg.ResourceName, n, f.cfg.Count)
	}
	f.op.Lock()
	defer f.op.Unlock()
	f.mu.Lock()
	if f.healthy == n {
		f.mu.Unlock()
		return nil
	}
	f.healthy = n
	close(f.changed)
	f.changed = make(chan struct{})
	devs, running := f.devicesLocked(), f.running
	f.mu.Unlock()
	if m := f.cfg.Manager; m != nil && running {
		if err := m.waitListed(ctx, f.socket, devs, false); err != nil {
			return fmt.Errorf("fake device plugin %s: set %d healthy: %w", f.cfg.ResourceName, n, err)
		}
	}
	return nil
}

func (f *FakePlugin) devicesLocked() []*pluginapi.Device {
	devs := make([]*pluginapi.Device, len(f.ids))
	for i, id := range f.ids {
		health := pluginapi.Healthy
		if i >= f.healthy {
			health = pluginapi.Unhealthy
		}
		devs[i] = &pluginapi.Device{ID: id, Health: health}
	}
	return devs
}

// GetDevicePluginOptions returns the configured options.
func (f *FakePlugin) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	f.mu.Lock()
	f.calls.GetDevicePluginOptions++
	f.mu.Unlock()
	return &pluginapi.DevicePluginOptions{
		PreStartRequired:                f.cfg.PreStartRequired,
		GetPreferredAllocationAvailable: f.cfg.GetPreferredAllocationAvailable,
	}, nil
}

// ListAndWatch sends the device list, then the whole list again on every
// change, until the stream or the plugin ends.
func (f *FakePlugin) ListAndWatch(_ *pluginapi.Empty, stream grpc.ServerStreamingServer[pluginapi.ListAndWatchResponse]) error {
	f.mu.Lock()
	f.calls.ListAndWatch++
	f.mu.Unlock()
	var sent []*pluginapi.Device
	for {
		f.mu.Lock()
		devs, changed := f.devicesLocked(), f.changed
		f.mu.Unlock()
		if sent == nil || !sameDevices(sent, devs) {
			if err := stream.Send(&pluginapi.ListAndWatchResponse{Devices: devs}); err != nil {
				return err
			}
			sent = devs
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

// GetPreferredAllocation prefers the devices that must be included, then the
// available ones in the order given.
func (f *FakePlugin) GetPreferredAllocation(_ context.Context, req *pluginapi.PreferredAllocationRequest) (*pluginapi.PreferredAllocationResponse, error) {
	f.mu.Lock()
	f.calls.GetPreferredAllocation++
	f.mu.Unlock()
	resp := &pluginapi.PreferredAllocationResponse{}
	for _, cr := range req.ContainerRequests {
		var ids []string
		for _, id := range append(slices.Clone(cr.MustIncludeDeviceIDs), cr.AvailableDeviceIDs...) {
			if len(ids) < int(cr.AllocationSize) && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerPreferredAllocationResponse{DeviceIDs: ids})
	}
	return resp, nil
}

// Allocate answers as a GPU plugin does: <BASENAME>_VISIBLE_DEVICES with the
// device IDs, and a device node per device.
func (f *FakePlugin) Allocate(_ context.Context, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	f.mu.Lock()
	f.calls.Allocate++
	f.mu.Unlock()
	resp := &pluginapi.AllocateResponse{}
	for _, cr := range req.ContainerRequests {
		car := &pluginapi.ContainerAllocateResponse{Envs: map[string]string{f.env: strings.Join(cr.DevicesIds, ",")}}
		for _, id := range cr.DevicesIds {
			p, ok := f.devPath[id]
			if !ok {
				return nil, fmt.Errorf("invalid allocation request for %q: unknown device: %s", f.cfg.ResourceName, id)
			}
			car.Devices = append(car.Devices, &pluginapi.DeviceSpec{ContainerPath: p, HostPath: p, Permissions: "rw"})
		}
		resp.ContainerResponses = append(resp.ContainerResponses, car)
	}
	return resp, nil
}

// PreStartContainer has nothing to prepare.
func (f *FakePlugin) PreStartContainer(context.Context, *pluginapi.PreStartContainerRequest) (*pluginapi.PreStartContainerResponse, error) {
	f.mu.Lock()
	f.calls.PreStartContainer++
	f.mu.Unlock()
	return &pluginapi.PreStartContainerResponse{}, nil
}

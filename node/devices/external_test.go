package devices

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

// externalPlugin is a device plugin as a third party writes one: only the
// pluginapi package and grpc, nothing of this package.
type externalPlugin struct {
	pluginapi.UnimplementedDevicePluginServer

	updates chan []*pluginapi.Device

	mu        sync.Mutex
	preferred [][]string // AvailableDeviceIDs of each GetPreferredAllocation
	allocated [][]string
	preStart  [][]string
}

func (p *externalPlugin) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	return &pluginapi.DevicePluginOptions{PreStartRequired: true, GetPreferredAllocationAvailable: true}, nil
}

func (p *externalPlugin) ListAndWatch(_ *pluginapi.Empty, s grpc.ServerStreamingServer[pluginapi.ListAndWatchResponse]) error {
	for {
		select {
		case devs := <-p.updates:
			if err := s.Send(&pluginapi.ListAndWatchResponse{Devices: devs}); err != nil {
				return err
			}
		case <-s.Context().Done():
			return nil
		}
	}
}

// GetPreferredAllocation prefers the last available devices, so that a
// manager ignoring it would be caught.
func (p *externalPlugin) GetPreferredAllocation(_ context.Context, r *pluginapi.PreferredAllocationRequest) (*pluginapi.PreferredAllocationResponse, error) {
	resp := &pluginapi.PreferredAllocationResponse{}
	for _, cr := range r.ContainerRequests {
		p.mu.Lock()
		p.preferred = append(p.preferred, slices.Clone(cr.AvailableDeviceIDs))
		p.mu.Unlock()
		ids := slices.Clone(cr.AvailableDeviceIDs)
		slices.Reverse(ids)
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerPreferredAllocationResponse{DeviceIDs: ids[:cr.AllocationSize]})
	}
	return resp, nil
}

func (p *externalPlugin) Allocate(_ context.Context, r *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	resp := &pluginapi.AllocateResponse{}
	for _, cr := range r.ContainerRequests {
		p.mu.Lock()
		p.allocated = append(p.allocated, slices.Clone(cr.DevicesIds))
		p.mu.Unlock()
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerAllocateResponse{
			Envs:        map[string]string{"ACME_DEVICES": cr.DevicesIds[0]},
			Mounts:      []*pluginapi.Mount{{ContainerPath: "/usr/lib/acme", HostPath: "/opt/acme/lib", ReadOnly: true}},
			Annotations: map[string]string{"acme.example.com/devices": "yes"},
		})
	}
	return resp, nil
}

func (p *externalPlugin) PreStartContainer(_ context.Context, r *pluginapi.PreStartContainerRequest) (*pluginapi.PreStartContainerResponse, error) {
	p.mu.Lock()
	p.preStart = append(p.preStart, slices.Clone(r.DevicesIds))
	p.mu.Unlock()
	return &pluginapi.PreStartContainerResponse{}, nil
}

func acmeDevices(health ...string) []*pluginapi.Device {
	var devs []*pluginapi.Device
	for i, h := range health {
		devs = append(devs, &pluginapi.Device{ID: "acme" + string(rune('a'+i)), Health: h})
	}
	return devs
}

func TestExternalPluginRegistersAndIsAllocatedFrom(t *testing.T) {
	const acme = "acme.example.com/accel"
	m, clock := newTestManager(t)
	ctx := testCtx(t)

	// Serve on a socket in the kubelet's directory, then register, as the
	// device plugin documentation describes.
	socket := filepath.Join(m.Dir(), "acme.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	plugin := &externalPlugin{updates: make(chan []*pluginapi.Device, 4)}
	srv := grpc.NewServer()
	pluginapi.RegisterDevicePluginServer(srv, plugin)
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	defer func() { srv.Stop(); <-served }()

	plugin.updates <- acmeDevices(pluginapi.Healthy, pluginapi.Healthy, pluginapi.Healthy)
	conn, err := grpc.NewClient("unix://"+m.SocketPath(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
		Version: pluginapi.Version, Endpoint: "acme.sock", ResourceName: acme,
		Options: &pluginapi.DevicePluginOptions{PreStartRequired: true, GetPreferredAllocationAvailable: true},
	}); err != nil {
		t.Fatal(err)
	}
	wait := func(capacity, allocatable int64) {
		t.Helper()
		err := m.WaitFor(ctx, func(c, a corev1.ResourceList) bool {
			qc, qa := c[acme], a[acme]
			return qc.Value() == capacity && qa.Value() == allocatable
		})
		if err != nil {
			c, a := counts(t, m, acme)
			t.Fatalf("waiting for %d/%d: %v (at %d/%d)", capacity, allocatable, err, c, a)
		}
	}
	wait(3, 3)

	resp, err := m.Allocate(ctx, "pod-1", "main", acme, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The plugin was asked with every free device, in its order, and its
	// preference (the last two) was taken.
	if got := m.Allocated("pod-1", "main", acme); !slices.Equal(got, []string{"acmec", "acmeb"}) {
		t.Errorf("allocated %v, want the preferred acmec acmeb", got)
	}
	plugin.mu.Lock()
	preferred, allocated := slices.Clone(plugin.preferred), slices.Clone(plugin.allocated)
	plugin.mu.Unlock()
	if len(preferred) != 1 || !slices.Equal(preferred[0], []string{"acmea", "acmeb", "acmec"}) {
		t.Errorf("GetPreferredAllocation saw %v", preferred)
	}
	if len(allocated) != 1 || !slices.Equal(allocated[0], []string{"acmec", "acmeb"}) {
		t.Errorf("Allocate saw %v", allocated)
	}
	if resp.Envs["ACME_DEVICES"] != "acmec" {
		t.Errorf("Allocate response %v", resp)
	}
	opts, err := m.ContainerOptions(ctx, "pod-1", "main")
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Mounts) != 1 || opts.Mounts[0].HostPath != "/opt/acme/lib" || !opts.Mounts[0].ReadOnly || opts.Annotations["acme.example.com/devices"] != "yes" {
		t.Errorf("container options %v", opts)
	}
	plugin.mu.Lock()
	preStart := slices.Clone(plugin.preStart)
	plugin.mu.Unlock()
	if len(preStart) != 1 || !slices.Equal(preStart[0], []string{"acmec", "acmeb"}) {
		t.Errorf("PreStartContainer saw %v", preStart)
	}

	// Health through ListAndWatch moves allocatable, not capacity.
	plugin.updates <- acmeDevices(pluginapi.Unhealthy, pluginapi.Healthy, pluginapi.Healthy)
	wait(3, 2)
	if _, err := m.Allocate(ctx, "pod-2", "main", acme, 1); err == nil {
		t.Errorf("allocated the unhealthy acmea")
	}
	// A new device appears.
	plugin.updates <- acmeDevices(pluginapi.Unhealthy, pluginapi.Healthy, pluginapi.Healthy, pluginapi.Healthy)
	wait(4, 3)
	if _, err := m.Allocate(ctx, "pod-2", "main", acme, 1); err != nil {
		t.Errorf("allocate the new device: %v", err)
	}
	if got := m.Allocated("pod-2", "main", acme); !slices.Equal(got, []string{"acmed"}) {
		t.Errorf("pod-2 got %v", got)
	}

	// The plugin dies: unhealthy at once, removed after the grace period.
	srv.Stop()
	<-served
	wait(4, 0)
	clock.Advance(DefaultEndpointStopGracePeriod)
	wait(4, 0) // the stop time was stamped at the first call after the loss
	clock.Advance(time.Second)
	wait(0, 0)
}

// stuckPlugin is an external plugin whose Allocate never answers.
type stuckPlugin struct {
	externalPlugin
	release chan struct{}
}

func (p *stuckPlugin) Allocate(context.Context, *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	<-p.release // ignores its context, as a hung plugin does
	return nil, context.Canceled
}

// TestStuckPluginFailsTheAllocationNotTheCaller: with BoundCall, a plugin
// that never answers Allocate fails that allocation once the bound has
// passed, instead of holding the caller (in a run, the node's window,
// which every node waits for).
func TestStuckPluginFailsTheAllocationNotTheCaller(t *testing.T) {
	const acme = "acme.example.com/accel"
	dir := filepath.Join(t.TempDir(), "device-plugins")
	m, err := NewManager(ManagerConfig{Dir: dir, Clock: clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		BoundCall: func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 100*time.Millisecond)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	ctx := testCtx(t)
	ln, err := net.Listen("unix", filepath.Join(m.Dir(), "acme.sock"))
	if err != nil {
		t.Fatal(err)
	}
	plugin := &stuckPlugin{externalPlugin: externalPlugin{updates: make(chan []*pluginapi.Device, 1)}, release: make(chan struct{})}
	srv := grpc.NewServer()
	pluginapi.RegisterDevicePluginServer(srv, plugin)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	defer close(plugin.release)
	plugin.updates <- acmeDevices(pluginapi.Healthy)
	conn, err := grpc.NewClient("unix://"+m.SocketPath(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
		Version: pluginapi.Version, Endpoint: "acme.sock", ResourceName: acme,
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitFor(ctx, func(c, a corev1.ResourceList) bool { q := a[acme]; return q.Value() == 1 }); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.Allocate(ctx, "pod-1", "main", acme, 1); done <- err }()
	select {
	case err := <-done:
		if status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("Allocate from a stuck plugin: %v, want DeadlineExceeded", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Allocate is held by the stuck plugin")
	}
}

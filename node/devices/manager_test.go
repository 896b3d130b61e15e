package devices

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

const gpu = "example.com/gpu"

// testCtx bounds a test's waits on gRPC, which runs in wall time.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTestManager starts a manager in a short temporary directory (unix
// socket paths are limited to 107 bytes).
func newTestManager(t *testing.T) (*Manager, *clockwork.FakeClock) {
	t.Helper()
	dir, err := os.MkdirTemp("", "dp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m, err := NewManager(ManagerConfig{Dir: filepath.Join(dir, "device-plugins"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, clock
}

func startFake(t *testing.T, m *Manager, cfg FakePluginConfig) *FakePlugin {
	t.Helper()
	cfg.Dir, cfg.Manager = m.Dir(), m
	if cfg.ResourceName == "" {
		cfg.ResourceName = gpu
	}
	f, err := NewFakePlugin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	return f
}

// counts is a resource's capacity and allocatable; -1 when absent.
func counts(t *testing.T, m *Manager, res string) (capacity, allocatable int64) {
	t.Helper()
	c, a := m.Resources(context.Background())
	capacity, allocatable = -1, -1
	if q, ok := c[corev1.ResourceName(res)]; ok {
		capacity = q.Value()
	}
	if q, ok := a[corev1.ResourceName(res)]; ok {
		allocatable = q.Value()
	}
	return capacity, allocatable
}

func wantCounts(t *testing.T, m *Manager, res string, capacity, allocatable int64) {
	t.Helper()
	if c, a := counts(t, m, res); c != capacity || a != allocatable {
		t.Fatalf("%s: capacity/allocatable = %d/%d, want %d/%d", res, c, a, capacity, allocatable)
	}
}

func gpuPod(uid string, perContainer ...int64) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "default", UID: types.UID(uid)}}
	for i, n := range perContainer {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
			Name: "c" + string(rune('0'+i)),
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				gpu: *resource.NewQuantity(n, resource.DecimalSI),
			}},
		})
	}
	return pod
}

func TestNewManagerValidatesAndServes(t *testing.T) {
	clock := clockwork.NewFakeClock()
	if _, err := NewManager(ManagerConfig{Dir: "relative/dir", Clock: clock}); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative dir: err = %v, want one saying absolute", err)
	}
	if _, err := NewManager(ManagerConfig{Dir: "/tmp/x", Clock: nil}); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Errorf("nil clock: err = %v, want one naming the clock", err)
	}
	long := "/tmp/" + strings.Repeat("d", 100)
	if _, err := NewManager(ManagerConfig{Dir: long, Clock: clock}); err == nil || !strings.Contains(err.Error(), filepath.Join(long, KubeletSocketName)) {
		t.Errorf("long dir: err = %v, want one naming the socket path", err)
	}

	dir, err := os.MkdirTemp("", "dp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	pdir := filepath.Join(dir, "device-plugins")
	if err := os.MkdirAll(pdir, 0o750); err != nil {
		t.Fatal(err)
	}
	// A stale socket from an earlier run goes; other files stay.
	stale := filepath.Join(pdir, "old.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if err := os.WriteFile(filepath.Join(pdir, "keep.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ManagerConfig{Dir: pdir, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale socket: stat err = %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(pdir, "keep.txt")); err != nil {
		t.Errorf("other file removed: %v", err)
	}
	st, err := os.Stat(m.SocketPath())
	if err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("kubelet.sock: %v, mode %v; want a socket", err, st)
	}
	if m.SocketPath() != filepath.Join(pdir, "kubelet.sock") {
		t.Errorf("SocketPath = %s", m.SocketPath())
	}
	c, a := m.Resources(context.Background())
	if len(c) != 0 || len(a) != 0 {
		t.Errorf("no plugins: capacity %v allocatable %v, want empty", c, a)
	}
	m.Close()
	if _, err := os.Stat(m.SocketPath()); !os.IsNotExist(err) {
		t.Errorf("after Close: stat kubelet.sock err = %v, want it gone", err)
	}

	// A fresh directory is created 0750.
	fresh := filepath.Join(dir, "n2", "device-plugins")
	m2, err := NewManager(ManagerConfig{Dir: fresh, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	st, err = os.Stat(fresh)
	if err != nil || st.Mode().Perm() != DirPerm {
		t.Errorf("created dir: %v, mode %v, want %o", err, st.Mode().Perm(), DirPerm)
	}
}

func TestHealthMovesAllocatableNotCapacity(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := testCtx(t)
	gen0 := m.Generation()
	f := startFake(t, m, FakePluginConfig{Count: 4})
	// Start returned: the devices are listed, with no waiting here.
	wantCounts(t, m, gpu, 4, 4)
	if m.Generation() == gen0 {
		t.Errorf("generation did not move when devices were listed")
	}
	if got := f.DeviceIDs(); !slices.Equal(got, []string{"gpu-0", "gpu-1", "gpu-2", "gpu-3"}) {
		t.Errorf("device IDs = %v", got)
	}
	// Every SetHealthy is visible as soon as it returns; repeat to give a
	// late delivery a chance to show.
	prev := 4
	for i, n := range []int{1, 4, 0, 3, 3, 2, 4, 0, 1, 4} {
		gen, changed := m.Generation(), m.Changed()
		if err := f.SetHealthy(ctx, n); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, m, gpu, 4, int64(n))
		moved := m.Generation() != gen
		closed := false
		select {
		case <-changed:
			closed = true
		default:
		}
		if want := n != prev; moved != want || (want && !closed) {
			t.Errorf("step %d (%d -> %d healthy): generation moved %v, Changed closed %v; want %v", i, prev, n, moved, closed, want)
		}
		prev = n
	}
	if err := f.SetHealthy(ctx, 5); err == nil || !strings.Contains(err.Error(), "0..4") {
		t.Errorf("SetHealthy(5): err = %v, want out of range", err)
	}
	if err := f.SetHealthy(ctx, -1); err == nil {
		t.Errorf("SetHealthy(-1): no error")
	}
}

func TestPluginGoneUnhealthyThenRemovedAfterGracePeriod(t *testing.T) {
	m, clock := newTestManager(t)
	ctx := testCtx(t)
	f := startFake(t, m, FakePluginConfig{Count: 4})
	if err := f.SetHealthy(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.NextRemoval(); ok {
		t.Errorf("NextRemoval pending with the plugin up")
	}
	stoppedAt := clock.Now()
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.SocketPath()); !os.IsNotExist(err) {
		t.Errorf("plugin socket still there after Stop: %v", err)
	}
	// Unhealthy at once, still counted.
	wantCounts(t, m, gpu, 4, 0)
	at, ok := m.NextRemoval()
	if !ok || !at.Equal(stoppedAt.Add(DefaultEndpointStopGracePeriod)) {
		t.Errorf("NextRemoval = %v %v, want %v", at, ok, stoppedAt.Add(DefaultEndpointStopGracePeriod))
	}
	clock.Advance(4 * time.Minute)
	wantCounts(t, m, gpu, 4, 0)
	clock.Advance(time.Minute) // exactly 5 m: upstream removes only after it
	wantCounts(t, m, gpu, 4, 0)
	gen := m.Generation()
	clock.Advance(time.Second)
	wantCounts(t, m, gpu, 0, 0)
	if m.Generation() == gen {
		t.Errorf("removal did not move the generation")
	}
	if _, ok := m.NextRemoval(); ok {
		t.Errorf("NextRemoval still pending after removal")
	}
	// A removed resource is no longer the device manager's: upstream lets
	// the pod through here (the resource fit check refuses it).
	if reason, msg, ok := m.Admit(ctx, gpuPod("p", 1)); !ok {
		t.Errorf("Admit after removal: %s %q, want admitted by the device manager", reason, msg)
	}
	// The plugin comes back: registered again, with the health it had.
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, m, gpu, 4, 3)
}

func TestPluginBackWithinGracePeriod(t *testing.T) {
	m, clock := newTestManager(t)
	ctx := testCtx(t)
	f := startFake(t, m, FakePluginConfig{Count: 2})
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Minute)
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	wantCounts(t, m, gpu, 2, 2)
	if err := f.Start(ctx); err == nil {
		t.Errorf("Start of a running plugin: no error")
	}
}

func TestAdmitAllocatesUntilExhausted(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := testCtx(t)
	f := startFake(t, m, FakePluginConfig{Count: 3})

	if reason, msg, ok := m.Admit(ctx, gpuPod("a", 2)); !ok {
		t.Fatalf("pod a: %s %s", reason, msg)
	}
	if got := m.Allocated("a", "c0", gpu); !slices.Equal(got, []string{"gpu-0", "gpu-1"}) {
		t.Errorf("pod a holds %v, want gpu-0 gpu-1 (listed order)", got)
	}
	opts, err := m.ContainerOptions(ctx, "a", "c0")
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.Envs["GPU_VISIBLE_DEVICES"]; got != "gpu-0,gpu-1" {
		t.Errorf("GPU_VISIBLE_DEVICES = %q", got)
	}
	if len(opts.Devices) != 2 || opts.Devices[0].HostPath != "/dev/gpu0" || opts.Devices[1].ContainerPath != "/dev/gpu1" || opts.Devices[0].Permissions != "rw" {
		t.Errorf("device specs = %v", opts.Devices)
	}
	if f.Calls().PreStartContainer != 0 {
		t.Errorf("PreStartContainer called without the option")
	}
	if got, _ := m.ContainerOptions(ctx, "a", "other"); got != nil {
		t.Errorf("container without devices: options %v, want nil", got)
	}
	// Allocate of a container that already holds the resource answers again.
	again, err := m.Allocate(ctx, "a", "c0", gpu, 2)
	if err != nil || again.Envs["GPU_VISIBLE_DEVICES"] != "gpu-0,gpu-1" {
		t.Errorf("Allocate again: %v %v", again, err)
	}
	if _, err := m.Allocate(ctx, "a", "c0", gpu, 1); err == nil || !strings.Contains(err.Error(), "changed request") {
		t.Errorf("changed request: err = %v", err)
	}

	reason, msg, ok := m.Admit(ctx, gpuPod("b", 2))
	if ok || reason != "UnexpectedAdmissionError" ||
		msg != "Allocate failed due to requested number of devices unavailable for example.com/gpu. Requested: 2, Available: 1, which is unexpected" {
		t.Fatalf("pod b: %v %q %q", ok, reason, msg)
	}
	// A refused pod holds nothing, also when an earlier container of it got
	// devices.
	if _, _, ok := m.Admit(ctx, gpuPod("c", 1, 1)); ok {
		t.Fatalf("pod c (1+1 with 1 free) admitted")
	}
	if got := m.Free(ctx, gpu); got != 1 {
		t.Errorf("free after refusals = %d, want 1", got)
	}
	if _, _, ok := m.Admit(ctx, gpuPod("d", 1)); !ok {
		t.Fatalf("pod d refused with one free")
	}
	if got := m.Allocated("d", "c0", gpu); !slices.Equal(got, []string{"gpu-2"}) {
		t.Errorf("pod d holds %v", got)
	}
	m.Release("a")
	if got := m.Free(ctx, gpu); got != 2 {
		t.Errorf("free after releasing a = %d, want 2", got)
	}
	if _, _, ok := m.Admit(ctx, gpuPod("b", 2)); !ok {
		t.Fatalf("pod b refused after a was released")
	}
	// Pods without device plugin resources, or with resources no plugin
	// serves, are not the device manager's business.
	other := gpuPod("e")
	other.Spec.Containers = []corev1.Container{{Name: "x", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
		"other.example.com/fpga": *resource.NewQuantity(1, resource.DecimalSI),
		corev1.ResourceCPU:       resource.MustParse("1"),
	}}}}
	if reason, msg, ok := m.Admit(ctx, other); !ok {
		t.Errorf("pod without plugin resources refused: %s %s", reason, msg)
	}
}

func TestAdmitRefusesUnhealthyAndSkipsUnhealthyDevices(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := testCtx(t)
	f := startFake(t, m, FakePluginConfig{Count: 2})
	if err := f.SetHealthy(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, msg, ok := m.Admit(ctx, gpuPod("a", 1))
	if ok || msg != "Allocate failed due to no healthy devices present; cannot allocate unhealthy devices example.com/gpu, which is unexpected" {
		t.Errorf("all unhealthy: %v %q", ok, msg)
	}
	if err := f.SetHealthy(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, msg, ok = m.Admit(ctx, gpuPod("a", 2))
	if ok || !strings.Contains(msg, "Requested: 2, Available: 1") {
		t.Errorf("one healthy, two asked: %v %q", ok, msg)
	}
	if _, _, ok := m.Admit(ctx, gpuPod("b", 1)); !ok {
		t.Fatal("one healthy, one asked: refused")
	}
	if got := m.Allocated("b", "c0", gpu); !slices.Equal(got, []string{"gpu-0"}) {
		t.Errorf("got %v, want the healthy gpu-0", got)
	}
	// The plugin gone: no healthy devices.
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, msg, ok := m.Admit(ctx, gpuPod("c", 1)); ok || !strings.Contains(msg, "no healthy devices present") {
		t.Errorf("plugin gone: %v %q", ok, msg)
	}
}

func TestInitContainerDevicesReused(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := testCtx(t)
	startFake(t, m, FakePluginConfig{Count: 1})
	pod := gpuPod("a", 1)
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
		gpu: *resource.NewQuantity(1, resource.DecimalSI),
	}}}}
	if reason, msg, ok := m.Admit(ctx, pod); !ok {
		t.Fatalf("init + app sharing one device refused: %s %s", reason, msg)
	}
	if a, b := m.Allocated("a", "init", gpu), m.Allocated("a", "c0", gpu); !slices.Equal(a, b) || len(a) != 1 {
		t.Errorf("init holds %v, app %v; want the same device", a, b)
	}
	// A restartable (sidecar) init container keeps its device.
	always := corev1.ContainerRestartPolicyAlways
	pod2 := gpuPod("b", 1)
	pod2.Spec.InitContainers = []corev1.Container{{Name: "sidecar", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
		gpu: *resource.NewQuantity(1, resource.DecimalSI),
	}}}}
	m.Release("a")
	if _, _, ok := m.Admit(ctx, pod2); ok {
		t.Errorf("sidecar + app with one device admitted")
	}
}

func TestPluginOptionsPreStartAndPreferred(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := testCtx(t)
	f := startFake(t, m, FakePluginConfig{Count: 2, PreStartRequired: true, GetPreferredAllocationAvailable: true})
	if _, _, ok := m.Admit(ctx, gpuPod("a", 1)); !ok {
		t.Fatal("refused")
	}
	if c := f.Calls(); c.GetPreferredAllocation != 1 || c.Allocate != 1 || c.PreStartContainer != 0 {
		t.Errorf("after Admit: calls %+v", c)
	}
	if _, err := m.ContainerOptions(ctx, "a", "c0"); err != nil {
		t.Fatal(err)
	}
	if c := f.Calls(); c.PreStartContainer != 1 {
		t.Errorf("after ContainerOptions: calls %+v, want one PreStartContainer", c)
	}
}

func TestBadRegistrationsRejected(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := testCtx(t)
	// A plugin server to point valid registrations at.
	f := startFake(t, m, FakePluginConfig{Count: 1})
	cases := []struct {
		name string
		req  *pluginapi.RegisterRequest
		want string
	}{
		{"wrong version", &pluginapi.RegisterRequest{Version: "v1alpha1", Endpoint: "x.sock", ResourceName: "example.com/x"},
			`requested API version "v1alpha1" is not supported by kubelet. Supported version is ["v1beta1"]`},
		{"unqualified resource", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: "x.sock", ResourceName: "gpu"},
			`the ResourceName "gpu" is invalid`},
		{"kubernetes.io resource", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: "x.sock", ResourceName: "kubernetes.io/gpu"},
			`the ResourceName "kubernetes.io/gpu" is invalid`},
		{"requests. resource", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: "x.sock", ResourceName: "requests.example.com/gpu"},
			`the ResourceName "requests.example.com/gpu" is invalid`},
		{"bad characters", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: "x.sock", ResourceName: "example.com/g pu"},
			`the ResourceName "example.com/g pu" is invalid`},
		{"endpoint outside the dir", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: "../x.sock", ResourceName: "example.com/x"},
			"outside the device plugin directory"},
		{"endpoint the dir itself", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: ".", ResourceName: "example.com/x"},
			"outside the device plugin directory"},
		{"empty endpoint", &pluginapi.RegisterRequest{Version: "v1beta1", ResourceName: "example.com/x"},
			"endpoint is empty"},
		{"endpoint path too long", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: strings.Repeat("e", 120), ResourceName: "example.com/x"},
			"more than the 107 a unix socket allows"},
		{"nobody listening", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: "nobody.sock", ResourceName: "example.com/x"},
			"failed to get device plugin options"},
		{"already connected", &pluginapi.RegisterRequest{Version: "v1beta1", Endpoint: filepath.Base(f.SocketPath()), ResourceName: gpu},
			"device plugin already connected: " + f.SocketPath()},
	}
	conn, err := dialUnix(m.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pluginapi.NewRegistrationClient(conn)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Register(ctx, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// None of them changed anything.
	c, _ := m.Resources(ctx)
	if len(c) != 1 {
		t.Errorf("capacity after bad registrations = %v, want only %s", c, gpu)
	}
}

func TestNewFakePluginValidates(t *testing.T) {
	for _, tc := range []struct {
		cfg  FakePluginConfig
		want string
	}{
		{FakePluginConfig{Dir: "rel", ResourceName: gpu, Count: 1}, "absolute"},
		{FakePluginConfig{Dir: "/tmp/dp", ResourceName: "gpu", Count: 1}, "not an extended resource name"},
		{FakePluginConfig{Dir: "/tmp/dp", ResourceName: gpu, Count: -1}, "must not be negative"},
		{FakePluginConfig{Dir: "/tmp/dp", ResourceName: gpu, Count: 1, Endpoint: "a/b.sock"}, "plain socket name"},
		{FakePluginConfig{Dir: "/tmp/dp", ResourceName: gpu, Count: 1, Endpoint: KubeletSocketName}, "plain socket name"},
		{FakePluginConfig{Dir: "/tmp/" + strings.Repeat("d", 100), ResourceName: gpu, Count: 1}, "more than the 107"},
	} {
		if _, err := NewFakePlugin(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	f, err := NewFakePlugin(FakePluginConfig{Dir: "/tmp/dp", ResourceName: "example.com/my-fpga", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if f.SocketPath() != "/tmp/dp/example.com-my-fpga.sock" || f.env != "MY_FPGA_VISIBLE_DEVICES" || !slices.Equal(f.DeviceIDs(), []string{"my-fpga-0", "my-fpga-1"}) {
		t.Errorf("socket %s env %s ids %v", f.SocketPath(), f.env, f.DeviceIDs())
	}
	// Registering with no kubelet listening fails clearly.
	dir, err := os.MkdirTemp("", "dp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	lonely, err := NewFakePlugin(FakePluginConfig{Dir: dir, ResourceName: gpu, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := lonely.Start(testCtx(t)); err == nil || !strings.Contains(err.Error(), "register with kubelet") {
		t.Errorf("Start without a kubelet: err = %v", err)
	}
	if lonely.Running() {
		t.Errorf("plugin still running after a failed Start")
	}
}

func TestTwoResourcesAndManyNodes(t *testing.T) {
	// Several managers side by side, as nodes are; each sees only its own
	// plugins.
	var ms []*Manager
	for range 3 {
		m, _ := newTestManager(t)
		ms = append(ms, m)
	}
	startFake(t, ms[0], FakePluginConfig{Count: 2})
	startFake(t, ms[0], FakePluginConfig{ResourceName: "example.com/fpga", Count: 1})
	startFake(t, ms[1], FakePluginConfig{Count: 8})
	startFake(t, ms[2], FakePluginConfig{ResourceName: "example.com/none", Count: 0})
	wantCounts(t, ms[0], gpu, 2, 2)
	wantCounts(t, ms[0], "example.com/fpga", 1, 1)
	wantCounts(t, ms[1], gpu, 8, 8)
	wantCounts(t, ms[2], gpu, -1, -1)
	wantCounts(t, ms[2], "example.com/none", 0, 0)
}

package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/sim"
)

const gib = 1 << 30

// newRuntime returns a runtime for node with its root dir in dir.
func newRuntime(t testing.TB, node, dir string, clock clockwork.Clock) *Runtime {
	t.Helper()
	r, err := New(Config{Node: node, RootDir: filepath.Join(dir, node), Clock: clock, PodCIDR: "10.244.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// simulation is an engine with one entity per node, for calls that pass
// virtual time.
type simulation struct {
	t      testing.TB
	engine *sim.Engine
}

func newSimulation(t testing.TB) *simulation {
	t.Helper()
	e, err := sim.New(sim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return &simulation{t: t, engine: e}
}

// process runs fn as a process of a new entity named name, from the
// engine's current time; it returns where fn's error will be.
func (s *simulation) process(name string, fn func(ctx context.Context, p *sim.Proc) error) *error {
	en := s.engine.NewEntity(name)
	errp := new(error)
	*errp = errors.New("process did not finish")
	en.Go(s.engine.Now(), name, func(p *sim.Proc) {
		*errp = fn(sim.WithEntity(context.Background(), en), p)
	})
	return errp
}

// run advances virtual time by d.
func (s *simulation) run(d time.Duration) {
	s.t.Helper()
	if err := s.engine.Run(context.Background(), s.engine.Now().Add(d)); err != nil {
		s.t.Fatal(err)
	}
}

// podIn starts a pod with one running container in r and returns the
// container's ID. memRequest and memLimit are in bytes (0: none).
func podIn(ctx context.Context, r *Runtime, pod, ctr string, memRequest, memLimit int64) (string, error) {
	if _, err := r.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "busybox"}}); err != nil {
		return "", err
	}
	sb, err := r.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig(pod)})
	if err != nil {
		return "", err
	}
	cc, err := r.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId:  sb.PodSandboxId,
		Config:        containerConfig(ctr, "busybox", memRequest, memLimit),
		SandboxConfig: podConfig(pod),
	})
	if err != nil {
		return "", err
	}
	if _, err := r.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cc.ContainerId}); err != nil {
		return "", err
	}
	return cc.ContainerId, nil
}

func podConfig(pod string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod, Namespace: "default", Uid: pod + "-uid"},
		LogDirectory: "/var/log/pods/default_" + pod + "_" + pod + "-uid",
		Labels:       map[string]string{"io.kubernetes.pod.name": pod},
	}
}

func containerConfig(name, image string, memRequest, memLimit int64) *runtimeapi.ContainerConfig {
	c := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: image},
		LogPath:  name + "/0.log",
		Labels:   map[string]string{"io.kubernetes.container.name": name},
		Linux:    &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: memLimit}},
	}
	if memRequest > 0 {
		c.Annotations = map[string]string{MemoryRequestAnnotation: fmt.Sprint(memRequest)}
	}
	return c
}

func TestNewValidatesConfig(t *testing.T) {
	clock := clockwork.NewFakeClock()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{RootDir: "/x", Clock: clock}, "node name is empty"},
		{Config{Node: "n", RootDir: "/x"}, "clock is nil"},
		{Config{Node: "n", Clock: clock}, "root dir is empty"},
		{Config{Node: "n", RootDir: "/x", Clock: clock, RuntimeVersion: "containerd-2.1"}, "not <name>://<version>"},
		{Config{Node: "n", RootDir: "/x", Clock: clock, PodCIDR: "10.0.0.0/31"}, "pod CIDR"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
}

func TestVersionStatusAndFaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ version, name, number string }{
		{"", "containerd", "2.1.4"},
		{"cri-o://1.34.1", "cri-o", "1.34.1"},
	} {
		r, err := New(Config{Node: "n", RootDir: t.TempDir(), Clock: clockwork.NewFakeClock(), RuntimeVersion: tc.version,
			Features: Features{UserNamespaces: true}})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := r.Version(ctx, &runtimeapi.VersionRequest{})
		if v.RuntimeName != tc.name || v.RuntimeVersion != tc.number || v.RuntimeApiVersion != "v1" {
			t.Errorf("version %+v, want %s %s", v, tc.name, tc.number)
		}
		s, _ := r.Status(ctx, &runtimeapi.StatusRequest{})
		for _, c := range s.Status.Conditions {
			if !c.Status {
				t.Errorf("condition %v false at start", c)
			}
		}
		if len(s.RuntimeHandlers) != 2 || !s.RuntimeHandlers[0].Features.UserNamespaces || s.RuntimeHandlers[0].Features.RecursiveReadOnlyMounts {
			t.Errorf("handlers %v, want user namespaces only", s.RuntimeHandlers)
		}
		r.SetRuntimeReady(false)
		r.SetNetworkReady(false)
		s, _ = r.Status(ctx, &runtimeapi.StatusRequest{})
		got := fmt.Sprintln(s.Status.Conditions[0].Status, s.Status.Conditions[0].Reason, s.Status.Conditions[1].Status, s.Status.Conditions[1].Reason, s.Status.Conditions[1].Message)
		if want := "false RuntimeNotReady false NetworkPluginNotReady Network plugin returns error: cni plugin not initialized\n"; got != want {
			t.Errorf("conditions after faults %q, want %q", got, want)
		}
	}
}

func TestUnimplementedRPCs(t *testing.T) {
	r := newRuntime(t, "n", t.TempDir(), clockwork.NewFakeClock())
	_, err := r.ExecSync(context.Background(), &runtimeapi.ExecSyncRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("ExecSync: %v, want Unimplemented", err)
	}
	_, err = r.CheckpointPod(context.Background(), &runtimeapi.CheckpointPodRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("CheckpointPod: %v, want Unimplemented", err)
	}
}

// TestLifecycleInVirtualTime runs a pod through an entity: the pull waits
// its duration, the counter and the log follow virtual time, memory grows
// from request to limit, stop freezes the counter.
func TestLifecycleInVirtualTime(t *testing.T) {
	s := newSimulation(t)
	r := newRuntime(t, "node-a", t.TempDir(), s.engine.Clock())
	start := s.engine.Now()
	var id string
	var pulledAt time.Time
	var memory []uint64
	var counters []int64
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		if _, err := r.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "nginx:1.29"}}); err != nil {
			return err
		}
		pulledAt = p.Now()
		var err error
		if id, err = podIn(ctx, r, "web", "app", 100<<20, 300<<20); err != nil {
			return err
		}
		for _, wait := range []time.Duration{0, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
			p.Sleep(wait)
			st, err := r.ContainerStats(ctx, &runtimeapi.ContainerStatsRequest{ContainerId: id})
			if err != nil {
				return err
			}
			memory = append(memory, st.Stats.Memory.WorkingSetBytes.Value)
			ps, _ := r.ProcessState(ctx, id)
			counters = append(counters, ps.Counter)
		}
		_, err = r.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id})
		p.Sleep(time.Minute)
		ps, _ := r.ProcessState(ctx, id)
		counters = append(counters, ps.Counter)
		return err
	})
	s.run(time.Hour)
	if *errp != nil {
		t.Fatal(*errp)
	}
	if got, want := pulledAt.Sub(start), PullDuration(ImageSize("nginx:1.29")); got != want || want <= DefaultPullBase {
		t.Errorf("pull took %v, want %v", got, want)
	}
	// busybox's pull follows nginx's; the counter starts after it.
	if got, want := fmt.Sprint(memory), fmt.Sprint([]uint64{100 << 20, 200 << 20, 300 << 20, 300 << 20}); got != want {
		t.Errorf("working set %s, want %s", got, want)
	}
	if got := fmt.Sprint(counters); got != "[0 300 600 900 900]" {
		t.Errorf("counters %s, want [0 300 600 900 900]", got)
	}
	log, err := r.ContainerLog(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 1+90+1 {
		t.Fatalf("%d log lines, want start, 90 ticks and stop:\n%s", len(lines), log)
	}
	startedAt := pulledAt.Add(PullDuration(ImageSize("busybox")))
	want := startedAt.Add(10*time.Second).UTC().Format(time.RFC3339Nano) + " stdout F tick 10"
	if lines[0] != startedAt.UTC().Format(time.RFC3339Nano)+" stdout F start counter=0" || lines[1] != want {
		t.Errorf("log starts %q, %q; want start then %q", lines[0], lines[1], want)
	}
	if !strings.HasSuffix(lines[91], "stdout F stop counter=900") {
		t.Errorf("last line %q, want the stop at 900", lines[91])
	}
	st, err := r.ContainerStatus(context.Background(), &runtimeapi.ContainerStatusRequest{ContainerId: id[:12]})
	if err != nil {
		t.Fatal(err)
	}
	if st.Status.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.Status.Reason != "Completed" ||
		!strings.HasPrefix(st.Status.LogPath, filepath.Join(r.cfg.RootDir, "logs", "var", "log", "pods")) {
		t.Errorf("status %v", st.Status)
	}
}

func TestCreateNeedsImageAndSandbox(t *testing.T) {
	ctx := context.Background()
	r := newRuntime(t, "n", t.TempDir(), clockwork.NewFakeClock())
	sb, err := r.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig("p")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, Config: containerConfig("c", "redis", 0, 0)}); status.Code(err) != codes.NotFound {
		t.Errorf("create with an absent image: %v, want NotFound", err)
	}
	if _, err := r.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: "nope", Config: containerConfig("c", "redis", 0, 0)}); status.Code(err) != codes.NotFound {
		t.Errorf("create in an absent sandbox: %v, want NotFound", err)
	}
	if _, err := r.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig("p")}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("second sandbox of the same pod: %v, want AlreadyExists", err)
	}
	st, err := r.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sb.PodSandboxId})
	if err != nil || st.Status.Network.Ip != "10.244.1.2" {
		t.Errorf("sandbox status %v, %v; want IP 10.244.1.2", st, err)
	}
}

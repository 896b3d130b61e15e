package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/internal/testtool"
	"github.com/nodesim/nodesim/sim"
)

// crictlPath finds the crictl binary (go install
// sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0) or skips.
func crictlPath(t *testing.T) string {
	t.Helper()
	return testtool.Need(t, testtool.Crictl)
}

// served is a runtime served on a short socket path under /tmp.
func served(t *testing.T, clock clockwork.Clock) (*Runtime, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "cri")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r, err := New(Config{Node: "node-a", RootDir: dir, Clock: clock, PodCIDR: "10.244.7.0/24",
		Features: Features{RecursiveReadOnlyMounts: true}})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "cri.sock")
	if err := r.Serve(sock); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Errorf("socket %s still there after Close: %v", sock, err)
		}
	})
	return r, sock
}

// TestCrictl drives a served runtime with the real crictl: a pod's whole
// life, images, logs, stats and status.
func TestCrictl(t *testing.T) {
	bin := crictlPath(t)
	clock := clockwork.NewFakeClockAt(sim.Epoch)
	r, sock := served(t, clock)
	dir := filepath.Dir(sock)
	crictl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		full := append([]string{"--runtime-endpoint", "unix://" + sock, "--image-endpoint", "unix://" + sock, "--timeout", "20s"}, args...)
		cmd := exec.CommandContext(ctx, bin, full...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("crictl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	contains := func(what, out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("crictl %s output lacks %q:\n%s", what, w, out)
			}
		}
	}
	contains("version", crictl("version"), "RuntimeName:  containerd", "RuntimeVersion:  2.1.4", "RuntimeApiVersion:  v1")
	r.SetNetworkReady(false)
	contains("info", crictl("info"), `"type": "NetworkReady"`, "NetworkPluginNotReady", `"recursive_read_only_mounts": true`)
	r.SetNetworkReady(true)

	contains("pull", crictl("pull", "busybox:1.37"), "Image is up to date for sha256:")
	contains("images", crictl("images"), "docker.io/library/busybox", "1.37")

	podJSON := filepath.Join(dir, "pod.json")
	ctrJSON := filepath.Join(dir, "ctr.json")
	writeJSON(t, podJSON, map[string]any{
		"metadata":      map[string]any{"name": "web", "namespace": "default", "uid": "web-uid", "attempt": 0},
		"log_directory": "/var/log/pods/default_web_web-uid",
		"labels":        map[string]string{"app": "web"},
	})
	writeJSON(t, ctrJSON, map[string]any{
		"metadata":    map[string]any{"name": "app"},
		"image":       map[string]any{"image": "busybox:1.37"},
		"log_path":    "app/0.log",
		"labels":      map[string]string{"io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "default"},
		"annotations": map[string]string{MemoryRequestAnnotation: "104857600"},
		"linux":       map[string]any{"resources": map[string]any{"memory_limit_in_bytes": 209715200}},
	})
	pod := strings.TrimSpace(crictl("runp", podJSON))
	ctr := strings.TrimSpace(crictl("create", "--no-pull", pod, ctrJSON, podJSON))
	crictl("start", ctr)
	contains("pods", crictl("pods"), "web", "Ready", pod[:13])
	contains("ps", crictl("ps"), "app", "Running", ctr[:13], "web")
	contains("inspectp", crictl("inspectp", pod), `"state": "SANDBOX_READY"`, `"ip": "10.244.7.2"`)

	clock.Advance(5*time.Minute + 35*time.Second)
	inspect := crictl("inspect", ctr)
	contains("inspect", inspect, `"state": "CONTAINER_RUNNING"`, `"counter": 335`, `"logPath": "`+filepath.Join(dir, "logs"))
	logs := crictl("logs", ctr)
	contains("logs", logs, "start counter=0\n", "tick 10\n", "tick 330\n")
	if strings.Contains(logs, "tick 340") {
		t.Errorf("log runs ahead of the clock:\n%s", logs)
	}
	var stats struct {
		Stats []struct {
			Memory struct {
				WorkingSetBytes struct{ Value string } `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(crictl("stats", "-o", "json")), &stats); err != nil {
		t.Fatal(err)
	}
	// 100 MiB + 100 MiB x 335 s / 600 s
	if len(stats.Stats) != 1 || stats.Stats[0].Memory.WorkingSetBytes.Value != "163403093" {
		t.Errorf("stats %+v, want one container at 163345612 bytes", stats)
	}
	crictl("stop", ctr)
	contains("ps -a", crictl("ps", "-a"), "Exited")
	crictl("rm", ctr)
	crictl("stopp", pod)
	crictl("rmp", pod)
	if out := crictl("pods", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("pods after rmp: %q", out)
	}
	crictl("rmi", "busybox:1.37")
	if out := crictl("images", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("images after rmi: %q", out)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesLongSocketPath(t *testing.T) {
	r := newRuntime(t, "n", t.TempDir(), clockwork.NewFakeClock())
	long := "/tmp/" + strings.Repeat("d", 100) + "/cri.sock"
	err := r.Serve(long)
	if err == nil || !strings.Contains(err.Error(), long) || !strings.Contains(err.Error(), "107") {
		t.Fatalf("Serve(%d-byte path): %v, want an error naming the path and the limit", len(long), err)
	}
}

// TestConcurrentGRPCDuringSimulation calls the served runtime over gRPC
// from several goroutines while an entity creates, checkpoints and
// restores containers in virtual time: run with -race.
func TestConcurrentGRPCDuringSimulation(t *testing.T) {
	s := newSimulation(t)
	r, sock := served(t, s.engine.Clock())
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := runtimeapi.NewRuntimeServiceClient(conn)
	images := runtimeapi.NewImageServiceClient(conn)
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		for i := range 20 {
			id, err := podIn(ctx, r, fmt.Sprintf("p%d", i), "c", 0, 0)
			if err != nil {
				return err
			}
			p.Sleep(3 * time.Second)
			loc := filepath.Join(r.CheckpointsDir(), fmt.Sprintf("cp-%d.tar", i))
			if err := checkpoint(ctx, r, id, loc, 0); err != nil {
				return err
			}
			if _, err := r.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id}); err != nil {
				return err
			}
		}
		return nil
	})
	done := make(chan struct{})
	var wg sync.WaitGroup
	callErrs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for {
				select {
				case <-done:
					return
				default:
				}
				list, err := client.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
				if err != nil {
					callErrs <- err
					return
				}
				for _, c := range list.Containers {
					if _, err := client.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.Id, Verbose: true}); err != nil {
						callErrs <- err
						return
					}
				}
				if _, err := client.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{}); err != nil {
					callErrs <- err
					return
				}
				if _, err := images.ListImages(ctx, &runtimeapi.ListImagesRequest{}); err != nil {
					callErrs <- err
					return
				}
			}
		}()
	}
	s.run(10 * time.Minute)
	close(done)
	wg.Wait()
	close(callErrs)
	for err := range callErrs {
		t.Error(err)
	}
	if *errp != nil {
		t.Fatal(*errp)
	}
	if n := len(dirNames(t, r.CheckpointsDir())); n != 20 {
		t.Errorf("%d archives, want 20", n)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	criruntime "github.com/nodesim/nodesim/runtime"
	"github.com/nodesim/nodesim/sim"
)

// checkpointArchive makes a real archive: a container that ran 42.5
// virtual seconds on node-a, checkpointed by its runtime. Its working set
// then is 100 MiB + 100 MiB x 42.5 s / 600 s (request 100 MiB, no limit:
// the ceiling is twice the request) = 112285013 bytes.
func checkpointArchive(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(sim.Epoch)
	r, err := criruntime.New(criruntime.Config{Node: "node-a", RootDir: filepath.Join(t.TempDir(), "node-a"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	sb, err := r.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "counters", Namespace: "default", Uid: "u"}}})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := r.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, Config: &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "counter"}, Image: &runtimeapi.ImageSpec{Image: "busybox"}, LogPath: "counter/0.log",
		Annotations: map[string]string{criruntime.MemoryRequestAnnotation: "104857600"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cc.ContainerId}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(42*time.Second + 500*time.Millisecond)
	loc := filepath.Join(r.CheckpointsDir(), "checkpoint-counters_default-counter-2026-01-01T00:00:42Z.tar")
	if _, err := r.CheckpointContainer(ctx, &runtimeapi.CheckpointContainerRequest{ContainerId: cc.ContainerId, Location: loc}); err != nil {
		t.Fatal(err)
	}
	return loc
}

// inspect runs "checkpoint inspect" and returns its output and exit status.
func inspect(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	cmd := newCheckpointCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetArgs(append([]string{"inspect"}, args...))
	err := cmd.Execute()
	if err == nil {
		return out.String(), exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("checkpoint inspect %v: error %v carries no exit status", args, err)
	}
	return err.Error(), ee.code
}

func TestCheckpointInspect(t *testing.T) {
	loc := checkpointArchive(t)
	out, code := inspect(t, loc)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{
		"Pod:         counters\n", "Namespace:   default\n", "Container:   counter (", "Node:        node-a\n",
		"Checkpoint:  2026-01-01T00:00:42.5Z\n", "Memory:      112285013 bytes (107.1 MiB)\n", "Process:     counter=42 (running 42.5s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, code = inspect(t, "--json", loc)
	var got struct {
		Pod, Namespace, Container, Node string
		CheckpointedAt                  time.Time
		MemoryBytes                     int64
		Process                         struct{ Counter, RunningNanoseconds int64 }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitOK {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
	}
	if got.Pod != "counters" || got.Node != "node-a" || got.Process.Counter != 42 || got.Process.RunningNanoseconds != 42_500_000_000 || got.MemoryBytes != 112285013 {
		t.Errorf("--json gave %+v", got)
	}
}

func TestCheckpointInspectBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	notTar := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(notTar, []byte("apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{notTar}, {filepath.Join(dir, "missing.tar")}, {}, {notTar, notTar}} {
		out, code := inspect(t, args...)
		if code != exitBadInput {
			t.Errorf("inspect %v: exit %d, want 2 (%s)", args, code, out)
		}
	}
	if out, _ := inspect(t, notTar); !strings.Contains(out, notTar) || !strings.Contains(out, "not a tar archive") {
		t.Errorf("message %q should name the file and say it is not a tar archive", out)
	}
	// Through the whole command line too.
	var stderr bytes.Buffer
	if code := runWithStderr(context.Background(), []string{"checkpoint", "inspect", notTar}, &stderr); code != exitBadInput {
		t.Errorf("nodesim checkpoint inspect on a non-archive: exit %d, want 2; stderr %s", code, stderr.String())
	}
}

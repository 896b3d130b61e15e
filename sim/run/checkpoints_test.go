package run

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	criruntime "github.com/nodesim/nodesim/runtime"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// TestRestoredContainerContinuesExactly runs the checkpoint-restore
// scenario and reads the restored container's log on the other node: it
// starts from the archive's counter and goes on ticking from there, one
// per virtual second, with no tick repeated or lost.
func TestRestoredContainerContinuesExactly(t *testing.T) {
	sc, w := scenarioWorld(t, "../../scenarios/checkpoint-restore.yaml")
	ctx := context.Background()
	if err := w.engine.Run(w.ctx, w.engine.Start().Add(sc.Duration)); err != nil {
		t.Fatal(err)
	}
	cp, ok := w.faults.checkpoints["default/counter-0/app"]
	if !ok {
		t.Fatal("the checkpoint step made no archive")
	}
	archive, err := criruntime.ReadArchive(cp.path)
	if err != nil {
		t.Fatal(err)
	}
	if archive.Node != "a-0" || archive.Pod != "counter-0" || archive.Container != "app" {
		t.Fatalf("archive of %s/%s on %s", archive.Pod, archive.Container, archive.Node)
	}
	if dir := filepath.Dir(cp.path); filepath.Base(dir) != "checkpoints" {
		t.Fatalf("archive at %s", cp.path)
	}

	target := w.fleet.members["b-0"]
	list, err := target.runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil || len(list.GetContainers()) != 1 {
		t.Fatalf("containers on b-0: %v %v", list, err)
	}
	restored := list.GetContainers()[0]
	enCtx := sim.WithEntity(ctx, target.kubelet.Entity())
	state, err := target.runtime.ProcessState(enCtx, restored.GetId())
	if err != nil {
		t.Fatal(err)
	}
	// Restored at 5m: one more per virtual second since, as of the node's
	// own clock.
	since := target.kubelet.Entity().Since() - 5*time.Minute
	if want := archive.Process.Counter + int64(since/time.Second); state.Counter != want {
		t.Fatalf("restored counter %d after %s, want %d (archive %d + %d s)", state.Counter, since, want, archive.Process.Counter, since/time.Second)
	}
	log, err := target.runtime.ContainerLog(enCtx, restored.GetId())
	if err != nil {
		t.Fatal(err)
	}
	text := string(log)
	restoreLine := fmt.Sprintf("restore counter=%d", archive.Process.Counter)
	i := strings.Index(text, restoreLine)
	if i < 0 {
		t.Fatalf("no %q in the restored log:\n%s", restoreLine, text)
	}
	// The ticks after the restore are the archive's count going on.
	next := (archive.Process.Counter/10 + 1) * 10
	for n := next; n < next+100; n += 10 {
		if !strings.Contains(text[i:], fmt.Sprintf("stdout F tick %d\n", n)) {
			t.Fatalf("tick %d missing after the restore:\n%s", n, text[i:])
		}
	}
	if strings.Count(text, fmt.Sprintf("stdout F tick %d\n", next-10)) != 1 {
		t.Fatalf("tick %d repeated or lost across the restore:\n%s", next-10, text)
	}
}

// scenarioWorld puts an example scenario on a fresh embedded API server,
// with the control plane and every node's endpoints, for a test to run
// and look into; everything is stopped when the test ends.
func scenarioWorld(t *testing.T, path string) (*scenarios.Scenario, *world) {
	t.Helper()
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	server, err := apiserver.Start(context.Background(), apiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Stop() })
	w, err := newWorld(context.Background(), sc, server, sim.Config{Seed: sc.Seed, Trace: io.Discard},
		worldOptions{controllers: allControllers(t), stateDir: t.TempDir(), endpoints: server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return sc, w
}

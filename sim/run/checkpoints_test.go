package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
		worldOptions{controllers: runControllers(t), stateDir: t.TempDir(), endpoints: server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return sc, w
}

// TestFIFOImageDoesNotFreezeTheFleet: a pod whose image is a FIFO's path
// (a "checkpoint archive" that would block whoever opens it) fails to
// start on its node, with a ContainerRestoreFailed record, while the
// engine goes on: the run reaches its end and the other node keeps
// renewing its lease.
func TestFIFOImageDoesNotFreezeTheFleet(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "f.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	file := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: fifo}
spec:
  duration: 3m
  nodePools:
  - {name: a, count: 2}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, w := scenarioWorld(t, file)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "frozen"},
		Spec:       corev1.PodSpec{NodeName: "a-0", Containers: []corev1.Container{{Name: "c", Image: fifo}}},
	}
	if _, err := w.client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	done := make(chan error, 1)
	go func() { done <- w.engine.Run(w.ctx, w.engine.Start().Add(sc.Duration)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the engine is stuck on the FIFO")
	}
	var failed, renewed bool
	for _, r := range w.engine.Tracer().Records() {
		fmt.Fprintf(&buf, "%+v\n", r)
		if r.Event == sim.EventContainerRestoreFailed && r.Pod == "default/frozen" && strings.Contains(r.Error, "named pipe") {
			failed = true
		}
	}
	lease, err := w.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), "a-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The FIFO's own node renewed its lease in the run's last minute.
	renewed = lease.Spec.RenewTime != nil && lease.Spec.RenewTime.Time.After(w.engine.Start().Add(sc.Duration-time.Minute))
	if !failed || !renewed {
		t.Fatalf("restore failure traced %v, leases renewed %v; trace:\n%s", failed, renewed, buf.String())
	}
}

package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/sim"
)

// archivePath is where the kubelet puts a checkpoint of pod/ctr at t.
func archivePath(r *Runtime, pod, ctr string, t time.Time) string {
	return filepath.Join(r.CheckpointsDir(), fmt.Sprintf("checkpoint-%s_default-%s-%s.tar", pod, ctr, t.UTC().Format(time.RFC3339)))
}

func checkpoint(ctx context.Context, r *Runtime, id, loc string, timeout int64) error {
	_, err := r.CheckpointContainer(ctx, &runtimeapi.CheckpointContainerRequest{ContainerId: id, Location: loc, Timeout: timeout})
	return err
}

// TestCheckpointArchive checks what an archive holds, its modes, the
// virtual time it takes, and that the container keeps running.
func TestCheckpointArchive(t *testing.T) {
	s := newSimulation(t)
	r := newRuntime(t, "node-a", t.TempDir(), s.engine.Clock())
	const request, limit = 512 << 20, 2 * gib
	var id, loc string
	var began, ended time.Time
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		var err error
		if id, err = podIn(ctx, r, "counters", "counter", request, limit); err != nil {
			return err
		}
		p.Sleep(5 * time.Minute)
		began = p.Now()
		loc = archivePath(r, "counters", "counter", began)
		if err := checkpoint(ctx, r, id, loc, 0); err != nil {
			return err
		}
		ended = p.Now()
		return nil
	})
	s.run(time.Hour)
	if *errp != nil {
		t.Fatal(*errp)
	}
	wantMemory := int64(request + (limit-request)/2)
	if got, want := ended.Sub(began), CheckpointDuration(wantMemory); got != want || want != DefaultCheckpointBase+1250*time.Millisecond {
		t.Errorf("checkpoint took %v, want %v (100 ms + 1.25 GiB at 1 GiB/s)", got, want)
	}
	for path, want := range map[string]os.FileMode{r.CheckpointsDir(): os.ModeDir | 0o700, loc: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
		}
	}
	entries, files := readTar(t, loc)
	wantEntries := []string{ConfigDumpFile, SpecDumpFile, StatusDumpFile, StatsDumpFile, CheckpointDirectory + "/", PagesFile, ProcessFile, RootFsDiffTar, ContainerLogFile}
	if !slices.Equal(entries, wantEntries) {
		t.Errorf("entries %v, want %v", entries, wantEntries)
	}
	if fi, _ := os.Stat(loc); fi.Size() > 64<<10 {
		t.Errorf("archive is %d bytes: memory pages must be a sample", fi.Size())
	}
	var cfg map[string]any
	if err := json.Unmarshal(files[ConfigDumpFile], &cfg); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"id": id, "io.kubernetes.pod.name": "counters", "io.kubernetes.pod.namespace": "default",
		"io.kubernetes.container.name": "counter", "rootfsImageName": "busybox", "nodesim.dev/node": "node-a",
		"checkpointedTime": began.UTC().Format(time.RFC3339Nano)} {
		if cfg[k] != want {
			t.Errorf("config.dump %s = %v, want %q", k, cfg[k], want)
		}
	}
	var st runtimeapi.ContainerStatus
	if err := json.Unmarshal(files[StatusDumpFile], &st); err != nil || st.Id != id || st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("status.dump %s: %v", files[StatusDumpFile], err)
	}
	if !bytes.Contains(files[ContainerLogFile], []byte("stdout F tick 300\n")) {
		t.Errorf("container.log lacks tick 300:\n%s", files[ContainerLogFile])
	}
	a, err := ReadArchive(loc)
	if err != nil {
		t.Fatal(err)
	}
	if a.Pod != "counters" || a.Namespace != "default" || a.Container != "counter" || a.Node != "node-a" ||
		!a.CheckpointedAt.Equal(began) || a.MemoryBytes != wantMemory ||
		a.Process != (ProcessState{Counter: 300, RunningNanoseconds: int64(5 * time.Minute)}) {
		t.Errorf("archive %+v", a)
	}
	ps, err := r.ProcessState(context.Background(), id)
	if err != nil || ps.Counter < 301 {
		t.Errorf("after the checkpoint the counter is %d (%v): the container must keep running", ps.Counter, err)
	}
}

// readTar lists a tar's entries and returns its files' contents.
func readTar(t *testing.T, path string) ([]string, map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, files
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		wantMode := int64(0o600)
		if h.Typeflag == tar.TypeDir {
			wantMode = 0o700
		}
		if h.Mode != wantMode {
			t.Errorf("entry %s mode %o, want %o", h.Name, h.Mode, wantMode)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
}

func TestCheckpointLocationOutsideCheckpointsDirRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r := newRuntime(t, "n", dir, clockwork.NewFakeClockAt(sim.Epoch))
	id, err := podIn(ctx, r, "p", "c", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cp := r.CheckpointsDir()
	for _, loc := range []string{
		"",
		"checkpoint.tar",
		"../checkpoint.tar",
		filepath.Join(cp, "..", "x.tar"),
		cp + "/../../x.tar",
		filepath.Join(cp, "sub", "x.tar"),
		filepath.Join(dir, "x.tar"),
		filepath.Join(cp, ".hidden.tar"),
		cp,
		cp + "/",
		"/tmp/x.tar",
	} {
		err := checkpoint(ctx, r, id, loc, 0)
		if c := status.Code(err); c != codes.PermissionDenied && c != codes.InvalidArgument {
			t.Errorf("location %q: %v, want refused", loc, err)
		}
	}
	var found []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".tar") {
			found = append(found, path)
		}
		return nil
	})
	if len(found) > 0 {
		t.Errorf("refused checkpoints left files: %v", found)
	}
	// A file directly in the checkpoints dir is fine.
	if err := checkpoint(ctx, r, id, filepath.Join(cp, "ok.tar"), 0); err != nil {
		t.Errorf("a location in %s: %v", cp, err)
	}
}

// TestCheckpointTimeout: a timeout shorter than the checkpoint's duration
// fails after waiting the timeout, and leaves no file.
func TestCheckpointTimeout(t *testing.T) {
	s := newSimulation(t)
	r := newRuntime(t, "node-a", t.TempDir(), s.engine.Clock())
	var waited time.Duration
	var cpErr, okErr error
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		id, err := podIn(ctx, r, "big", "java", 8*gib, 8*gib) // 100 ms + 8 s
		if err != nil {
			return err
		}
		began := p.Now()
		cpErr = checkpoint(ctx, r, id, filepath.Join(r.CheckpointsDir(), "short.tar"), 5)
		waited = p.Now().Sub(began)
		okErr = checkpoint(ctx, r, id, filepath.Join(r.CheckpointsDir(), "long.tar"), 9)
		return nil
	})
	s.run(time.Minute)
	if *errp != nil {
		t.Fatal(*errp)
	}
	if status.Code(cpErr) != codes.DeadlineExceeded || waited != 5*time.Second {
		t.Errorf("5 s timeout on an 8.1 s checkpoint: %v after %v, want DeadlineExceeded after 5s", cpErr, waited)
	}
	if okErr != nil {
		t.Errorf("9 s timeout: %v", okErr)
	}
	if _, err := os.Stat(filepath.Join(r.CheckpointsDir(), "short.tar")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("timed-out checkpoint left a file: %v", err)
	}
	names := dirNames(t, r.CheckpointsDir())
	if fmt.Sprint(names) != "[long.tar]" {
		t.Errorf("checkpoints dir holds %v, want [long.tar]", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestCheckpointFailureLeavesNothing: an injected failure half-way
// through writing fails the call with Internal and leaves no file, not
// even the temporary one; clearing it makes checkpoints work again.
func TestCheckpointFailureLeavesNothing(t *testing.T) {
	ctx := context.Background()
	r := newRuntime(t, "n", t.TempDir(), clockwork.NewFakeClockAt(sim.Epoch))
	id, err := podIn(ctx, r, "p", "c", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	r.SetCheckpointFailure(errors.New("no space left on device"))
	err = checkpoint(ctx, r, id, filepath.Join(r.CheckpointsDir(), "x.tar"), 0)
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("checkpoint with an injected failure: %v", err)
	}
	if names := dirNames(t, r.CheckpointsDir()); len(names) != 0 {
		t.Errorf("a failed checkpoint left %v", names)
	}
	r.SetCheckpointFailure(nil)
	if err := checkpoint(ctx, r, id, filepath.Join(r.CheckpointsDir(), "x.tar"), 0); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint(ctx, r, "missing", filepath.Join(r.CheckpointsDir(), "y.tar"), 0); status.Code(err) != codes.NotFound {
		t.Errorf("checkpoint of a missing container: %v, want NotFound", err)
	}
}

// TestMutexFreeWhileCheckpointing: while an entity waits out a
// checkpoint, other callers (a barrier here, gRPC handlers in a run) get
// through; a held mutex would deadlock this test.
func TestMutexFreeWhileCheckpointing(t *testing.T) {
	s := newSimulation(t)
	r := newRuntime(t, "node-a", t.TempDir(), s.engine.Clock())
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		id, err := podIn(ctx, r, "big", "java", 4*gib, 4*gib)
		if err != nil {
			return err
		}
		return checkpoint(ctx, r, id, filepath.Join(r.CheckpointsDir(), "x.tar"), 0)
	})
	listed := -1
	s.engine.At(s.engine.Now().Add(3*time.Second), func(time.Time) {
		resp, err := r.ListContainers(context.Background(), &runtimeapi.ListContainersRequest{})
		if err == nil {
			listed = len(resp.Containers)
		}
	})
	s.run(time.Minute)
	if *errp != nil {
		t.Fatal(*errp)
	}
	if listed != 1 {
		t.Fatalf("listed %d containers during the checkpoint, want 1", listed)
	}
}

// TestRestoreContinuesOnAnotherRuntime checkpoints a container on node-a
// and restores it on node-b: the counter continues from the exact running
// time in the archive, and the log shows it.
func TestRestoreContinuesOnAnotherRuntime(t *testing.T) {
	s := newSimulation(t)
	dir := t.TempDir()
	a := newRuntime(t, "node-a", dir, s.engine.Clock())
	b := newRuntime(t, "node-b", dir, s.engine.Clock())
	loc := filepath.Join(a.CheckpointsDir(), "checkpoint-counters_default-counter-x.tar")
	var restoredAt time.Time
	var restoredID string
	var after ProcessState
	var originalID string
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		var err error
		if originalID, err = podIn(ctx, a, "counters", "counter", 0, 0); err != nil {
			return err
		}
		p.Sleep(73*time.Second + 400*time.Millisecond)
		return checkpoint(ctx, a, originalID, loc, 0)
	})
	s.run(10 * time.Minute)
	if *errp != nil {
		t.Fatal(*errp)
	}
	// Without an entity the runtime reads the engine's clock, 10 minutes in.
	before, err := a.ProcessState(context.Background(), originalID)
	if err != nil {
		t.Fatal(err)
	}
	errp = s.process("node-b", func(ctx context.Context, p *sim.Proc) error {
		sb, err := b.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig("counters")})
		if err != nil {
			return err
		}
		cc, err := b.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, Config: containerConfig("counter", loc, 0, 0)})
		if err != nil {
			return err
		}
		restoredID = cc.ContainerId
		if _, err := b.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cc.ContainerId}); err != nil {
			return err
		}
		restoredAt = p.Now()
		p.Sleep(20 * time.Second)
		after, err = b.ProcessState(ctx, cc.ContainerId)
		return err
	})
	s.run(time.Minute)
	if *errp != nil {
		t.Fatal(*errp)
	}
	if before.Counter < 500 { // the original kept running for the rest of the 10 minutes
		t.Errorf("original's counter %d: it must keep running after the checkpoint", before.Counter)
	}
	if want := (ProcessState{Counter: 93, RunningNanoseconds: int64(93*time.Second + 400*time.Millisecond)}); after != want {
		t.Errorf("restored state after 20 s %+v, want %+v", after, want)
	}
	log, err := b.ContainerLog(context.Background(), restoredID)
	if err != nil {
		t.Fatal(err)
	}
	text := string(log)
	restoreLine := restoredAt.UTC().Format(time.RFC3339Nano) + " stdout F restore counter=73 from checkpoint of default/counters/counter on node node-a"
	tick80 := restoredAt.Add(6*time.Second+600*time.Millisecond).UTC().Format(time.RFC3339Nano) + " stdout F tick 80\n"
	for _, want := range []string{"stdout F start counter=0\n", "stdout F tick 70\n", restoreLine, tick80, "stdout F tick 90\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("restored log lacks %q:\n%s", want, text)
		}
	}
	// The log reads up to the engine's clock: ticks 10, 20, ... each once.
	var ticks []string
	for _, line := range strings.Split(text, "\n") {
		if _, n, ok := strings.Cut(line, " stdout F tick "); ok {
			ticks = append(ticks, n)
		}
	}
	for i, n := range ticks {
		if n != fmt.Sprint(10*(i+1)) {
			t.Fatalf("restored log repeats or skips ticks: %v\n%s", ticks, text)
		}
	}
	st, err := b.ContainerStatus(context.Background(), &runtimeapi.ContainerStatusRequest{ContainerId: restoredID, Verbose: true})
	if err != nil || st.Status.Image.Image != "busybox" || !strings.Contains(st.Info["info"], loc) {
		t.Errorf("restored status %v, %v", st, err)
	}
}

func TestRestoreFromBadArchiveFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := newRuntime(t, "n", dir, clockwork.NewFakeClockAt(sim.Epoch))
	sb, err := r.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig("p")})
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.tar")
	if err := os.WriteFile(bad, []byte("not a tar"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = r.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, Config: containerConfig("c", bad, 0, 0)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not a tar archive") {
		t.Fatalf("restore from a non-archive: %v", err)
	}
}

// TestThreeCheckpointsInOneSecond: the kubelet names archives by the
// second, so three checkpoints of a container within one second share a
// name. The first writes its archive; the later ones fail with
// AlreadyExists, and the first archive is left as it was written, never
// replaced by a later one.
func TestThreeCheckpointsInOneSecond(t *testing.T) {
	s := newSimulation(t)
	r := newRuntime(t, "node-a", t.TempDir(), s.engine.Clock())
	var errs []error
	var loc string
	var firstState ProcessState
	errp := s.process("node-a", func(ctx context.Context, p *sim.Proc) error {
		id, err := podIn(ctx, r, "p", "c", 0, 0)
		if err != nil {
			return err
		}
		p.Sleep(time.Minute)
		loc = archivePath(r, "p", "c", p.Now())
		for range 3 {
			errs = append(errs, checkpoint(ctx, r, id, loc, 0))
			if len(errs) == 1 {
				a, err := ReadArchive(loc)
				if err != nil {
					return err
				}
				firstState = a.Process
			}
		}
		return nil
	})
	s.run(time.Hour)
	if *errp != nil {
		t.Fatal(*errp)
	}
	if errs[0] != nil {
		t.Fatalf("first checkpoint: %v", errs[0])
	}
	for i, err := range errs[1:] {
		if status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("checkpoint %d in the same second: %v, want AlreadyExists", i+2, err)
		}
	}
	a, err := ReadArchive(loc)
	if err != nil {
		t.Fatal(err)
	}
	if a.Process != firstState {
		t.Errorf("archive holds %+v, want the first checkpoint's %+v", a.Process, firstState)
	}
	if names := dirNames(t, r.CheckpointsDir()); len(names) != 1 {
		t.Errorf("checkpoints dir holds %v, want only the archive", names)
	}
}

// TestRestoreFromFIFOFails: a pod whose image is a FIFO's path fails to
// restore at once, without opening it (with no writer, opening it would
// block this test and, in a run, the whole engine).
func TestRestoreFromFIFOFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := newRuntime(t, "n", dir, clockwork.NewFakeClockAt(sim.Epoch))
	sb, err := r.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig("p")})
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "f.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err = r.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, Config: containerConfig("c", fifo, 0, 0)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "is a named pipe (FIFO)") {
		t.Fatalf("restore from a FIFO: %v", err)
	}
}

// TestStalledArchiveWriteFailsTheCheckpoint: a disk that stalls past the
// host bound fails the checkpoint (the caller is not held), and the
// archive the abandoned write publishes late is removed, so that no
// archive exists for a checkpoint reported failed.
func TestStalledArchiveWriteFailsTheCheckpoint(t *testing.T) {
	ctx := context.Background()
	stall := make(chan struct{})
	finished := make(chan struct{})
	bounded := sim.BoundedHost(50 * time.Millisecond)
	r, err := New(Config{Node: "n", RootDir: filepath.Join(t.TempDir(), "n"), Clock: clockwork.NewFakeClockAt(sim.Epoch), PodCIDR: "10.244.1.0/24",
		HostIO: func(what string, fn func() error) error {
			if !strings.HasPrefix(what, "write checkpoint archive") {
				return fn()
			}
			return bounded(what, func() error {
				<-stall // the disk stalls
				defer close(finished)
				return fn()
			})
		}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := podIn(ctx, r, "p", "c", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	loc := filepath.Join(r.CheckpointsDir(), "x.tar")
	err = checkpoint(ctx, r, id, loc, 0)
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "did not finish in time") {
		t.Fatalf("checkpoint on a stalled disk: %v, want a failure", err)
	}
	close(stall)
	<-finished
	if names := dirNames(t, r.CheckpointsDir()); len(names) != 0 {
		t.Errorf("the abandoned write left %v", names)
	}
}

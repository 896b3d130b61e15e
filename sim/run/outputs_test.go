package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

// TestRelativeOutDir runs the checkpoint-restore example with a relative
// output directory, as the default nodesim-out/NAME is, and with a
// relative --state-dir: the checkpoint and the restore happen (they
// failed with "not an absolute path" before), and no step is reported
// failed.
func TestRelativeOutDir(t *testing.T) {
	sc, err := scenarios.Load("../../scenarios/checkpoint-restore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, stateDir, archives string }{
		{"default state dir", "", filepath.Join("nodesim-out", sc.Name, StateDirName)},
		{"relative state dir", "state", "state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			s, err := Run(context.Background(), sc, Options{OutDir: filepath.Join("nodesim-out", sc.Name), StateDir: tc.stateDir})
			if err != nil {
				t.Fatal(err)
			}
			if s.Events[sim.EventCheckpointCreated] != 1 || s.Events[sim.EventContainerRestored] != 1 || len(s.FailedSteps) != 0 {
				t.Fatalf("events %v, failed steps %+v: want one checkpoint, one restore, nothing failed", s.Events, s.FailedSteps)
			}
			archives, _ := filepath.Glob(filepath.Join(tc.archives, "a-0", "checkpoints", "*.tar"))
			if len(archives) != 1 {
				t.Errorf("archives %v, want one", archives)
			}
		})
	}
}

// TestFailedStepsInSummary: a run with no expectations whose checkpoint
// times out (and so whose restore has nothing to restore) says so in its
// summary and its report, and the trace has a record of each step that
// did not happen.
func TestFailedStepsInSummary(t *testing.T) {
	sc, err := scenarios.Parse("t.yaml", []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 3m
  nodeEndpoints: false
  nodePools:
  - {name: a, count: 2}
  workloads:
  - name: big
    replicas: 1
    template:
      spec:
        containers:
        - name: app
          image: busybox:1.36
          resources: {requests: {memory: 20Gi}, limits: {memory: 30Gi}}
  timeline:
  - {at: 1m, do: checkpoint, pod: default/big-0, container: app, timeout: 1s}
  - {at: 2m, do: restore, pod: default/big-0, container: app, node: a-1}
`))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	s, err := Run(context.Background(), sc, Options{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Passed() || len(s.FailedSteps) != 2 {
		t.Fatalf("passed %v, failed steps %+v: want 2", s.Passed(), s.FailedSteps)
	}
	if f := s.FailedSteps[0]; f.Event != sim.EventCheckpointFailed || f.Pod != "default/big-0" || !strings.Contains(f.Error, "timed out") {
		t.Errorf("first failed step %+v, want the checkpoint's timeout", f)
	}
	if f := s.FailedSteps[1]; f.Event != sim.EventFaultEnded || f.Type != "restore" || !strings.Contains(f.Error, "no checkpoint") {
		t.Errorf("second failed step %+v, want the restore", f)
	}
	summary, err := os.ReadFile(filepath.Join(out, SummaryFile))
	if err != nil || !strings.Contains(string(summary), `"failedSteps": [`) {
		t.Errorf("summary.json lacks failedSteps: %v\n%s", err, summary)
	}
	page, err := os.ReadFile(filepath.Join(out, ReportFile))
	if err != nil || !strings.Contains(string(page), "2 timeline steps could not happen") || !strings.Contains(string(page), "timed out") {
		t.Errorf("report.html does not list the failed steps: %v", err)
	}
}

// TestOutDirProblemsAreInputErrors: an --out that is a regular file, or
// that is being written by another run, is the user's to fix (exit 2),
// found before anything starts.
func TestOutDirProblemsAreInputErrors(t *testing.T) {
	sc, err := scenarios.Parse("t.yaml", []byte("apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec:\n  duration: 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var ie *InputError
	if _, err := Run(context.Background(), sc, Options{OutDir: file}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "is a regular file, not a directory") {
		t.Errorf("--out a file: %v, want an InputError", err)
	}
	busy := t.TempDir()
	l, _, err := lockDir(busy, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	if _, err := Run(context.Background(), sc, Options{OutDir: busy}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "another nodesim run") {
		t.Errorf("--out in use: %v, want an InputError", err)
	}
}

// TestStaleLeftoversRemoved: what a killed run left (temporary folders
// whose lock no process holds, half-written outputs) is removed by the
// next run; a live process's folder and a folder nodesim did not lock are
// left alone.
func TestStaleLeftoversRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := filepath.Join(tmp, "nodesim-run-123")
	if err := os.MkdirAll(filepath.Join(dead, "apiserver"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A dead process's lock: its pid, no flock held.
	if err := os.WriteFile(filepath.Join(dead, LockFile), []byte(strconv.Itoa(1<<22)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unlocked := filepath.Join(tmp, "nodesim-apiserver-456")
	if err := os.Mkdir(unlocked, 0o700); err != nil {
		t.Fatal(err)
	}
	live, remove, err := TempDir("state")
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	removed := RemoveStaleTempDirs()
	if len(removed) != 1 || removed[0] != dead {
		t.Errorf("removed %v, want only %s", removed, dead)
	}
	for _, dir := range []string{live, unlocked} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}

	out := t.TempDir()
	stale := filepath.Join(out, "."+TraceFile+".tmp-123")
	if err := os.WriteFile(stale, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := prepareOutDir(out)
	if err != nil {
		t.Fatal(err)
	}
	l.release()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", stale, err)
	}
}

// TestMemoryEstimateRefuses: a fleet far past this machine's memory is
// refused before it starts, with the figure.
func TestMemoryEstimateRefuses(t *testing.T) {
	if _, ok := memoryAvailable(); !ok {
		t.Skip("no /proc/meminfo")
	}
	sc, err := scenarios.Parse("t.yaml", []byte(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: huge}
spec:
  duration: 1m
  nodePools:
  - {name: a, count: 1000000}
  workloads:
  - {name: w, replicas: 1000000, template: {spec: {containers: [{name: a, image: b}]}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), sc, Options{OutDir: t.TempDir()})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "needs about 366.7 GiB of memory (1000000 nodes at most, 1000000 pods)") {
		t.Fatalf("err = %v, want the memory figure", err)
	}
}

// TestLongSetUpHonoursCancel: the set-up of a large fleet and the
// scheduling of a long timeline stop as soon as their context is done.
func TestLongSetUpHonoursCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: nodesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec:\n  duration: 100h\n  nodeEndpoints: false\n  nodePools:\n  - {name: a, count: 1000000}\n  timeline:\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "  - {at: %ds, do: cordon, nodes: {fraction: 0.5}}\n", i)
	}
	sc, err := scenarios.Parse("t.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	e, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &world{sc: sc, engine: e, tracker: newTracker()}
	w.observer = newObserver(w.tracker, e)
	w.faults = newFaults(w)
	if _, err := newFleet(ctx, sc, e, func(string) (node.Clients, error) { return node.Clients{}, nil }, w.observer, worldOptions{stateDir: t.TempDir()}, w.faults); !errors.Is(err, context.Canceled) {
		t.Errorf("newFleet of a million nodes, cancelled: %v", err)
	}
	if err := w.faults.schedule(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("schedule, cancelled: %v", err)
	}
}

// TestAddressRangesHeld: a fleet's address range stays held from the
// moment it is chosen, on every port its pools use, so that runs choosing
// at the same time never share one; a fleet past 65,535 nodes holds every
// /16 it spans.
func TestAddressRangesHeld(t *testing.T) {
	ports := []int32{41250, 41251} // fixed ports: the addresses are what is reserved
	type res struct {
		base byte
		held map[string]net.Listener
	}
	results := make(chan res, 8)
	for range 8 {
		go func() {
			base, held, err := reserveAddresses(ports, 3)
			if err != nil {
				t.Error(err)
			}
			results <- res{base, held}
		}()
	}
	seen := map[byte]bool{}
	for range 8 {
		r := <-results
		if seen[r.base] {
			t.Errorf("range 127.%d chosen twice", r.base)
		}
		seen[r.base] = true
		for _, ln := range r.held {
			defer ln.Close()
		}
	}
	base, held, err := reserveAddresses(ports, 70000)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	if len(held) != 8 || seen[base] || seen[base+1] {
		t.Errorf("a 70,000-node fleet at 127.%d holds %d ranges, want 2 free ones", base, len(held))
	}
}

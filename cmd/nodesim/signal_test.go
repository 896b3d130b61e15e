package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/klog/v2"
)

// The test binary runs as nodesim itself when this variable is set (see
// TestMain), so that signal tests can interrupt a real process.
const asNodesim = "NODESIM_TEST_AS_MAIN"

// TestInterruptedRunExits13xCleanly interrupts a running `nodesim run` with
// SIGINT and SIGTERM: it stops within seconds with 130 / 143, says why,
// prints no goroutine dump, and leaves no temporary folder or half-written
// trace behind.
func TestInterruptedRunExits13xCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodesim processes")
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			out := filepath.Join(t.TempDir(), "out")
			path := writeScenario(t, strings.Replace(runHeader, "duration: 2m", "duration: 24h", 1))
			cmd := exec.Command(os.Args[0], "run", path, "--out", out, "--pace", "1X")
			cmd.Env = append(os.Environ(), asNodesim+"=1", "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Running: the nodes' state dir exists once the fleet is up.
			waitFor(t, 60*time.Second, func() bool { _, err := os.Stat(filepath.Join(out, "kubelet", "p-0")); return err == nil })
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 30 s after %s; stderr:\n%s", tc.name, stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit %v, want %d; stderr:\n%s", err, tc.code, stderr.String())
			}
			if s := stderr.String(); !strings.Contains(s, "interrupted by "+tc.name) || strings.Contains(s, "goroutine ") {
				t.Errorf("stderr:\n%s", s)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "nodesim-*")); len(left) > 0 {
				t.Errorf("left in TMPDIR: %v", left)
			}
			if left, _ := filepath.Glob(filepath.Join(out, ".*.tmp-*")); len(left) > 0 {
				t.Errorf("left in the output dir: %v", left)
			}
		})
	}
}

// TestKilledRunLeftoversRemoved: after a SIGKILL, the next nodesim run
// removes the temporary folder the killed one left.
func TestKilledRunLeftoversRemoved(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodesim processes")
	}
	tmp := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	path := writeScenario(t, strings.Replace(runHeader, "duration: 2m", "duration: 24h", 1))
	cmd := exec.Command(os.Args[0], "run", path, "--out", out, "--pace", "1X")
	cmd.Env = append(os.Environ(), asNodesim+"=1", "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() bool { _, err := os.Stat(filepath.Join(out, "kubelet", "p-0")); return err == nil })
	cmd.Process.Kill()
	cmd.Wait()
	left, _ := filepath.Glob(filepath.Join(tmp, "nodesim-*"))
	if len(left) == 0 {
		t.Fatal("the killed run left nothing: the test shows nothing")
	}
	stale, _ := filepath.Glob(filepath.Join(out, ".*.tmp-*"))
	if len(stale) == 0 {
		t.Fatal("the killed run left no temporary trace")
	}
	again := exec.Command(os.Args[0], "run", writeScenario(t, runHeader), "--out", out)
	again.Env = append(os.Environ(), asNodesim+"=1", "TMPDIR="+tmp)
	if b, err := again.CombinedOutput(); err != nil {
		t.Fatalf("second run: %v\n%s", err, b)
	}
	for _, p := range append(left, stale...) {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after the next run: %v", p, err)
		}
	}
}

// TestRunStartProblemsExitTwo: an --out that is a regular file, or a
// --metrics-addr whose port is taken, are start-up problems: exit 2, not 1.
func TestRunStartProblemsExitTwo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	path := writeScenario(t, runHeader)
	for _, args := range [][]string{
		{"run", path, "--out", file},
		{"run", path, "--out", filepath.Join(file, "sub")},
		{"run", path, "--out", t.TempDir(), "--metrics-addr", taken.Addr().String()},
	} {
		var stderr bytes.Buffer
		if code := runWithStderr(context.Background(), args, &stderr); code != exitBadInput {
			t.Errorf("nodesim %s: exit %d, want 2; stderr %s", strings.Join(args, " "), code, stderr.String())
		}
	}
}

// TestInspectRefusesAFIFO: `nodesim checkpoint inspect` of a FIFO exits 2
// at once, never opening it (which would block with no writer).
func TestInspectRefusesAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "f.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var stderr bytes.Buffer
	if code := runWithStderr(context.Background(), []string{"checkpoint", "inspect", fifo}, &stderr); code != exitBadInput ||
		!strings.Contains(stderr.String(), "is a named pipe (FIFO)") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the FIFO", code, stderr.String())
	}
}

// TestInterruptDuringValidation: an interrupt while a large scenario is
// still being validated ends the command at once with 130.
func TestInterruptDuringValidation(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Replace(runHeader, "duration: 2m", "duration: 100h", 1) + "  timeline:\n")
	for i := range 100000 {
		b.WriteString("  - {at: " + strconv.Itoa(i) + "s, do: cordon}\n")
	}
	path := writeScenario(t, b.String())
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(interrupted{syscall.SIGINT}) // as the first SIGINT does
	var stderr bytes.Buffer
	if code := runWithStderr(ctx, []string{"run", path, "--out", t.TempDir()}, &stderr); code != 130 || !strings.Contains(stderr.String(), "interrupted by SIGINT") {
		t.Fatalf("exit %d, stderr %q; want 130", code, stderr.String())
	}
}

// TestServeInterruptedWhileStarting sends SIGINT to `nodesim serve` at
// moments of its start-up (the API server's post-start hooks, etcd, the
// fleet): each time it stops within seconds, with 130 before it serves
// (0 after: SIGINT is how serve is stopped), stderr holds nothing but
// nodesim's own lines (no goroutine dump, no library errors), nothing is
// left in TMPDIR, and --log-file kept the libraries' log.
func TestServeInterruptedWhileStarting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodesim processes")
	}
	for _, delay := range []time.Duration{100 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			tmp := t.TempDir()
			logFile := filepath.Join(t.TempDir(), "kube.log")
			cmd := exec.Command(os.Args[0], "serve", "--nodes", "3", "--log-file", logFile)
			cmd.Env = append(os.Environ(), asNodesim+"=1", "TMPDIR="+tmp)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			time.Sleep(delay)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(30 * time.Second):
				cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, for the failure message
				<-exited
				t.Fatalf("still running 30 s after SIGINT; stderr:\n%s", stderr.String())
			}
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
					// SIGINT before main installed its handler (the
					// packages' init takes a while): the shell sees 130,
					// and nothing existed yet to clean up.
					code = 130
				}
			} else if err != nil {
				t.Fatal(err)
			}
			serving := strings.Contains(stdout.String(), "nodesim: running")
			if code != 130 && !(serving && code == 0) {
				t.Errorf("exit %d, want 130 (or 0 once serving; serving: %v); stderr:\n%s", code, serving, stderr.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if line != "" && !strings.HasPrefix(line, "nodesim: ") {
					t.Errorf("stderr has a line not nodesim's: %q", line)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
				t.Errorf("left in TMPDIR: %v", left)
			}
			if fi, err := os.Stat(logFile); err == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("--log-file: mode %v, want 0600", fi.Mode())
			} else if err != nil && delay >= time.Second {
				t.Errorf("--log-file: %v", err)
			}
		})
	}
}

// TestLibraryFatalExitsCleanly: a library's klog.Fatal (kube-apiserver's,
// when a post-start hook fails on an overloaded machine) stops the command
// through its context, which cleans up and exits 2 with a message, instead
// of ending the process at once with status 255.
func TestLibraryFatalExitsCleanly(t *testing.T) {
	ctx, stop := catchLibraryFatal(context.Background())
	defer stop()
	go klog.Fatal(`PostStartHook "rbac/bootstrap-roles" failed: unable to initialize roles: timed out waiting for the condition`)
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("klog.Fatal did not stop the command's context")
	}
	out := filepath.Join(t.TempDir(), "out")
	var stderr bytes.Buffer
	if code := runWithStderr(ctx, []string{"run", "../../scenarios/default.yaml", "--out", out}, &stderr); code != exitBadInput {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitBadInput, stderr.String())
	}
	if want := "nodesim: the embedded Kubernetes control plane failed"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the run left %s behind: %v", out, err)
	}
}

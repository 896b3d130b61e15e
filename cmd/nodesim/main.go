// Command nodesim is a hermetic Kubernetes node simulator: a real API server
// and thousands of virtual kubelets on a virtual clock, in one process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

// Exit statuses of every command (INTERFACE.md).
const (
	exitOK       = 0
	exitFailed   = 1 // a run whose expectations did not all hold
	exitBadInput = 2 // bad input, usage, a start-up problem, or any other error
	// An interrupted command exits 128 + the signal's number: 130 for
	// SIGINT, 143 for SIGTERM (interrupted.code).
)

// exitError carries the exit status an error should end the process with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as the user's to fix: exit status 2.
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

func main() {
	quietLibraryLogs()
	sim.TuneGC()
	ctx, stop := notifyContext(context.Background(), os.Stderr)
	defer stop()
	ctx, stopFatal := catchLibraryFatal(ctx)
	defer stopFatal()
	os.Exit(run(ctx, os.Args[1:]))
}

// libraryFatal is the cause of a context cancelled because a library
// called klog.Fatal or klog.Exit: kube-apiserver does when a post-start
// hook fails (its bootstrap RBAC roles not written within 30 s on an
// overloaded machine, say).
type libraryFatal struct{}

func (libraryFatal) Error() string {
	return "the embedded Kubernetes control plane failed to start or run (its log: --log-file)"
}

// catchLibraryFatal turns a library's klog.Fatal into the cancellation of
// ctx with a libraryFatal cause, so that the command stops, cleans up and
// exits 2 as for any start-up problem, instead of the process ending at
// once with status 255 and what it made left behind. The goroutine that
// called Fatal never returns from it.
func catchLibraryFatal(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	klog.OsExit = func(int) {
		cancel(libraryFatal{})
		select {}
	}
	return ctx, func() {
		klog.OsExit = os.Exit
		cancel(nil)
	}
}

// interrupted is the cause of a context cancelled by SIGINT or SIGTERM.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

// code is the shell's status of a process the signal ended: 128 + its
// number (130 for SIGINT, 143 for SIGTERM).
func (i interrupted) code() int { return 128 + int(i.sig) }

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// notifyContext is cancelled, with an interrupted cause, by the first
// SIGINT or SIGTERM, so that the command stops and cleans up. A second
// signal ends the process at once with the same status, for a clean-up
// that takes too long; what it leaves, the next run removes
// (simrun.RemoveStaleTempDirs).
func notifyContext(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first *interrupted
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig, _ := s.(syscall.Signal)
				if first != nil {
					fmt.Fprintf(stderr, "nodesim: %v again: exiting without cleaning up\n", signalName(sig))
					os.Exit(first.code())
				}
				first = &interrupted{sig: sig}
				cancel(*first)
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// loadScenario is scenarios.Load cut short by an interrupt: a large file
// takes seconds to validate, and SIGINT must not wait for it (the
// abandoned load ends with the process).
func loadScenario(ctx context.Context, path string) (*scenarios.Scenario, error) {
	type result struct {
		sc  *scenarios.Scenario
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sc, err := scenarios.Load(path)
		ch <- result{sc, err}
	}()
	select {
	case r := <-ch:
		return r.sc, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// quietLibraryLogs keeps what the embedded API server, etcd and
// controllers log (klog) off the terminal, errors too: kube-apiserver
// logs errors in normal operation ("namespaces \"kube-system\" not found"
// while it bootstraps, lost watches when it stops) that say nothing
// about the simulation. --log-file keeps them (logLibrariesTo).
func quietLibraryLogs() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for name, value := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"} {
		if err := fs.Set(name, value); err != nil {
			panic(err) // klog's own flags: a programming error
		}
	}
	klog.SetOutput(io.Discard)
}

// logLibrariesTo appends the libraries' log (klog, every severity at its
// default verbosity) to path, created 0600: --log-file. The file stays
// open until the process ends.
func logLibrariesTo(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return badInput(fmt.Errorf("--log-file: %w", err))
	}
	klog.SetOutput(f)
	return nil
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string) int {
	return runWithStderr(ctx, args, os.Stderr)
}

// runWithStderr is run with the error message going to stderr.
func runWithStderr(ctx context.Context, args []string, stderr io.Writer) int {
	cmd := newRootCommand()
	cmd.SetArgs(args)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var fatal libraryFatal
	if errors.As(context.Cause(ctx), &fatal) {
		printError(stderr, fatal)
		return exitBadInput
	}
	var in interrupted
	if errors.As(context.Cause(ctx), &in) {
		// Whatever the command was doing ended because of the signal.
		fmt.Fprintf(stderr, "nodesim: %v\n", in)
		return in.code()
	}
	printError(stderr, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitBadInput
}

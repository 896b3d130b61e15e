// Command nodesim is a hermetic Kubernetes node simulator: a real API server
// and thousands of virtual kubelets on a virtual clock, in one process.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/nodesim/nodesim/sim"
)

// Exit statuses of every command (INTERFACE.md).
const (
	exitOK       = 0
	exitFailed   = 1 // a run whose expectations did not all hold
	exitBadInput = 2 // bad input, usage, or a start-up problem
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// quietLibraryLogs keeps the API server's and etcd's informational klog
// lines off the terminal; errors still reach stderr.
func quietLibraryLogs() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
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
	printError(stderr, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitBadInput
}

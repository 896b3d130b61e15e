package sim

import (
	"errors"
	"fmt"
	"time"
)

// DefaultHostTimeout bounds, in wall time, one piece of a virtual node's
// work on the host (reading or writing a checkpoint archive): a disk that
// stalls fails that work (a failed checkpoint or restore, as a kubelet
// whose runtime call timed out reports it), not the whole fleet, which
// waits for every node at each window.
const DefaultHostTimeout = 10 * time.Second

// ErrHostTimeout is the error of host work that overran its bound.
var ErrHostTimeout = errors.New("host I/O did not finish in time")

// BoundedHost returns a runner of host work that waits at most timeout of
// wall time (DefaultHostTimeout if 0) for it. Work that overruns goes on
// in its own goroutine, its result dropped; the caller gets an error
// wrapping ErrHostTimeout and goes on. The work must therefore not touch
// the caller's state: it should do the I/O and return.
func BoundedHost(timeout time.Duration) func(what string, fn func() error) error {
	if timeout <= 0 {
		timeout = DefaultHostTimeout
	}
	return func(what string, fn func() error) error {
		done := make(chan error, 1) // buffered: an abandoned fn does not block
		go func() { done <- fn() }()
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case err := <-done:
			return err
		case <-t.C:
			return fmt.Errorf("%s: %w after %s", what, ErrHostTimeout, timeout)
		}
	}
}

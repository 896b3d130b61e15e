package sim

import (
	"errors"
	"testing"
	"time"
)

// TestBoundedHost: work that finishes gives its result; work that never
// does gives ErrHostTimeout after the bound instead of blocking.
func TestBoundedHost(t *testing.T) {
	run := BoundedHost(50 * time.Millisecond)
	want := errors.New("disk full")
	if err := run("write", func() error { return want }); !errors.Is(err, want) {
		t.Errorf("finished work: %v, want %v", err, want)
	}
	stuck := make(chan struct{})
	defer close(stuck)
	err := run("read archive", func() error { <-stuck; return nil })
	if !errors.Is(err, ErrHostTimeout) || err.Error() != "read archive: host I/O did not finish in time after 50ms" {
		t.Errorf("stuck work: %v, want ErrHostTimeout", err)
	}
}

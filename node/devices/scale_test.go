package devices

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/jonboulle/clockwork"
)

// TestIdleNodeIsCheap: a node without device plugins costs one goroutine
// (the Registration server's) and one socket.
func TestIdleNodeIsCheap(t *testing.T) {
	dir, err := os.MkdirTemp("", "dp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	clock := clockwork.NewFakeClock()
	const nodes = 200
	before := runtime.NumGoroutine()
	var ms []*Manager
	for i := range nodes {
		m, err := NewManager(ManagerConfig{Dir: filepath.Join(dir, strconv.Itoa(i), "device-plugins"), Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	grown := runtime.NumGoroutine() - before
	for _, m := range ms {
		m.Close()
	}
	if grown > nodes+5 {
		t.Errorf("%d idle managers added %d goroutines, want about one each", nodes, grown)
	}
	// Goroutines finish their last instructions after Close returns: wait
	// for them, with a deadline.
	ctx := testCtx(t)
	for runtime.NumGoroutine()-before > 5 {
		if ctx.Err() != nil {
			t.Fatalf("%d goroutines left after Close", runtime.NumGoroutine()-before)
		}
		runtime.Gosched()
	}
}

package run

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// TestTrackerStopsWaitingWhenTheWorldStops: a write its watch will never
// deliver (the watches stopped with the world) does not hold the last
// barrier for the catch-up timeout; while the world runs, the same write
// is waited for.
func TestTrackerStopsWaitingWhenTheWorldStops(t *testing.T) {
	tr := newTracker()
	tr.watch("leases", cache.NewStore(cache.MetaNamespaceKeyFunc))
	tr.wrote("leases", &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "12"}})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.wait(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("wait returned %v before the watch saw the write", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("wait after the world stopped: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait still blocked 5 s after the world stopped")
	}

	tr.saw("leases", &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "12"}})
	if err := tr.wait(context.Background()); err != nil {
		t.Errorf("caught up: %v", err)
	}
}

package run

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// catchUpTimeout bounds how long a barrier waits for the watches.
const catchUpTimeout = 60 * time.Second

// tracker knows what the simulation wrote and what its watches have seen,
// so that a barrier can wait until every watcher has caught up with every
// write made before it: then what the controllers read is the same on
// every run.
type tracker struct {
	mu      sync.Mutex
	changed *sync.Cond
	written map[string]uint64 // highest resourceVersion written, by resource
	seen    map[string]uint64 // highest resourceVersion the watch delivered
	gone    map[string]map[string]bool
	stores  map[string]cache.Store
}

func newTracker() *tracker {
	t := &tracker{written: map[string]uint64{}, seen: map[string]uint64{}, gone: map[string]map[string]bool{}, stores: map[string]cache.Store{}}
	t.changed = sync.NewCond(&t.mu)
	return t
}

func rv(obj metav1.Object) uint64 {
	v, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	return v
}

// wrote records a write's result. Writes of resources nothing watches
// (events) have nothing to catch up with.
func (t *tracker) wrote(resource string, obj metav1.Object) {
	v := rv(obj)
	t.mu.Lock()
	if _, watched := t.stores[resource]; watched && v > t.written[resource] {
		t.written[resource] = v
	}
	t.mu.Unlock()
}

// deleted records an object deleted without a result to read.
func (t *tracker) deleted(resource, namespace, name string) {
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	t.mu.Lock()
	if t.gone[resource] == nil {
		t.gone[resource] = map[string]bool{}
	}
	t.gone[resource][key] = true
	t.mu.Unlock()
}

// watch registers the store a resource's watch fills, for deletions.
func (t *tracker) watch(resource string, store cache.Store) {
	t.mu.Lock()
	t.stores[resource] = store
	t.mu.Unlock()
}

// saw records what a watch delivered. Call it last in the event handler,
// after everything else the handler records, so that a caught-up tracker
// means every handler has run.
func (t *tracker) saw(resource string, obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	v := rv(m)
	t.mu.Lock()
	if v > t.seen[resource] {
		t.seen[resource] = v
	}
	t.changed.Broadcast()
	t.mu.Unlock()
}

// caughtUp says whether the watches have seen every write; it must be
// called with mu held.
func (t *tracker) caughtUp() bool {
	for r, v := range t.written {
		if t.seen[r] < v {
			return false
		}
	}
	for r, keys := range t.gone {
		store := t.stores[r]
		for key := range keys {
			if store == nil {
				delete(keys, key)
				continue
			}
			if _, exists, _ := store.GetByKey(key); !exists {
				delete(keys, key)
			}
		}
		if len(keys) > 0 {
			return false
		}
	}
	return true
}

// wait blocks until the watches caught up, or ctx is done: a world that
// stops stops its watches too, and a write made as they stopped would
// never be seen; nothing waits for it then.
func (t *tracker) wait(ctx context.Context) error {
	deadline := time.Now().Add(catchUpTimeout)
	wakeUp := func() {
		t.mu.Lock()
		t.changed.Broadcast()
		t.mu.Unlock()
	}
	timer := time.AfterFunc(catchUpTimeout, wakeUp)
	defer timer.Stop()
	stop := context.AfterFunc(ctx, wakeUp)
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for !t.caughtUp() && ctx.Err() == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("watches did not catch up with the writes in %s (written %v, seen %v)", catchUpTimeout, t.written, t.seen)
		}
		// Deletions are seen by their absence: look again soon even if
		// no event arrives.
		wake := time.AfterFunc(5*time.Millisecond, func() {
			t.mu.Lock()
			t.changed.Broadcast()
			t.mu.Unlock()
		})
		t.changed.Wait()
		wake.Stop()
	}
	return nil
}

package apiserver

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/utils/clock"
)

// historyClock is the time the watch caches keep their history by, and
// etcd's compaction runs by (compactionClock).
// kube-apiserver keeps at least 75 s of events per resource
// (cacher.DefaultEventFreshDuration) by its own clock, which in a cluster
// is the cluster's time. A simulation's cluster time is virtual: running
// 100 times faster than the wall clock, 75 wall seconds would be two
// virtual hours of history, and the events' objects (every Node version,
// with its images) held that long, the heap growing with the pace. Once
// a simulation's clock is followed (Server.FollowClock), time advances as
// the faster of the two clocks from that moment: the history is 75 s of
// cluster time when the simulation runs ahead of the wall clock, and never
// longer than kube-apiserver keeps by its own clock when it runs behind.
type historyClock struct {
	mu      sync.RWMutex
	follow  clock.PassiveClock // nil: the wall clock
	wall    time.Time          // the wall time following started
	virtual time.Time          // follow's time then
}

// Now is the history's time.
func (h *historyClock) Now() time.Time {
	now := time.Now()
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.follow == nil {
		return now
	}
	return h.wall.Add(max(now.Sub(h.wall), h.follow.Since(h.virtual)))
}

// followClock makes the history follow c from now on.
func (h *historyClock) followClock(c clock.PassiveClock) {
	now := h.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.follow, h.wall, h.virtual = c, now, c.Now()
}

// FollowClock keeps the watch caches' history by the simulation's clock c
// (its virtual time) from now on; see historyClock. Call it when the
// simulation starts; its clock must not go back.
func (s *Server) FollowClock(c clock.PassiveClock) {
	s.storage.history.followClock(c)
}

// compactionPoll is how often, in wall time, a compaction waiting on the
// history clock looks at it: a few virtual seconds at the paces
// simulations run, against the 5 minutes between compactions.
const compactionPoll = 100 * time.Millisecond

// compactionClock is the clock etcd's compactor waits on (it calls only
// After): kube-apiserver compacts etcd every --etcd-compaction-interval of
// its own clock, which in a cluster is the cluster's time. By the wall
// clock alone, a simulation 10 times faster would keep 50 virtual minutes
// of every Lease's and Node's revisions in etcd (its index on the heap,
// its pages in the process's memory) where a cluster keeps 5 to 10, and
// the heap would rise and fall with the compaction's phase. By the history
// clock it compacts every 5 minutes of cluster time, and never less often
// than kube-apiserver does by its own clock.
type compactionClock struct {
	clock.RealClock
	history *historyClock
	stop    <-chan struct{}
}

// After fires when the history clock has advanced by d, or never once
// stop is closed.
func (c compactionClock) After(d time.Duration) <-chan time.Time {
	fired := make(chan time.Time, 1)
	deadline := c.history.Now().Add(d)
	go func() {
		poll := time.NewTicker(compactionPoll)
		defer poll.Stop()
		for {
			if now := c.history.Now(); !now.Before(deadline) {
				fired <- now
				return
			}
			select {
			case <-poll.C:
			case <-c.stop:
				return
			}
		}
	}()
	return fired
}

// historyStore is a resource's store whose watch events carry the history
// clock's time as the time they were recorded at, which the watch cache
// keeps its history by (storage.ListOptions.RecordTimestamps asks for it;
// only the watch cache does).
type historyStore struct {
	storage.Interface
	clock *historyClock
}

func (s historyStore) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	w, err := s.Interface.Watch(ctx, key, opts)
	if err != nil || !opts.RecordTimestamps {
		return w, err
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		if timed, ok := e.Object.(storage.WatchEventWithRecordTime); ok {
			e.Object = &recordedEvent{Object: timed.Unwrap(), at: s.clock.Now()}
		}
		return e, true
	}), nil
}

// recordedEvent is a watch event's object and the history time it was
// recorded at.
type recordedEvent struct {
	runtime.Object
	at time.Time
}

var _ storage.WatchEventWithRecordTime = &recordedEvent{}

// GetObjectMeta lets the watch cache's reflector read the object's
// resource version through the wrapper, as etcd3's own wrapper does.
func (r *recordedEvent) GetObjectMeta() metav1.Object {
	m, _ := meta.Accessor(r.Object)
	return m
}

func (r *recordedEvent) DeepCopyObject() runtime.Object {
	return &recordedEvent{Object: r.Object.DeepCopyObject(), at: r.at}
}
func (r *recordedEvent) RecordTime() time.Time  { return r.at }
func (r *recordedEvent) Unwrap() runtime.Object { return r.Object }

package apiserver

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
	clocktesting "k8s.io/utils/clock/testing"
)

// TestHistoryClockFollowsTheFasterClock: the watch caches' history time
// is the wall clock until a simulation's clock is followed, then advances
// as the faster of the two from that moment, never going back.
func TestHistoryClockFollowsTheFasterClock(t *testing.T) {
	h := &historyClock{}
	if d := time.Since(h.Now()); d < 0 || d > time.Second {
		t.Fatalf("before following: %v from the wall clock", d)
	}
	virtual := clocktesting.NewFakePassiveClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h.followClock(virtual)
	start := h.Now()
	virtual.SetTime(virtual.Now().Add(time.Hour)) // the simulation runs ahead
	if got := h.Now().Sub(start); got < time.Hour-time.Second || got > time.Hour+time.Second {
		t.Errorf("virtual hour later: history advanced %v, want 1h", got)
	}
	before := h.Now()
	time.Sleep(20 * time.Millisecond) // the virtual clock stands still: the wall clock is behind it
	if h.Now().Before(before) {
		t.Errorf("history went back: %v then %v", before, h.Now())
	}
}

// TestHistoryStoreStampsWatchEvents: events the watch cache asks to be
// timed carry the history clock's time, the object unwrapped as the
// cache reads it; other watches pass as they are.
func TestHistoryStoreStampsWatchEvents(t *testing.T) {
	h := &historyClock{}
	virtual := clocktesting.NewFakePassiveClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h.followClock(virtual)
	virtual.SetTime(virtual.Now().Add(10 * time.Minute))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "7"}}
	fake := &timedWatchStore{object: node}
	s := historyStore{Interface: fake, clock: h}

	w, err := s.Watch(context.Background(), "/nodes", storage.ListOptions{RecordTimestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	e := <-w.ResultChan()
	w.Stop()
	timed, ok := e.Object.(storage.WatchEventWithRecordTime)
	if !ok {
		t.Fatalf("event object %T carries no record time", e.Object)
	}
	if d := timed.RecordTime().Sub(h.wall); d < 10*time.Minute-time.Second || d > 10*time.Minute+time.Second {
		t.Errorf("recorded %v after following, want the virtual 10m", d)
	}
	if timed.Unwrap() != node {
		t.Errorf("unwrapped %v", timed.Unwrap())
	}
	if m, ok := timed.(metav1.ObjectMetaAccessor); !ok || m.GetObjectMeta().GetResourceVersion() != "7" {
		t.Errorf("the reflector cannot read the resource version through %T", timed)
	}

	w, err = s.Watch(context.Background(), "/nodes", storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := <-w.ResultChan(); e.Object != runtime.Object(node) {
		t.Errorf("untimed watch: %T", e.Object)
	}
	w.Stop()
}

// timedWatchStore watches one event of object, wrapped with a record time
// when asked, as etcd3's store does.
type timedWatchStore struct {
	storage.Interface
	object runtime.Object
}

func (s *timedWatchStore) Watch(_ context.Context, _ string, opts storage.ListOptions) (watch.Interface, error) {
	w := watch.NewFakeWithChanSize(1, false)
	var obj runtime.Object = s.object
	if opts.RecordTimestamps {
		obj = &recordedEvent{Object: s.object, at: time.Unix(0, 0)}
	}
	w.Add(obj)
	return w, nil
}

// TestCompactionClockFollowsTheHistory: etcd's compactor waits for the
// history clock (the simulation's time when it runs ahead), so it compacts
// every 5 virtual minutes, and its wait ends when the storage stops.
func TestCompactionClockFollowsTheHistory(t *testing.T) {
	h := &historyClock{}
	virtual := clocktesting.NewFakePassiveClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h.followClock(virtual)
	stop := make(chan struct{})
	c := compactionClock{history: h, stop: stop}

	fired := c.After(5 * time.Minute)
	virtual.SetTime(virtual.Now().Add(4 * time.Minute))
	select {
	case <-fired:
		t.Fatal("fired 4 virtual minutes into a wait of 5")
	case <-time.After(3 * compactionPoll):
	}
	virtual.SetTime(virtual.Now().Add(time.Minute + time.Second))
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("5 virtual minutes passed and the compaction still waits")
	}

	waiting := c.After(5 * time.Minute)
	close(stop)
	select {
	case <-waiting:
		t.Fatal("fired after stop")
	case <-time.After(3 * compactionPoll):
	}
}

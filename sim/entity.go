package sim

import (
	"container/heap"
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"time"
)

// Entity is something simulated with a timeline of its own, such as a
// virtual node: its processes and timers run one at a time, in the order of
// their wake-up times (ties in the order they were scheduled).
type Entity struct {
	engine *Engine
	name   string
	index  int
	rand   *rand.Rand
	now    time.Time
	events eventHeap
	seq    uint64
	trace  []Record
	// current is the process running now, if any.
	current *Proc
}

// Sleep makes the running process wait d of virtual time, as a request
// that takes that long does. It panics if no process is running (a timer
// callback cannot wait).
func (en *Entity) Sleep(d time.Duration) {
	if en.current == nil {
		panic("sim: Sleep outside a process of " + en.name)
	}
	en.current.Sleep(d)
}

// InProcess says whether a process of the entity is running, so that
// waiting is possible.
func (en *Entity) InProcess() bool { return en.current != nil }

// Name is the entity's name.
func (en *Entity) Name() string { return en.name }

// Now is the entity's current virtual time.
func (en *Entity) Now() time.Time { return en.now }

// Since is the virtual time elapsed since the scenario started.
func (en *Entity) Since() time.Duration { return en.now.Sub(en.engine.cfg.Start) }

// Rand is the entity's own random stream.
func (en *Entity) Rand() *rand.Rand { return en.rand }

// Trace records an event at the entity's current time.
func (en *Entity) Trace(r Record) {
	r.T = en.now.Sub(en.engine.cfg.Start)
	r.entity = en.index
	en.seq++
	r.seq = en.seq
	en.trace = append(en.trace, r)
}

// Go starts a process at virtual time at (or now, if at is earlier).
func (en *Entity) Go(at time.Time, name string, fn func(p *Proc)) *Proc {
	p := &Proc{entity: en, name: name}
	body := func(yield func(time.Time) bool) {
		p.yield = yield
		defer func() {
			if r := recover(); r != nil && r != errStopped { //nolint:errorlint // sentinel panic value
				panic(r)
			}
		}()
		fn(p)
	}
	p.next, p.stop = iter.Pull(body)
	en.push(&event{at: at, proc: p})
	return p
}

// At runs fn on the entity's timeline at virtual time at. The returned
// timer can be stopped before it fires.
func (en *Entity) At(at time.Time, fn func()) *Timer {
	ev := &event{at: at, fn: fn}
	en.push(ev)
	return &Timer{ev: ev}
}

func (en *Entity) push(ev *event) {
	if ev.at.Before(en.now) {
		ev.at = en.now
	}
	en.seq++
	ev.seq = en.seq
	heap.Push(&en.events, ev)
}

// next is the time of the entity's next event.
func (en *Entity) next() (time.Time, bool) {
	if len(en.events) == 0 {
		return time.Time{}, false
	}
	return en.events[0].at, true
}

// runUntil runs the entity's events due strictly before end.
func (en *Entity) runUntil(end time.Time) {
	for len(en.events) > 0 && en.events[0].at.Before(end) {
		ev := heap.Pop(&en.events).(*event)
		en.now = ev.at
		switch {
		case ev.cancelled:
		case ev.proc != nil:
			ev.proc.resume()
		case ev.fn != nil:
			ev.fn()
		}
	}
}

// Timer is a scheduled call that has not run yet.
type Timer struct{ ev *event }

// Stop keeps the call from running.
func (t *Timer) Stop() { t.ev.cancelled = true }

// errStopped unwinds a process that was stopped while it waited.
var errStopped = errors.New("process stopped")

// Proc is a running process: sequential code that waits on virtual time.
type Proc struct {
	entity *Entity
	name   string
	next   func() (time.Time, bool)
	stop   func()
	yield  func(time.Time) bool
	done   bool
}

// Entity is the process's entity.
func (p *Proc) Entity() *Entity { return p.entity }

// Now is the current virtual time.
func (p *Proc) Now() time.Time { return p.entity.now }

// Sleep waits d of virtual time.
func (p *Proc) Sleep(d time.Duration) { p.SleepUntil(p.entity.now.Add(d)) }

// SleepUntil waits until virtual time t.
func (p *Proc) SleepUntil(t time.Time) {
	if !p.yield(t) {
		panic(errStopped)
	}
}

// Stop ends the process where it waits; it never runs again. A process
// cannot stop itself (it returns instead).
func (p *Proc) Stop() {
	if p.done {
		return
	}
	p.done = true
	p.stop()
}

// Done says whether the process has ended.
func (p *Proc) Done() bool { return p.done }

func (p *Proc) resume() {
	if p.done {
		return
	}
	p.entity.current = p
	at, ok := p.next()
	p.entity.current = nil
	if !ok {
		p.done = true
		return
	}
	p.entity.push(&event{at: at, proc: p})
}

// event is a wake-up on an entity's timeline.
type event struct {
	at        time.Time
	seq       uint64
	proc      *Proc
	fn        func()
	cancelled bool
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	n := len(old)
	ev := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return ev
}

type entityKey struct{}

// WithEntity returns a context that carries en, for the API transport to
// learn whose request it carries and at what virtual time.
func WithEntity(ctx context.Context, en *Entity) context.Context {
	return context.WithValue(ctx, entityKey{}, en)
}

// EntityFrom returns the entity a context carries, if any.
func EntityFrom(ctx context.Context) (*Entity, bool) {
	en, ok := ctx.Value(entityKey{}).(*Entity)
	return en, ok && en != nil
}

// Call runs fn as a process of the entity, started at the next window
// boundary (Engine.Inject), and waits until it returns or ctx is done. It
// may be called from any goroutine: it is how a request from outside the
// simulation (a kubelet API call) does work on an entity's timeline,
// waiting on virtual time if it must. If ctx ends first, fn still runs to
// its end on the entity; only the wait is abandoned.
func (en *Entity) Call(ctx context.Context, name string, fn func(p *Proc)) error {
	done := make(chan struct{})
	en.engine.Inject(func(now time.Time) {
		en.Go(now, name, func(p *Proc) {
			defer close(done)
			fn(p)
		})
	})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

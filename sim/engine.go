package sim

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Defaults of Config.
const (
	// DefaultWorkers is how many entities run at once inside a window. The
	// work is mostly waiting on the API server, so it is well above the
	// core count.
	DefaultWorkers = 64
	// DefaultMaxWindow bounds a window: the trace is written and progress
	// reported at least this often in virtual time.
	DefaultMaxWindow = 5 * time.Second
)

// Epoch is the virtual start time of deterministic runs.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config configures an Engine.
type Config struct {
	// Seed derives every random stream.
	Seed uint64
	// Start is the virtual time the run starts at (default Epoch).
	Start time.Time
	// Pace holds virtual time to Pace x wall time; 0 runs as fast as the
	// work allows.
	Pace float64
	// Workers is how many entities run in parallel (default DefaultWorkers).
	Workers int
	// MaxWindow is the longest window (default DefaultMaxWindow).
	MaxWindow time.Duration
	// Trace receives trace.jsonl; nil only counts events.
	Trace io.Writer
	// Progress, if set, is called after each window with the virtual time
	// elapsed since Start.
	Progress func(elapsed time.Duration)
}

// Engine runs entities on a virtual clock.
type Engine struct {
	cfg      Config
	clock    *clockwork.FakeClock
	entities []*Entity
	barriers barrierHeap
	bseq     uint64
	tracer   *Tracer
	trace    []Record // barrier-time records of the current instant
	before   []func(now time.Time)
	after    []func(now time.Time)

	// injected is work from outside the simulation (requests to a
	// kubelet's API), run at the next window boundary.
	injectMu sync.Mutex
	injected []func(now time.Time)
}

// New returns an engine at cfg.Start.
func New(cfg Config) (*Engine, error) {
	if cfg.Start.IsZero() {
		cfg.Start = Epoch
	}
	if cfg.Pace < 0 {
		return nil, fmt.Errorf("sim: pace %v must not be negative", cfg.Pace)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxWindow <= 0 {
		cfg.MaxWindow = DefaultMaxWindow
	}
	return &Engine{
		cfg:    cfg,
		clock:  clockwork.NewFakeClockAt(cfg.Start),
		tracer: NewTracer(cfg.Trace),
	}, nil
}

// Clock is the engine's clock, at the time of the last barrier. Controllers
// read it; entities read their own Now.
func (e *Engine) Clock() clockwork.Clock { return e.clock }

// Now is the virtual time of the last barrier.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Start is the virtual time the run started at.
func (e *Engine) Start() time.Time { return e.cfg.Start }

// Seed is the run's seed.
func (e *Engine) Seed() uint64 { return e.cfg.Seed }

// Tracer gives the counts of traced events.
func (e *Engine) Tracer() *Tracer { return e.tracer }

// NewEntity adds an entity. Names must be unique: they seed the entity's
// random stream.
func (e *Engine) NewEntity(name string) *Entity {
	en := &Entity{
		engine: e,
		name:   name,
		index:  len(e.entities),
		rand:   Stream(e.cfg.Seed, name),
		now:    e.clock.Now(),
	}
	e.entities = append(e.entities, en)
	return en
}

// At runs fn at a barrier at virtual time at: after every entity event
// before at, before any at or after it. Barriers of the same instant run in
// the order they were scheduled.
func (e *Engine) At(at time.Time, fn func(now time.Time)) {
	e.bseq++
	heap.Push(&e.barriers, &barrier{at: at, seq: e.bseq, fn: fn})
}

// Every runs fn at barriers every period, the first at first.
func (e *Engine) Every(first time.Time, period time.Duration, fn func(now time.Time)) {
	var tick func(now time.Time)
	tick = func(now time.Time) {
		fn(now)
		e.At(now.Add(period), tick)
	}
	e.At(first, tick)
}

// BeforeBarriers runs fn at every window boundary, before the barriers due
// then: the place to wait until everything written so far can be read.
func (e *Engine) BeforeBarriers(fn func(now time.Time)) {
	e.before = append(e.before, fn)
}

// AfterBarriers runs fn at every window boundary, after the barriers due
// then: the place for work that must see everything written so far, such
// as controllers reacting to watch events.
func (e *Engine) AfterBarriers(fn func(now time.Time)) {
	e.after = append(e.after, fn)
}

// Inject runs fn at the next window boundary, before the barriers due then.
// Unlike everything else on the engine, it may be called from any
// goroutine: it is how requests from outside the simulation (a person's
// kubectl, a crictl) reach entities, which they must only touch from
// inside it (for example by starting a process with Entity.Go). Work
// injected this way happens when it arrives, so it is not part of a
// run's deterministic replay.
func (e *Engine) Inject(fn func(now time.Time)) {
	e.injectMu.Lock()
	e.injected = append(e.injected, fn)
	e.injectMu.Unlock()
}

// Trace records an event at the current barrier, ordered before the
// entities' events of the same instant.
func (e *Engine) Trace(r Record) {
	r.T = e.clock.Now().Sub(e.cfg.Start)
	r.entity = -1
	e.bseq++
	r.seq = e.bseq
	e.trace = append(e.trace, r)
}

// TraceAt records an event at virtual time at, as a barrier would (for
// what is decided after the run, such as expectations at its end).
func (e *Engine) TraceAt(at time.Time, r Record) {
	r.T = at.Sub(e.cfg.Start)
	r.entity = -1
	e.bseq++
	r.seq = e.bseq
	e.trace = append(e.trace, r)
}

// Flush writes the records traced since the last window.
func (e *Engine) Flush() error { return e.flush() }

// Run advances virtual time to until (exclusive for entity events), or
// until ctx is done.
func (e *Engine) Run(ctx context.Context, until time.Time) error {
	wallStart := time.Now()
	virtualStart := e.clock.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := e.clock.Now()
		e.runBarriers(now)
		if !now.Before(until) {
			return e.flush()
		}
		end := now.Add(e.cfg.MaxWindow)
		if until.Before(end) {
			end = until
		}
		if len(e.barriers) > 0 && e.barriers[0].at.Before(end) {
			end = e.barriers[0].at
		}
		if e.cfg.Pace > 0 {
			due := wallStart.Add(time.Duration(float64(end.Sub(virtualStart)) / e.cfg.Pace))
			if err := sleepUntil(ctx, due); err != nil {
				return err
			}
		}
		e.runWindow(end)
		if err := e.flush(); err != nil {
			return err
		}
		e.clock.Advance(end.Sub(now))
		if e.cfg.Progress != nil {
			e.cfg.Progress(end.Sub(e.cfg.Start))
		}
	}
}

func (e *Engine) runBarriers(now time.Time) {
	for _, fn := range e.before {
		fn(now)
	}
	e.injectMu.Lock()
	injected := e.injected
	e.injected = nil
	e.injectMu.Unlock()
	for _, fn := range injected {
		fn(now)
	}
	for len(e.barriers) > 0 && !e.barriers[0].at.After(now) {
		b := heap.Pop(&e.barriers).(*barrier)
		b.fn(now)
	}
	for _, fn := range e.after {
		fn(now)
	}
}

// runWindow runs, in parallel across entities, every entity event before
// end. Entities do not touch each other inside a window.
func (e *Engine) runWindow(end time.Time) {
	due := make([]*Entity, 0, len(e.entities))
	for _, en := range e.entities {
		if at, ok := en.next(); ok && at.Before(end) {
			due = append(due, en)
		}
	}
	if len(due) == 0 {
		return
	}
	workers := min(e.cfg.Workers, len(due))
	work := make(chan *Entity)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for en := range work {
				en.runUntil(end)
			}
		}()
	}
	for _, en := range due {
		work <- en
	}
	close(work)
	wg.Wait()
	for _, en := range due {
		e.tracer.pending = append(e.tracer.pending, en.trace...)
		en.trace = en.trace[:0]
	}
}

func (e *Engine) flush() error {
	e.tracer.pending = append(e.tracer.pending, e.trace...)
	e.trace = e.trace[:0]
	return e.tracer.flush()
}

// Close stops every process that is still waiting.
func (e *Engine) Close() {
	for _, en := range e.entities {
		for _, ev := range slices.Clone(en.events) {
			if ev.proc != nil {
				ev.proc.Stop()
			}
		}
		en.events = nil
	}
}

func sleepUntil(ctx context.Context, due time.Time) error {
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type barrier struct {
	at  time.Time
	seq uint64
	fn  func(now time.Time)
}

type barrierHeap []*barrier

func (h barrierHeap) Len() int { return len(h) }
func (h barrierHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h barrierHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *barrierHeap) Push(x any)   { *h = append(*h, x.(*barrier)) }
func (h *barrierHeap) Pop() any {
	old := *h
	n := len(old)
	b := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return b
}

package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newTestEngine(t *testing.T, workers int, trace *bytes.Buffer) *Engine {
	t.Helper()
	e, err := New(Config{Seed: 1, Workers: workers, Trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func TestProcessesSleepOnVirtualTime(t *testing.T) {
	var trace bytes.Buffer
	e := newTestEngine(t, 4, &trace)
	en := e.NewEntity("n")
	var woke []time.Duration
	en.Go(e.Start(), "a", func(p *Proc) {
		for range 3 {
			woke = append(woke, p.Now().Sub(e.Start()))
			p.Sleep(1500 * time.Millisecond)
		}
	})
	if err := e.Run(context.Background(), e.Start().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(woke); got != "[0s 1.5s 3s]" {
		t.Fatalf("woke at %s", got)
	}
	if e.Now() != e.Start().Add(time.Hour) {
		t.Fatalf("clock at %v", e.Now())
	}
}

func TestSameInstantRunsInScheduleOrder(t *testing.T) {
	e := newTestEngine(t, 1, nil)
	en := e.NewEntity("n")
	var order []string
	at := e.Start().Add(time.Second)
	for _, name := range []string{"first", "second", "third"} {
		en.At(at, func() { order = append(order, name) })
	}
	en.Go(at, "proc", func(p *Proc) { order = append(order, "proc") })
	e.At(at, func(time.Time) { order = append(order, "barrier") })
	if err := e.Run(context.Background(), at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "barrier,first,second,third,proc" {
		t.Fatalf("order %s", got)
	}
}

func TestTimerStop(t *testing.T) {
	e := newTestEngine(t, 1, nil)
	en := e.NewEntity("n")
	fired := false
	tm := en.At(e.Start().Add(time.Second), func() { fired = true })
	en.At(e.Start().Add(500*time.Millisecond), tm.Stop)
	if err := e.Run(context.Background(), e.Start().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if fired {
		t.Fatal("stopped timer fired")
	}
}

func TestStopEndsAWaitingProcess(t *testing.T) {
	e := newTestEngine(t, 1, nil)
	en := e.NewEntity("n")
	ticks := 0
	cleaned := false
	p := en.Go(e.Start(), "ticker", func(p *Proc) {
		defer func() { cleaned = true }()
		for {
			ticks++
			p.Sleep(time.Second)
		}
	})
	e.At(e.Start().Add(2500*time.Millisecond), func(time.Time) { p.Stop() })
	if err := e.Run(context.Background(), e.Start().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ticks != 3 || !cleaned || !p.Done() {
		t.Fatalf("ticks %d cleaned %v done %v", ticks, cleaned, p.Done())
	}
}

// traceOf runs 50 entities that trace at random virtual times and returns
// the trace bytes.
func traceOf(t *testing.T, workers int) string {
	var trace bytes.Buffer
	e := newTestEngine(t, workers, &trace)
	for i := range 50 {
		en := e.NewEntity(fmt.Sprintf("node-%02d", i))
		en.Go(e.Start(), "beat", func(p *Proc) {
			for {
				p.Entity().Trace(Record{Event: "Beat", Node: p.Entity().Name()})
				p.Sleep(time.Duration(p.Entity().Rand().IntN(3000)) * time.Millisecond)
			}
		})
	}
	e.Every(e.Start(), 5*time.Second, func(time.Time) { e.Trace(Record{Event: "Tick"}) })
	if err := e.Run(context.Background(), e.Start().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return trace.String()
}

func TestTraceIsDeterministicAcrossWorkerCounts(t *testing.T) {
	one := traceOf(t, 1)
	many := traceOf(t, 16)
	if one != many {
		t.Fatal("trace differs between 1 and 16 workers")
	}
	lines := strings.Split(strings.TrimSpace(one), "\n")
	if len(lines) < 1000 {
		t.Fatalf("only %d lines", len(lines))
	}
	if lines[0] != `{"t":0,"event":"Tick"}` {
		t.Fatalf("first line %s", lines[0])
	}
	prev := -1.0
	for _, l := range lines {
		var ts float64
		if _, err := fmt.Sscanf(l, `{"t":%g,`, &ts); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if ts < prev {
			t.Fatalf("trace out of order at %s", l)
		}
		prev = ts
	}
}

func TestRecordJSON(t *testing.T) {
	r := Record{T: 12345 * time.Millisecond, Event: "NodeConditionChanged", Node: "a-1", Type: "Ready", Status: "False", Error: "bad \"quote\"\n"}
	got := string(r.AppendJSON(nil))
	want := `{"t":12.345,"event":"NodeConditionChanged","node":"a-1","type":"Ready","status":"False","error":"bad \"quote\"\u000a"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestStreamsAreIndependentAndStable(t *testing.T) {
	a1, a2 := Stream(7, "a").Uint64(), Stream(7, "a").Uint64()
	b := Stream(7, "b").Uint64()
	if a1 != a2 || a1 == b || Stream(8, "a").Uint64() == a1 {
		t.Fatal("streams must depend on seed and name only")
	}
}

func TestPacedRunHoldsToWallTime(t *testing.T) {
	e, err := New(Config{Pace: 100, MaxWindow: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Now()
	if err := e.Run(context.Background(), e.Start().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	// 20 virtual seconds at 100x is 200ms of wall time at least.
	if took := time.Since(wall); took < 190*time.Millisecond {
		t.Fatalf("paced run took only %v", took)
	}
}

// TestInjectReachesAnEntityFromAnotherGoroutine: work injected from outside
// runs at a window boundary and may start a process on an entity, which
// then sleeps on virtual time like any other.
func TestInjectReachesAnEntityFromAnotherGoroutine(t *testing.T) {
	e := newTestEngine(t, 2, nil)
	en := e.NewEntity("n")
	en.Go(e.Start(), "tick", func(p *Proc) {
		for {
			p.Sleep(time.Second)
		}
	})
	done := make(chan time.Duration, 1)
	go e.Inject(func(now time.Time) {
		en.Go(now, "request", func(p *Proc) {
			start := p.Now()
			p.Sleep(300 * time.Millisecond)
			done <- p.Now().Sub(start)
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(ctx, e.Start().Add(1000*time.Hour)) }()
	select {
	case took := <-done:
		if took != 300*time.Millisecond {
			t.Fatalf("the injected process slept %s of virtual time, want 300ms", took)
		}
	case <-ctx.Done():
		t.Fatal("injected work never ran")
	}
	cancel()
	<-runDone
}

// fullDisk takes limit bytes, then fails every write as a full disk does.
type fullDisk struct{ limit int }

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) > d.limit {
		n := d.limit
		d.limit = 0
		return n, syscall.ENOSPC
	}
	d.limit -= len(p)
	return len(p), nil
}

// TestFullDiskFailsTheRunWhenTheWriteFails: the run stops at the window
// whose trace cannot be written, with the write's error, not hours of
// virtual time later at its end.
func TestFullDiskFailsTheRunWhenTheWriteFails(t *testing.T) {
	e, err := New(Config{Seed: 1, Trace: &fullDisk{limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	en := e.NewEntity("n")
	en.Go(e.Start(), "ticker", func(p *Proc) {
		for {
			en.Trace(Record{Event: EventNodeStatusPosted, Node: "n"})
			p.Sleep(time.Second)
		}
	})
	err = e.Run(context.Background(), e.Start().Add(100*time.Hour))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Run = %v, want ENOSPC", err)
	}
	if at := e.Now().Sub(e.Start()); at > time.Minute {
		t.Errorf("the run went on to %s after the disk filled", at)
	}
}

package controlplane

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim"
)

func drain(q *taintQueue) []string {
	var out []string
	for q.len() > 0 {
		out = append(out, q.pop())
	}
	return out
}

// The bucket starts full (burst 1) and refills at qps, never past burst.
func TestTaintQueueTokenBucket(t *testing.T) {
	t0 := sim.Epoch
	q := newTaintQueue(0.1, t0)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, // full at creation
		{0, false},
		{5 * time.Second, false},
		{9900 * time.Millisecond, false},
		{10 * time.Second, true}, // 10 s at 0.1/s is one token
		{10 * time.Second, false},
		{20 * time.Second, true},
		{200 * time.Second, true}, // 180 s idle is still one token
		{200 * time.Second, false},
	}
	for _, s := range steps {
		if got := q.tryAccept(t0.Add(s.at)); got != s.want {
			t.Fatalf("tryAccept at %v = %v, want %v", s.at, got, s.want)
		}
	}
	// Refills through many small steps land on whole tokens exactly: the
	// monitor and the 100 ms passes both refill.
	q = newTaintQueue(0.1, t0)
	q.tryAccept(t0)
	for d := 100 * time.Millisecond; d < 10*time.Second; d += 100 * time.Millisecond {
		if q.tryAccept(t0.Add(d)) {
			t.Fatalf("token at %v, want none before 10s", d)
		}
	}
	if !q.tryAccept(t0.Add(10 * time.Second)) {
		t.Fatalf("no token at 10s after 99 refills (tokens %v)", q.tokens)
	}
	q = newTaintQueue(0.01, t0)
	q.tryAccept(t0)
	for d := 100 * time.Millisecond; d < 100*time.Second; d += 100 * time.Millisecond {
		if q.tryAccept(t0.Add(d)) {
			t.Fatalf("0.01/s: token at %v, want none before 100s", d)
		}
	}
	if !q.tryAccept(t0.Add(100 * time.Second)) {
		t.Fatalf("0.01/s: no token at 100s after 999 refills (tokens %v)", q.tokens)
	}
	// A rate of 0 never gives a token, even a full bucket's.
	if newTaintQueue(0, t0).tryAccept(t0.Add(time.Hour)) {
		t.Error("rate 0 gave a token")
	}
}

func TestTaintQueueNextTry(t *testing.T) {
	t0 := sim.Epoch
	q := newTaintQueue(0.1, t0)
	if _, ok := q.nextTry(t0); ok {
		t.Error("empty queue has a next try")
	}
	q.add("n1", false)
	if at, ok := q.nextTry(t0); !ok || !at.Equal(t0) {
		t.Errorf("with a token: next try %v %v, want now", at, ok)
	}
	q.tryAccept(t0)
	// The float arithmetic may land a nanosecond early (the conversion to a
	// Duration truncates); never late, and the pass is rounded up onto the
	// 100 ms grid.
	near := func(at time.Time, want time.Duration) bool {
		d := at.Sub(t0) - want
		return d <= 0 && d >= -time.Nanosecond
	}
	if at, ok := q.nextTry(t0); !ok || !near(at, 10*time.Second) {
		t.Errorf("without a token: next try in %v, want 10s", at.Sub(t0))
	}
	if at, ok := q.nextTry(t0.Add(4 * time.Second)); !ok || !near(at, 10*time.Second) {
		t.Errorf("4s later: next try at %v, want 10s", at.Sub(t0))
	}
	q.setRate(0.01, t0.Add(4*time.Second)) // no token: drained
	if at, ok := q.nextTry(t0.Add(4 * time.Second)); !ok || !near(at, 104*time.Second) {
		t.Errorf("at 0.01/s: next try at %v, want 1m44s", at.Sub(t0))
	}
	q.setRate(0, t0.Add(5*time.Second))
	if _, ok := q.nextTry(t0.Add(5 * time.Second)); ok {
		t.Error("rate 0 has a next try")
	}
}

// setRate is SwapLimiter: a new bucket, full if the old one had a token
// (the old bucket's TryAccept takes it), drained if it had none; the same
// rate changes nothing.
func TestTaintQueueSetRate(t *testing.T) {
	t0 := sim.Epoch
	t.Run("same rate keeps the bucket", func(t *testing.T) {
		q := newTaintQueue(0.1, t0)
		q.tryAccept(t0)
		q.setRate(0.1, t0.Add(time.Second))
		if q.tryAccept(t0.Add(9 * time.Second)) {
			t.Error("token at 9s: the bucket was replaced")
		}
		if !q.tryAccept(t0.Add(10 * time.Second)) {
			t.Error("no token at 10s")
		}
	})
	t.Run("old had a token: new is full", func(t *testing.T) {
		q := newTaintQueue(0.1, t0)
		q.setRate(0.01, t0.Add(time.Second))
		if !q.tryAccept(t0.Add(time.Second)) {
			t.Fatal("no token right after the swap")
		}
		if q.tryAccept(t0.Add(100 * time.Second)) {
			t.Error("token 99s later at 0.01/s")
		}
		if !q.tryAccept(t0.Add(101 * time.Second)) {
			t.Error("no token 100s later at 0.01/s")
		}
	})
	t.Run("old had no token: new is drained", func(t *testing.T) {
		q := newTaintQueue(0.1, t0)
		q.tryAccept(t0)
		q.setRate(0.01, t0.Add(5*time.Second)) // half a token: none
		if q.tryAccept(t0.Add(5 * time.Second)) {
			t.Fatal("token right after swapping an empty bucket")
		}
		if q.tryAccept(t0.Add(104 * time.Second)) {
			t.Error("token 99s after the swap at 0.01/s")
		}
		if !q.tryAccept(t0.Add(105 * time.Second)) {
			t.Error("no token 100s after the swap at 0.01/s")
		}
	})
	t.Run("the old bucket refills up to the swap", func(t *testing.T) {
		q := newTaintQueue(0.1, t0)
		q.tryAccept(t0)
		q.setRate(0.01, t0.Add(10*time.Second)) // refilled to one token by then
		if !q.tryAccept(t0.Add(10 * time.Second)) {
			t.Error("no token: the refill before the swap was lost")
		}
	})
	t.Run("from rate 0: drained", func(t *testing.T) {
		q := newTaintQueue(0.1, t0)
		q.setRate(0, t0)
		q.setRate(0.1, t0.Add(time.Hour)) // FakeNeverRateLimiter has no token
		if q.tryAccept(t0.Add(time.Hour)) {
			t.Fatal("token right after leaving rate 0")
		}
		if !q.tryAccept(t0.Add(time.Hour + 10*time.Second)) {
			t.Error("no token 10s after leaving rate 0")
		}
	})
	t.Run("to rate 0: none", func(t *testing.T) {
		q := newTaintQueue(0.1, t0)
		q.setRate(0, t0)
		if q.tryAccept(t0.Add(time.Hour)) {
			t.Error("token at rate 0")
		}
	})
}

// The queue is first in, first out; a node is queued once until removed,
// and stays known after it is popped (tainted) so it is not queued again;
// a reset add moves it to the back.
func TestTaintQueueOrder(t *testing.T) {
	t0 := sim.Epoch
	for _, tc := range []struct {
		name string
		ops  func(q *taintQueue) []string
		want []string
	}{
		{"fifo", func(q *taintQueue) []string {
			q.add("c", false)
			q.add("a", false)
			q.add("b", false)
			return drain(q)
		}, []string{"c", "a", "b"}},
		{"no duplicates", func(q *taintQueue) []string {
			q.add("a", false)
			q.add("b", false)
			q.add("a", false)
			return drain(q)
		}, []string{"a", "b"}},
		{"reset moves to the back", func(q *taintQueue) []string {
			q.add("a", false)
			q.add("b", false)
			q.add("a", true)
			return drain(q)
		}, []string{"b", "a"}},
		{"popped stays known", func(q *taintQueue) []string {
			q.add("a", false)
			out := drain(q)
			q.add("a", false)
			return append(out, drain(q)...)
		}, []string{"a"}},
		{"popped and reset is queued again", func(q *taintQueue) []string {
			q.add("a", false)
			out := drain(q)
			q.add("a", true)
			return append(out, drain(q)...)
		}, []string{"a", "a"}},
		{"remove forgets", func(q *taintQueue) []string {
			q.add("a", false)
			q.add("b", false)
			q.add("c", false)
			q.remove("b")
			q.remove("zzz") // unknown: nothing
			q.add("b", false)
			return drain(q)
		}, []string{"a", "c", "b"}},
		{"remove after pop forgets", func(q *taintQueue) []string {
			q.add("a", false)
			out := drain(q)
			q.remove("a")
			q.add("a", false)
			return append(out, drain(q)...)
		}, []string{"a", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.ops(newTaintQueue(0.1, t0))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

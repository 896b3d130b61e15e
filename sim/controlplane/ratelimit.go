package controlplane

import (
	"time"
)

// taintQueue is a zone's RateLimitedTimedQueue: nodes waiting for a
// NoExecute taint, taken in order as a token bucket (burst 1) allows, in
// virtual time.
type taintQueue struct {
	order []string        // waiting, oldest first
	set   map[string]bool // waiting or already tainted (kept until removed)
	// the token bucket
	qps    float64
	tokens float64
	last   time.Time
}

func newTaintQueue(qps float64, now time.Time) *taintQueue {
	return &taintQueue{set: map[string]bool{}, qps: qps, tokens: evictionBurst, last: now}
}

// add queues a node unless it is queued or was tainted already; reset
// first forgets it (markNodeForTainting does, while the node lacks its
// taint), which moves it to the back.
func (q *taintQueue) add(name string, reset bool) {
	if reset {
		q.remove(name)
	}
	if q.set[name] {
		return
	}
	q.set[name] = true
	q.order = append(q.order, name)
}

// remove forgets a node.
func (q *taintQueue) remove(name string) {
	if !q.set[name] {
		return
	}
	delete(q.set, name)
	for i, n := range q.order {
		if n == name {
			q.order = append(q.order[:i], q.order[i+1:]...)
			return
		}
	}
}

func (q *taintQueue) len() int { return len(q.order) }

// pop takes the head; the node stays known so it is not queued again.
func (q *taintQueue) pop() string {
	name := q.order[0]
	q.order = q.order[1:]
	return name
}

func (q *taintQueue) refill(now time.Time) {
	if q.qps > 0 && now.After(q.last) {
		q.tokens = min(evictionBurst, q.tokens+now.Sub(q.last).Seconds()*q.qps)
	}
	q.last = now
}

// tryAccept takes a token if there is one.
func (q *taintQueue) tryAccept(now time.Time) bool {
	q.refill(now)
	if q.qps <= 0 || q.tokens < 1 {
		return false
	}
	q.tokens--
	return true
}

// nextTry is when the head could next be processed.
func (q *taintQueue) nextTry(now time.Time) (time.Time, bool) {
	if len(q.order) == 0 || q.qps <= 0 {
		return time.Time{}, false
	}
	q.refill(now)
	if q.tokens >= 1 {
		return now, true
	}
	return now.Add(time.Duration((1 - q.tokens) / q.qps * float64(time.Second))), true
}

// setRate is SwapLimiter: a fresh bucket at the new rate, drained if the
// old one had no token.
func (q *taintQueue) setRate(qps float64, now time.Time) {
	if qps == q.qps {
		return
	}
	q.refill(now)
	hadToken := q.qps > 0 && q.tokens >= 1
	q.qps, q.last = qps, now
	q.tokens = evictionBurst
	if !hadToken {
		q.tokens = 0
	}
}

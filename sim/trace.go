package sim

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Trace event names (INTERFACE.md).
const (
	EventNodeRegistered       = "NodeRegistered"
	EventLeaseRenewed         = "LeaseRenewed"
	EventLeaseRenewFailed     = "LeaseRenewFailed"
	EventNodeStatusPosted     = "NodeStatusPosted"
	EventNodeConditionChanged = "NodeConditionChanged"
	EventNodeTaintAdded       = "NodeTaintAdded"
	EventNodeTaintRemoved     = "NodeTaintRemoved"
	EventPodRunning           = "PodRunning"
	EventPodRejected          = "PodRejected"
	EventZoneStateChanged     = "ZoneStateChanged"
	EventPodBound             = "PodBound"
	EventPodEvicted           = "PodEvicted"
	EventFaultStarted         = "FaultStarted"
	EventFaultEnded           = "FaultEnded"
	EventExpectationPassed    = "ExpectationPassed"
	EventExpectationFailed    = "ExpectationFailed"
	EventCheckpointCreated    = "CheckpointCreated"
	EventCheckpointFailed     = "CheckpointFailed"
	EventContainerRestored    = "ContainerRestored"
	// EventContainerRestoreFailed: a container could not be restored from
	// its archive (missing, not an archive, not a regular file); pod,
	// node, path, error.
	EventContainerRestoreFailed = "ContainerRestoreFailed"
)

// Record is one line of trace.jsonl. Empty fields are left out; fields are
// written in a fixed order.
type Record struct {
	T      time.Duration // virtual time since the scenario start
	Event  string
	Node   string
	Pod    string
	Zone   string
	Type   string
	Status string
	Reason string
	Key    string
	Effect string
	Path   string
	Error  string

	entity int    // ordering among records of the same instant
	seq    uint64 // ordering within one entity
}

// AppendJSON appends the record as one JSON object, without a newline.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendFloat(b, float64(r.T.Milliseconds())/1000, 'f', -1, 64)
	b = appendField(b, "event", r.Event)
	b = appendField(b, "node", r.Node)
	b = appendField(b, "pod", r.Pod)
	b = appendField(b, "zone", r.Zone)
	b = appendField(b, "type", r.Type)
	b = appendField(b, "status", r.Status)
	b = appendField(b, "reason", r.Reason)
	b = appendField(b, "key", r.Key)
	b = appendField(b, "effect", r.Effect)
	b = appendField(b, "path", r.Path)
	b = appendField(b, "error", r.Error)
	return append(b, '}')
}

func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

// appendJSONString quotes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(b, '"')
}

// Tracer collects records during a window and writes them in order at its
// end. It counts every event, written or not.
type Tracer struct {
	mu      sync.Mutex
	pending []Record
	out     *bufio.Writer
	counts  map[string]int
	buf     []byte
	// kept are the records written so far, less the heartbeats.
	kept []Record
}

// heartbeats are the events not kept in memory: they are most of a full
// trace and nothing after the run needs them.
var heartbeats = map[string]bool{EventLeaseRenewed: true, EventNodeStatusPosted: true}

// Records returns the records traced so far, in order, less the
// heartbeats (LeaseRenewed, NodeStatusPosted).
func (t *Tracer) Records() []Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.kept)
}

// NewTracer writes to w (nil: count only).
func NewTracer(w io.Writer) *Tracer {
	t := &Tracer{counts: map[string]int{}}
	if w != nil {
		t.out = bufio.NewWriterSize(w, 1<<16)
	}
	return t
}

// flush writes the window's records sorted by time, then entity, then the
// entity's own order.
func (t *Tracer) flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	slices.SortFunc(t.pending, func(a, b Record) int {
		switch {
		case a.T != b.T:
			return cmp.Compare(a.T, b.T)
		case a.entity != b.entity:
			return cmp.Compare(a.entity, b.entity)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i := range t.pending {
		r := &t.pending[i]
		t.counts[r.Event]++
		if !heartbeats[r.Event] {
			t.kept = append(t.kept, *r)
		}
		if t.out == nil {
			continue
		}
		t.buf = r.AppendJSON(t.buf[:0])
		t.buf = append(t.buf, '\n')
		if _, err := t.out.Write(t.buf); err != nil {
			return err
		}
	}
	t.pending = t.pending[:0]
	if t.out != nil {
		return t.out.Flush()
	}
	return nil
}

// Counts returns how many records of each event were traced so far.
func (t *Tracer) Counts() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out
}

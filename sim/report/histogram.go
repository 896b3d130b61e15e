package report

import (
	"math"
	"time"
)

// Histogram buckets of request latency: bucket i holds latencies up to
// histMin·2^(i/4) (about ±9 % around a bucket's middle), from 10 µs to
// about 10 s; the last bucket holds everything longer.
const (
	histMin     = 10 * time.Microsecond
	histPerOct  = 4
	histBuckets = 20*histPerOct + 1
)

// Histogram counts durations in logarithmic buckets. The zero value is
// empty and ready to use.
type Histogram struct {
	Counts [histBuckets]uint32
	N      uint64
}

func histBucket(d time.Duration) int {
	if d <= histMin {
		return 0
	}
	i := int(math.Ceil(math.Log2(float64(d)/float64(histMin)) * histPerOct))
	return min(max(i, 0), histBuckets-1)
}

// histUpper is bucket i's upper bound.
func histUpper(i int) time.Duration {
	return time.Duration(float64(histMin) * math.Exp2(float64(i)/histPerOct))
}

// histMiddle is bucket i's geometric middle.
func histMiddle(i int) time.Duration {
	if i == 0 {
		return histMin
	}
	return time.Duration(float64(histUpper(i)) / math.Exp2(0.5/histPerOct))
}

// Add counts d.
func (h *Histogram) Add(d time.Duration) {
	h.Counts[histBucket(d)]++
	h.N++
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.N += o.N
}

// sub is h less o (o a prefix of h).
func (h Histogram) sub(o *Histogram) Histogram {
	for i, c := range o.Counts {
		h.Counts[i] -= c
	}
	h.N -= o.N
	return h
}

// Quantile is the geometric middle of the bucket holding the q-quantile
// (within about ±9 % of it); false when h is empty.
func (h *Histogram) Quantile(q float64) (time.Duration, bool) {
	if h.N == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(h.N)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.Counts {
		seen += uint64(c)
		if seen >= rank {
			return histMiddle(i), true
		}
	}
	return histMiddle(histBuckets - 1), true
}

// Package shard splits a scenario's fleet between processes: shard I of N
// runs the nodes whose name hashes into its slice.
//
// The hash is Lamping and Veach's jump consistent hash ("A Fast, Minimal
// Memory, Consistent Hash Algorithm", 2014) of the FNV-1a 64 hash of the
// node name: it depends on the name alone (not on the fleet's order or
// size), the N slices are even, and going from N to N+1 shards moves only
// the 1/(N+1) of the nodes the new shard takes.
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is slice Index (0-based) of Count. The zero Shard is not sharded:
// it owns every node.
type Shard struct {
	Index, Count int
}

// Parse reads "I/N": 0 <= I < N.
func Parse(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%q: must be I/N, shard I (from 0) of N, such as 0/3", s)
	}
	index, err := strconv.Atoi(i)
	if err != nil {
		return Shard{}, fmt.Errorf("%q: the shard index %q is not a whole number", s, i)
	}
	count, err := strconv.Atoi(n)
	if err != nil {
		return Shard{}, fmt.Errorf("%q: the shard count %q is not a whole number", s, n)
	}
	if count < 1 {
		return Shard{}, fmt.Errorf("%q: the shard count must be at least 1", s)
	}
	if index < 0 || index >= count {
		return Shard{}, fmt.Errorf("%q: the shard index must be from 0 to %d", s, count-1)
	}
	return Shard{Index: index, Count: count}, nil
}

// FromHostname is the shard whose index is the ordinal a StatefulSet gives
// its pod, the number after the last "-" of hostname, of count shards.
func FromHostname(hostname string, count int) (Shard, error) {
	dash := strings.LastIndexByte(hostname, '-')
	if dash < 0 {
		return Shard{}, fmt.Errorf("hostname %q has no StatefulSet ordinal (NAME-N)", hostname)
	}
	return Parse(hostname[dash+1:] + "/" + strconv.Itoa(count))
}

// Sharded says whether the fleet is split.
func (s Shard) Sharded() bool { return s.Count > 0 }

// String is "I/N", "" when not sharded.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// LeaseName is the name of the Lease the shard's holder keeps.
func (s Shard) LeaseName() string {
	return fmt.Sprintf("nodesim-shard-%d-of-%d", s.Index, s.Count)
}

// Owns says whether the node named name is the shard's.
func (s Shard) Owns(name string) bool {
	if !s.Sharded() {
		return true
	}
	return Of(name, s.Count) == s.Index
}

// Of is the shard, of count, that owns the node named name.
func Of(name string, count int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	return jump(h.Sum64(), count)
}

// jump is the jump consistent hash of key into buckets buckets, as the
// paper gives it.
func jump(key uint64, buckets int) int {
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

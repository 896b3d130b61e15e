package shard

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, ok := range []string{"0/1", "0/3", "2/3"} {
		s, err := Parse(ok)
		if err != nil || s.String() != ok {
			t.Errorf("Parse(%q) = %v, %v", ok, s, err)
		}
	}
	for bad, want := range map[string]string{"3/3": "from 0 to 2", "x": "must be I/N", "0/0": "at least 1",
		"-1/3": "from 0 to 2", "a/3": "index", "1/b": "count", "": "must be I/N"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error saying %q", bad, err, want)
		}
	}
}

func TestFromHostname(t *testing.T) {
	if s, err := FromHostname("nodesim-2", 3); err != nil || s != (Shard{2, 3}) {
		t.Errorf("nodesim-2 of 3 = %v, %v", s, err)
	}
	for _, bad := range []string{"nodesim", "nodesim-3", "nodesim-x"} {
		if _, err := FromHostname(bad, 3); err == nil {
			t.Errorf("FromHostname(%q, 3): want an error", bad)
		}
	}
}

// TestOwnsPartitions: the shards of N together own every node once, in
// near-even slices, and going to N+1 shards moves only the nodes the new
// shard takes.
func TestOwnsPartitions(t *testing.T) {
	const nodes = 30000
	names := make([]string, nodes)
	for i := range names {
		names[i] = fmt.Sprintf("zone-a-%05d", i)
	}
	for _, n := range []int{1, 3, 7} {
		counts := make([]int, n)
		for _, name := range names {
			owners := 0
			for i := range n {
				if (Shard{i, n}).Owns(name) {
					owners++
					counts[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("%s has %d owners of %d shards", name, owners, n)
			}
		}
		for i, c := range counts {
			if even := nodes / n; c < even*9/10 || c > even*11/10 {
				t.Errorf("shard %d/%d owns %d nodes, want about %d", i, n, c, even)
			}
		}
		moved := 0
		for _, name := range names {
			before, after := Of(name, n), Of(name, n+1)
			if before != after {
				moved++
				if after != n {
					t.Fatalf("%s moved from shard %d to %d going from %d to %d shards: only to the new one", name, before, after, n, n+1)
				}
			}
		}
		if want := nodes / (n + 1); moved < want*9/10 || moved > want*11/10 {
			t.Errorf("%d to %d shards moved %d nodes, want about %d", n, n+1, moved, want)
		}
	}
	if !(Shard{}).Owns("anything") {
		t.Error("the zero Shard must own every node")
	}
}

package run

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/nodesim/nodesim/scenarios"
)

// TestAddressesAreDistinct: up to the largest fleet a scenario may declare,
// every node has its own InternalIP in the node network and its own pod
// range, and no pod range overlaps the node network (a fleet past 65,536
// nodes once reused the first nodes' pod ranges).
func TestAddressesAreDistinct(t *testing.T) {
	_, nodeNet, _ := net.ParseCIDR("172.16.0.0/12")
	nodes := make(map[uint32]int, scenarios.MaxNodes)
	pods := make(map[uint32]int, scenarios.MaxNodes)
	for i := range scenarios.MaxNodes {
		ip := NodeAddress(i)
		if !nodeNet.Contains(ip) {
			t.Fatalf("node %d: InternalIP %s outside %s", i, ip, nodeNet)
		}
		if j, ok := nodes[ipKey(ip)]; ok {
			t.Fatalf("nodes %d and %d share InternalIP %s", j, i, ip)
		}
		nodes[ipKey(ip)] = i
		cidr := PodCIDR(i)
		if ones, _ := cidr.Mask.Size(); ones != 24 || nodeNet.Contains(cidr.IP) || cidr.IP.IsLoopback() {
			t.Fatalf("node %d: pod range %s, want a /24 outside the node network and loopback", i, cidr)
		}
		if j, ok := pods[ipKey(cidr.IP)]; ok {
			t.Fatalf("nodes %d and %d share the pod range %s", j, i, cidr)
		}
		pods[ipKey(cidr.IP)] = i
	}
	if got := PodCIDR(0).String(); got != "10.0.0.0/24" {
		t.Errorf("the first node's pod range is %s, want 10.0.0.0/24", got)
	}
	if got := PodCIDR(65536).String(); got != "11.0.0.0/24" {
		t.Errorf("node 65,536's pod range is %s, want 11.0.0.0/24", got)
	}
}

func ipKey(ip net.IP) uint32 { return binary.BigEndian.Uint32(ip.To4()) }

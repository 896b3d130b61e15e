package run

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nodesim/nodesim/scenarios"
)

// What a scenario costs in memory, measured: README, about 220 KB of live
// heap a node at 10,000 nodes, most of it the API server's watch caches;
// a pod is an object in etcd, the watch cache, the informers, a kubelet
// and a runtime: 100 nodes with 10,000 running pods peaked at 1.6 GB of
// RSS against 0.24 GB without them, about 140 KB a pod. An estimate to
// refuse what cannot fit before hours of set-up, not a budget.
const (
	memoryBase    = 512 << 20 // the API server, etcd and the Go runtime
	memoryPerNode = 256 << 10
	memoryPerPod  = 128 << 10
)

// MemoryNeeded estimates the memory a run of sc needs at its largest: every
// node it ever has (the pools' counts plus every addNodes step) and every
// pod of its workloads.
func MemoryNeeded(sc *scenarios.Scenario) uint64 {
	nodes := uint64(sc.NodeCount())
	for _, st := range sc.Timeline {
		if st.Do == "addNodes" {
			nodes += uint64(st.Count)
		}
	}
	var pods uint64
	for _, w := range sc.Workloads {
		pods += uint64(w.Replicas)
	}
	return memoryBase + nodes*memoryPerNode + pods*memoryPerPod
}

// memoryAvailable is what this process can use: the machine's available
// memory (MemAvailable), or less if its cgroup's limit leaves less; false
// when neither can be read.
func memoryAvailable() (uint64, bool) {
	avail, ok := meminfoAvailable("/proc/meminfo")
	if limit, lok := cgroupRoom("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"); lok && (!ok || limit < avail) {
		avail, ok = limit, true
	}
	return avail, ok
}

func meminfoAvailable(path string) (uint64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// cgroupRoom is a cgroup v2 limit less what the cgroup uses.
func cgroupRoom(maxPath, currentPath string) (uint64, bool) {
	readUint := func(p string) (uint64, bool) {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, false
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil // "max" is no limit
	}
	limit, ok := readUint(maxPath)
	if !ok {
		return 0, false
	}
	used, _ := readUint(currentPath)
	if used >= limit {
		return 0, true
	}
	return limit - used, true
}

// checkMemory refuses a scenario that needs more memory than is available,
// with both figures, before anything starts.
func checkMemory(sc *scenarios.Scenario) error {
	need := MemoryNeeded(sc)
	avail, ok := memoryAvailable()
	if !ok || need <= avail {
		return nil
	}
	return &InputError{fmt.Errorf("scenario %s needs about %s of memory (%d nodes at most, %d pods), but only %s is available: run fewer nodes or pods, or on a larger machine",
		sc.Name, gib(need), maxNodes(sc), pods(sc), gib(avail))}
}

func maxNodes(sc *scenarios.Scenario) uint64 {
	return (MemoryNeeded(sc) - memoryBase - pods(sc)*memoryPerPod) / memoryPerNode
}

func pods(sc *scenarios.Scenario) uint64 {
	var n uint64
	for _, w := range sc.Workloads {
		n += uint64(w.Replicas)
	}
	return n
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

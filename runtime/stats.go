package runtime

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// writableLayerBytes is what a container writes to its writable layer.
const writableLayerBytes = 32 << 10

// ContainerStats reports a container's CPU, memory and writable layer.
func (r *Runtime) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", req.GetContainerId())
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ContainerStatsResponse{Stats: r.statsLocked(c, c.observeLocked(now))}, nil
}

// ListContainerStats reports the stats of the containers the filter
// selects, oldest first.
func (r *Runtime) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	return &runtimeapi.ListContainerStatsResponse{Stats: r.listStats(ctx, req.GetFilter())}, nil
}

// StreamContainerStats is ListContainerStats as a stream.
func (r *Runtime) StreamContainerStats(req *runtimeapi.StreamContainerStatsRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamContainerStatsResponse]) error {
	return stream.Send(&runtimeapi.StreamContainerStatsResponse{ContainerStats: r.listStats(stream.Context(), req.GetFilter())})
}

func (r *Runtime) listStats(ctx context.Context, f *runtimeapi.ContainerStatsFilter) []*runtimeapi.ContainerStats {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtimeapi.ContainerStats
	for _, c := range r.sortedContainersLocked() {
		if f.GetId() != "" && !strings.HasPrefix(c.id, f.GetId()) {
			continue
		}
		if f.GetPodSandboxId() != "" && !strings.HasPrefix(c.sandbox.id, f.GetPodSandboxId()) {
			continue
		}
		if !matchLabels(c.config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, r.statsLocked(c, c.observeLocked(now)))
	}
	return out
}

// statsLocked is a container's stats at now: CPU at
// DefaultCPUNanoCoresPerSecond while running, the working set of its
// running time (see container.workingSet).
func (r *Runtime) statsLocked(c *container, now time.Time) *runtimeapi.ContainerStats {
	ran := c.ranLocked(now)
	ws := uint64(c.workingSet(ran))
	ts := now.UnixNano()
	var nanoCores uint64
	if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		nanoCores = DefaultCPUNanoCoresPerSecond
	}
	mem := &runtimeapi.MemoryUsage{
		Timestamp:       ts,
		WorkingSetBytes: &runtimeapi.UInt64Value{Value: ws},
		UsageBytes:      &runtimeapi.UInt64Value{Value: ws},
		RssBytes:        &runtimeapi.UInt64Value{Value: ws},
		PageFaults:      &runtimeapi.UInt64Value{Value: ws / 4096},
		MajorPageFaults: &runtimeapi.UInt64Value{Value: 0},
	}
	if c.memLimit > 0 {
		mem.AvailableBytes = &runtimeapi.UInt64Value{Value: uint64(max(0, c.memLimit-int64(ws)))}
	}
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{
			Id:          c.id,
			Metadata:    c.config.GetMetadata(),
			Labels:      copyMap(c.config.GetLabels()),
			Annotations: copyMap(c.config.GetAnnotations()),
		},
		Cpu: &runtimeapi.CpuUsage{
			Timestamp:            ts,
			UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: uint64(ran) / uint64(time.Second/DefaultCPUNanoCoresPerSecond)},
			UsageNanoCores:       &runtimeapi.UInt64Value{Value: nanoCores},
		},
		Memory: mem,
		WritableLayer: &runtimeapi.FilesystemUsage{
			Timestamp:  ts,
			FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: filepath.Join(r.cfg.RootDir, "containerd", "io.containerd.snapshotter.v1.overlayfs")},
			UsedBytes:  &runtimeapi.UInt64Value{Value: writableLayerBytes},
			InodesUsed: &runtimeapi.UInt64Value{Value: 8},
		},
	}
}

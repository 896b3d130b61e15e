package apiserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/sim"
)

// Calibration of the raw etcd write rate: the ceiling the API server's
// write path is measured against.
const (
	// CalibrationWriters is how many clients put at once, as a fleet of
	// kubelets writes its leases concurrently.
	CalibrationWriters = 64
	// calibrationValueSize is about a Lease in protobuf.
	calibrationValueSize = 300
	// calibrationPrefix keeps the calibration's keys away from the API
	// server's (which live under /registry).
	calibrationPrefix = "/nodesim-calibration/"
)

// MeasureEtcdPuts measures raw puts per second into the server's embedded
// etcd from CalibrationWriters concurrent writers for d, each rewriting its
// own key, and deletes the keys and compacts their history afterwards. The writers use the API
// server's in-process etcd client, so the ceiling and the API server's
// writes take the same path into etcd.
func (s *Server) MeasureEtcdPuts(ctx context.Context, d time.Duration) (float64, error) {
	cli := s.storage.raw
	value := string(make([]byte, calibrationValueSize))
	var puts, failed atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range CalibrationWriters {
		wg.Go(func() {
			key := fmt.Sprintf("%s%03d", calibrationPrefix, w)
			for runCtx.Err() == nil {
				if _, err := cli.Put(runCtx, key, value); err == nil {
					puts.Add(1)
				} else if runCtx.Err() == nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	// etcd refuses puts beyond what it can apply ("too many requests"):
	// backpressure, not a fault; only a run where nothing got through is.
	if puts.Load() == 0 {
		return 0, fmt.Errorf("calibrate etcd: all %d puts failed", failed.Load())
	}
	// The puts leave hundreds of thousands of revisions behind: compact
	// them away, so that the simulation that follows starts from a store
	// without them.
	deleted, err := cli.Delete(ctx, calibrationPrefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("calibrate etcd: clean up: %w", err)
	}
	if _, err := cli.Compact(ctx, deleted.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		return 0, fmt.Errorf("calibrate etcd: compact: %w", err)
	}
	return float64(puts.Load()) / elapsed, nil
}

// LeaseCeiling is the API server's own Lease-update ceiling on this
// machine: what MeasureLeaseUpdates saw.
type LeaseCeiling struct {
	// WritesPerSecond is Lease updates per wall second.
	WritesPerSecond float64
	// CPUMillisecondsPerWrite is the process's CPU time per update: the
	// API server's write path and etcd, and nothing else.
	CPUMillisecondsPerWrite float64
}

// ceilingWarmUp is how long the ceiling's writers run before they are
// measured.
const ceilingWarmUp = time.Second

// ceilingNodePrefix names the nodes whose Leases the ceiling writes.
const ceilingNodePrefix = "nodesim-ceiling-"

// MeasureLeaseUpdates measures the most Lease updates per second the API
// server takes on this machine: CalibrationWriters in-process clients,
// each a kubelet (system:node:<name>, its client certificate verified on
// every request, Node authorization and NodeRestriction), renewing its
// own Lease in kube-node-lease back to back with protobuf updates, as
// kubelets do, for d after a second of warm-up. Nothing else is simulated: it is the ceiling a
// simulation's heartbeats are measured against (bench's ceilingShare).
// The Leases are deleted and their history compacted afterwards. Measure
// while nothing else runs in the process: the CPU figure is the
// process's.
func (s *Server) MeasureLeaseUpdates(ctx context.Context, d time.Duration) (LeaseCeiling, error) {
	leases := make([]coordinationv1client.LeaseInterface, CalibrationWriters)
	current := make([]*coordinationv1.Lease, CalibrationWriters)
	for w := range CalibrationWriters {
		name := fmt.Sprintf("%s%03d", ceilingNodePrefix, w)
		cfg, err := s.NodeConfig(name)
		if err != nil {
			return LeaseCeiling{}, err
		}
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return LeaseCeiling{}, err
		}
		leases[w] = client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
		current[w], err = leases[w].Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(name),
				LeaseDurationSeconds: ptr.To[int32](40),
				RenewTime:            &metav1.MicroTime{Time: time.Now()},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return LeaseCeiling{}, fmt.Errorf("lease ceiling: %w", err)
		}
	}
	var writes, failed atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, ceilingWarmUp+d)
	defer cancel()
	var wg sync.WaitGroup
	for w := range CalibrationWriters {
		wg.Go(func() {
			for runCtx.Err() == nil {
				lease := current[w].DeepCopy()
				lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
				updated, err := leases[w].Update(runCtx, lease, metav1.UpdateOptions{})
				switch {
				case err == nil:
					current[w] = updated
					writes.Add(1)
				case runCtx.Err() == nil:
					failed.Add(1)
				}
			}
		})
	}
	// What a server that just started does besides (its post-start
	// controllers settling, caches filling, stacks growing) is left out.
	select {
	case <-time.After(ceilingWarmUp):
	case <-ctx.Done():
	}
	start, cpuStart, writesStart := time.Now(), sim.ProcessCPU(), writes.Load()
	wg.Wait()
	wall, cpu, measured := time.Since(start), sim.ProcessCPU()-cpuStart, writes.Load()-writesStart
	if ctx.Err() != nil {
		return LeaseCeiling{}, ctx.Err()
	}
	if n := failed.Load(); n > 0 {
		return LeaseCeiling{}, fmt.Errorf("lease ceiling: %d of %d updates failed", n, n+writes.Load())
	}
	if measured <= 0 {
		return LeaseCeiling{}, fmt.Errorf("lease ceiling: no update in %s", d)
	}
	for w := range CalibrationWriters {
		if err := leases[w].Delete(ctx, current[w].Name, metav1.DeleteOptions{}); err != nil {
			return LeaseCeiling{}, fmt.Errorf("lease ceiling: clean up: %w", err)
		}
	}
	// Compact the updates' history away, as MeasureEtcdPuts does: the
	// simulation that follows starts from a store without it.
	status, err := s.storage.raw.Get(ctx, calibrationPrefix, clientv3.WithCountOnly())
	if err != nil {
		return LeaseCeiling{}, fmt.Errorf("lease ceiling: %w", err)
	}
	if _, err := s.storage.raw.Compact(ctx, status.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		return LeaseCeiling{}, fmt.Errorf("lease ceiling: compact: %w", err)
	}
	return LeaseCeiling{
		WritesPerSecond:         float64(measured) / wall.Seconds(),
		CPUMillisecondsPerWrite: 1000 * cpu.Seconds() / float64(measured),
	}, nil
}

package apiserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
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

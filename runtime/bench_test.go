package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim"
)

// BenchmarkCheckpoint checkpoints containers across many nodes' runtimes,
// each node an entity of one engine (so nodes run in parallel as in a
// run), and reports checkpoints per wall second. Each container's archive
// is rewritten in place, so disk use stays small.
func BenchmarkCheckpoint(b *testing.B) {
	const nodes, perNode = 50, 4
	s := newSimulation(b)
	dir := b.TempDir()
	runtimes := make([]*Runtime, nodes)
	ids := make([][]string, nodes)
	var errs []*error
	for n := range nodes {
		name := fmt.Sprintf("node-%03d", n)
		r := newRuntime(b, name, dir, s.engine.Clock())
		runtimes[n] = r
		errs = append(errs, s.process(name, func(ctx context.Context, p *sim.Proc) error {
			for c := range perNode {
				id, err := podIn(ctx, r, fmt.Sprintf("pod-%d", c), "app", 256<<20, 1<<30)
				if err != nil {
					return err
				}
				ids[n] = append(ids[n], id)
			}
			return nil
		}))
	}
	s.run(time.Minute)
	for _, err := range errs {
		if *err != nil {
			b.Fatal(*err)
		}
	}
	b.ResetTimer()
	errs = errs[:0]
	for n, r := range runtimes {
		share := b.N / nodes
		if n < b.N%nodes {
			share++
		}
		errs = append(errs, s.process(r.Node()+"-checkpoints", func(ctx context.Context, p *sim.Proc) error {
			for i := range share {
				id := ids[n][i%perNode]
				loc := filepath.Join(r.CheckpointsDir(), fmt.Sprintf("checkpoint-pod-%d_default-app.tar", i%perNode))
				if err := checkpoint(ctx, r, id, loc, 0); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	virtualStart := s.engine.Now()
	for _, err := range errs {
		for *err != nil && (*err).Error() == "process did not finish" {
			s.run(time.Hour)
		}
	}
	b.StopTimer()
	for _, err := range errs {
		if *err != nil {
			b.Fatal(*err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkpoints/s")
	b.ReportMetric(s.engine.Now().Sub(virtualStart).Seconds()/b.Elapsed().Seconds(), "virtual-s/wall-s")
}

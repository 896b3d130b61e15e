package devices

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim"
)

// TestVirtualTimeFromEntity runs the plugin's loss and the removal inside a
// sim process: the stop time and the grace period are the entity's virtual
// time, not the engine clock's (which lags inside a window).
func TestVirtualTimeFromEntity(t *testing.T) {
	engine, err := sim.New(sim.Config{MaxWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	dir, err := os.MkdirTemp("", "dp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	m, err := NewManager(ManagerConfig{Dir: filepath.Join(dir, "device-plugins"), Clock: engine.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := NewFakePlugin(FakePluginConfig{Dir: m.Dir(), ResourceName: gpu, Count: 2, Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	wallCtx := testCtx(t)
	if err := f.Start(wallCtx); err != nil {
		t.Fatal(err)
	}

	type seen struct {
		at                    time.Duration
		capacity, allocatable int64
	}
	var got []seen
	en := engine.NewEntity("node-0")
	start := engine.Now()
	en.Go(start.Add(time.Minute), "devices", func(p *sim.Proc) {
		ctx := sim.WithEntity(wallCtx, en)
		look := func() {
			c, a := m.Resources(ctx)
			qc, qa := c[gpu], a[gpu]
			got = append(got, seen{en.Since(), qc.Value(), qa.Value()})
		}
		if err := f.Stop(ctx); err != nil {
			t.Error(err)
			return
		}
		look()
		p.Sleep(DefaultEndpointStopGracePeriod)
		look()
		p.Sleep(time.Second)
		look()
	})
	if err := engine.Run(context.Background(), start.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := []seen{{time.Minute, 2, 0}, {6 * time.Minute, 2, 0}, {6*time.Minute + time.Second, 0, 0}}
	if len(got) != len(want) {
		t.Fatalf("saw %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("look %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

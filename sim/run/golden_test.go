package run

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden traces in scenarios/golden from this run")

// goldenDir holds the trace of every example scenario, compared byte for
// byte. Regenerate with `go test ./sim/run -run Golden -rewrite` and review
// the diff.
const goldenDir = "../../scenarios/golden"

// fullTrace lists the examples whose golden has every heartbeat.
var fullTrace = map[string]bool{"heartbeats-small": true}

func runTrace(t *testing.T, path string, full bool) ([]byte, *Summary) {
	t.Helper()
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	s, err := Run(context.Background(), sc, Options{OutDir: out, TraceFull: full})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, TraceFile))
	if err != nil {
		t.Fatal(err)
	}
	return b, s
}

func TestGoldenTraces(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 7 {
		t.Fatalf("only %d example scenarios", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			got, s := runTrace(t, file, fullTrace[name])
			if !s.Passed() {
				t.Errorf("the example's expectations failed: %+v", s.Expectations)
			}
			golden := filepath.Join(goldenDir, name+".jsonl")
			if *rewrite {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("trace differs from %s (rerun with -rewrite and review the diff):\n%s", golden, firstDiff(want, got))
			}
		})
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	const scenario = "../../scenarios/default.yaml"
	first, s := runTrace(t, scenario, true)
	prev := runtime.GOMAXPROCS(1)
	second, _ := runTrace(t, scenario, true)
	runtime.GOMAXPROCS(2)
	third, _ := runTrace(t, scenario, true)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(first, second) {
		t.Fatalf("GOMAXPROCS 1 changed the trace:\n%s", firstDiff(first, second))
	}
	if !bytes.Equal(first, third) {
		t.Fatalf("a second run changed the trace:\n%s", firstDiff(first, third))
	}
	if s.Events[sim.EventNodeRegistered] != 60 || s.Events[sim.EventLeaseRenewed] < 60*50 {
		t.Fatalf("events %v", s.Events)
	}
}

func TestSeedChangesTheTrace(t *testing.T) {
	sc, err := scenarios.Load("../../scenarios/heartbeats-small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	traces := map[uint64][]byte{}
	for _, seed := range []uint64{1, 2} {
		out := t.TempDir()
		if _, err := Run(context.Background(), sc, Options{OutDir: out, TraceFull: true, Seed: &seed}); err != nil {
			t.Fatal(err)
		}
		traces[seed], _ = os.ReadFile(filepath.Join(out, TraceFile))
	}
	if bytes.Equal(traces[1], traces[2]) {
		t.Fatal("seeds 1 and 2 gave the same trace: jitter does not come from the seed")
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return "(equal)"
}

package run

import (
	"io"
	"os"
	"testing"

	"k8s.io/klog/v2"

	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/kcm"
)

func TestMain(m *testing.M) {
	klog.LogToStderr(false) // the API server's informational logs drown test output
	klog.SetOutput(io.Discard)
	sim.TuneGC()
	os.Exit(m.Run())
}

// runControllers is run's default --controllers selection, for tests that
// build a world themselves.
func runControllers(t *testing.T) *kcm.Selection {
	t.Helper()
	sel, err := kcm.ParseControllers(kcm.DefaultRunControllers)
	if err != nil {
		t.Fatal(err)
	}
	return &sel
}

package run

import (
	"io"
	"os"
	"testing"

	"k8s.io/klog/v2"

	"github.com/nodesim/nodesim/sim"
)

func TestMain(m *testing.M) {
	klog.LogToStderr(false) // the API server's informational logs drown test output
	klog.SetOutput(io.Discard)
	sim.TuneGC()
	os.Exit(m.Run())
}

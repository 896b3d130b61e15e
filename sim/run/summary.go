package run

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nodesim/nodesim/internal/version"
	"github.com/nodesim/nodesim/sim"
)

// Summary is summary.json (INTERFACE.md).
type Summary struct {
	// Nodesim is the build that ran: version, commit, Go version and the
	// Kubernetes release served.
	Nodesim *version.Info `json:"nodesim,omitempty"`
	// ScenarioFile is the scenario's path as given; KubernetesVersion its
	// spec.kubernetesVersion; Flags the command line's flags.
	ScenarioFile      string `json:"scenarioFile,omitempty"`
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	Flags             string `json:"flags,omitempty"`
	// TraceRecords is how many records (lines) trace.jsonl holds.
	TraceRecords int `json:"traceRecords"`
	// API is the run's API requests: how many, how many failed, and their
	// wall-clock latency (never in the trace).
	API *APISummary `json:"api,omitempty"`

	Scenario       string                      `json:"scenario"`
	Seed           uint64                      `json:"seed"`
	Nodes          int                         `json:"nodes"`
	VirtualSeconds float64                     `json:"virtualSeconds"`
	WallSeconds    float64                     `json:"wallSeconds"`
	Speedup        float64                     `json:"speedup"`
	APIWrites      map[string]map[string]int64 `json:"apiWrites"`
	APIBytes       map[string]map[string]int64 `json:"apiBytes"`
	Events         map[string]int              `json:"events"`
	Expectations   []Expectation               `json:"expectations"`
	// FailedSteps are the timeline steps that could not happen (a
	// checkpoint that failed, a restore with no archive or whose
	// container could not be restored), in trace order: a run with no
	// expectations still says what it did not do.
	FailedSteps []FailedStep `json:"failedSteps"`
}

// FailedStep is a timeline step that could not happen, from its trace
// record.
type FailedStep struct {
	// T is the virtual time in seconds, as the trace's t.
	T     float64 `json:"t"`
	Event string  `json:"event"`
	Type  string  `json:"type,omitempty"`
	Pod   string  `json:"pod,omitempty"`
	Node  string  `json:"node,omitempty"`
	Error string  `json:"error"`
}

// failedSteps picks the records of steps that could not happen.
func failedSteps(records []sim.Record) []FailedStep {
	out := []FailedStep{}
	for _, r := range records {
		switch {
		case r.Event == sim.EventCheckpointFailed, r.Event == sim.EventContainerRestoreFailed,
			(r.Event == sim.EventFaultStarted || r.Event == sim.EventFaultEnded) && r.Error != "":
			out = append(out, FailedStep{T: r.T.Seconds(), Event: r.Event, Type: r.Type, Pod: r.Pod, Node: r.Node, Error: r.Error})
		}
	}
	return out
}

// Expectation is one checked expectation of the scenario.
type Expectation struct {
	Type   string `json:"type"`
	Reason string `json:"reason,omitempty"`
	// Expected and Seen are Reason's halves: what the scenario asked for
	// and what the run showed.
	Expected string `json:"expected,omitempty"`
	Seen     string `json:"seen,omitempty"`
	// Line is the expectation's line in the scenario file.
	Line int `json:"line,omitempty"`
	// At is when the verdict was reached, in virtual seconds.
	At     float64 `json:"at"`
	Passed bool    `json:"passed"`
}

// APISummary is summary.json's api: every request of the simulation.
type APISummary struct {
	Requests int64 `json:"requests"`
	// Failed got no answer, a 5xx or a 429.
	Failed int64 `json:"failed"`
	// LatencySeconds are wall-clock percentiles (p50, p90, p99) of the
	// requests but watches, from log buckets (±9 %).
	LatencySeconds map[string]float64 `json:"latencySeconds,omitempty"`
}

// Passed says whether every expectation held.
func (s *Summary) Passed() bool {
	for _, e := range s.Expectations {
		if !e.Passed {
			return false
		}
	}
	return true
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// writeFileAtomic writes path through a temporary file in the same folder
// and a rename, so that a reader never sees half a file and a failed
// write leaves nothing behind.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

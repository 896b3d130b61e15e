package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodesim/nodesim/sim/apiserver"
	"github.com/nodesim/nodesim/sim/metrics"
	simrun "github.com/nodesim/nodesim/sim/run"
)

type runOptions struct {
	out         string
	seed        uint64
	controllers controllersFlag
	trace       string
	pace        string
	// cpuProfile writes a CPU profile of the run (for performance work).
	cpuProfile string
	// metricsAddr, if set, serves /metrics there during the run.
	metricsAddr string
	// stateDir holds every node's root dir (default OUT/kubelet).
	stateDir string
}

func newRunCommand() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Run a scenario on the embedded API server and write its trace, summary and report",
		Long: `run replays a scenario deterministically on a fresh embedded API server:
the same scenario and seed give the same trace.jsonl, byte for byte. It
writes DIR/trace.jsonl, DIR/summary.json, DIR/report.html and
DIR/metrics.prom (DIR defaults to ./nodesim-out/<scenario name>). Exit status: 0 all expectations held, 1
one failed, 2 bad input.`,
		Args: oneScenario("run"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "output directory (default ./nodesim-out/<scenario name>)")
	seedFlag(cmd, &o.seed)
	f.StringVar(&o.trace, "trace", "changes", "what the trace holds: changes, or full (every heartbeat)")
	f.StringVar(&o.pace, "pace", "max", "virtual time per wall time: max (as fast as possible) or NX, e.g. 10X")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", metricsAddrUsage)
	f.StringVar(&o.stateDir, "state-dir", "", "the nodes' root dirs: checkpoints, cri.sock, device-plugins/ (default OUT/kubelet)")
	o.controllers.add(cmd)
	return cmd
}

func (o *runOptions) run(cmd *cobra.Command, path string) error {
	if o.trace != "changes" && o.trace != "full" {
		return badInput(fmt.Errorf("--trace %q: must be changes or full", o.trace))
	}
	pace, err := parsePace(o.pace)
	if err != nil {
		return badInput(err)
	}
	sc, err := loadScenario(cmd.Context(), path)
	if err != nil {
		return badInput(err)
	}
	controllers, err := o.controllers.value(cmd)
	if err != nil {
		return err
	}
	opts := simrun.Options{OutDir: o.out, TraceFull: o.trace == "full", Pace: pace, StateDir: o.stateDir,
		Controllers: controllers, Flags: givenFlags(cmd)}
	if opts.OutDir == "" {
		opts.OutDir = filepath.Join("nodesim-out", sc.Name)
	}
	if cmd.Flags().Changed("seed") {
		seed := o.seed
		opts.Seed = &seed
	}
	out := cmd.OutOrStdout()
	if isTerminal(out) {
		opts.Progress = progressLine(out, sc.Duration)
	}
	if o.metricsAddr != "" {
		if opts.MetricsListener, err = listenMetrics(o.metricsAddr, out); err != nil {
			return err
		}
		defer opts.MetricsListener.Close() // Run closes it; this is for a return before
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return badInput(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return badInput(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	summary, err := simrun.Run(cmd.Context(), sc, opts)
	if isTerminal(out) {
		fmt.Fprintln(out)
	}
	if err != nil {
		return runError(err)
	}
	fmt.Fprintf(out, "%s: %d nodes, %s virtual in %.1fs (%.1fx), %d events; wrote %s\n",
		sc.Name, summary.Nodes, sc.Duration, summary.WallSeconds, summary.Speedup, totalEvents(summary), opts.OutDir)
	if !summary.Passed() {
		return &exitError{code: exitFailed, err: failedExpectations(cmd.ErrOrStderr(), path, summary)}
	}
	return nil
}

// failedExpectations names each failed expectation on w, in nodesim's
// error format (FILE:LINE: spec.expect[i]: type: expected ...; seen ...),
// and returns the error that ends the run.
func failedExpectations(w io.Writer, path string, s *simrun.Summary) error {
	failed := 0
	for i, e := range s.Expectations {
		if e.Passed {
			continue
		}
		failed++
		where := path
		if e.Line > 0 {
			where += ":" + strconv.Itoa(e.Line)
		}
		what := e.Reason
		if e.Expected != "" {
			what = e.Expected + "; seen: " + e.Seen
		}
		printError(w, fmt.Errorf("%s: spec.expect[%d]: %s: %s", where, i, e.Type, what))
	}
	return fmt.Errorf("%d of %d expectations failed (details in summary.json and report.html)", failed, len(s.Expectations))
}

// DefaultBenchSeed is the seed of bench's fleet when --seed is not given.
const DefaultBenchSeed = 1

// seedFlag is --seed, the same in run and bench: a whole number, by default
// the scenario's own (bench's fleet: DefaultBenchSeed).
func seedFlag(cmd *cobra.Command, p *uint64) {
	cmd.Flags().Uint64Var(p, "seed", 0, fmt.Sprintf("seed of every random choice, a whole number ≥ 0 (default: the scenario's spec.seed; bench's fleet: %d)", DefaultBenchSeed))
}

// parsePace reads "max" (0: as fast as possible) or "NX" (N > 0).
func parsePace(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToUpper(s), "X"), 64)
	if err != nil || !strings.HasSuffix(strings.ToUpper(s), "X") || n <= 0 {
		return 0, fmt.Errorf("--pace %q: must be max or a positive multiple like 10X", s)
	}
	return n, nil
}

func totalEvents(s *simrun.Summary) int {
	n := 0
	for _, c := range s.Events {
		n += c
	}
	return n
}

// progressLine rewrites one terminal line with the virtual time reached and
// the speed, at most five times a second.
func progressLine(w io.Writer, total time.Duration) func(time.Duration) {
	start := time.Now()
	var last time.Time
	return func(virtual time.Duration) {
		if time.Since(last) < 200*time.Millisecond {
			return
		}
		last = time.Now()
		speed := virtual.Seconds() / time.Since(start).Seconds()
		fmt.Fprintf(w, "\r%s / %s virtual, %.1fx real time   ", virtual.Truncate(time.Second), total, speed)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// metricsAddrUsage is --metrics-addr's help, the same on run and serve.
const metricsAddrUsage = "serve Prometheus metrics at http://ADDR/metrics: PORT or :PORT listen on 127.0.0.1 only, HOST:PORT (e.g. 0.0.0.0:9464) as given"

// listenMetrics listens on a --metrics-addr value and says where.
func listenMetrics(addr string, out io.Writer) (net.Listener, error) {
	ln, err := metrics.Listen(addr)
	if err != nil {
		return nil, badInput(fmt.Errorf("--metrics-addr: %w", err))
	}
	fmt.Fprintf(out, "nodesim: metrics at http://%s/metrics\n", ln.Addr())
	if !metrics.IsLoopback(ln) {
		fmt.Fprintf(out, "nodesim: warning: metrics are served beyond this machine (%s), as --metrics-addr asked\n", ln.Addr())
	}
	return ln, nil
}

// runError is a failed run's error for the exit status: the user's to fix
// (a start-up problem, bad input) is 2. Exit status 1 is only for failed
// expectations: anything else (a disk that fills, an interrupt: see
// runWithStderr) is 2 or 130/143 too.
func runError(err error) error {
	var se *apiserver.StartError
	var ie *simrun.InputError
	if errors.As(err, &se) || errors.As(err, &ie) {
		return badInput(err)
	}
	return err
}

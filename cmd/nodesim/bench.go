package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	simrun "github.com/nodesim/nodesim/sim/run"
)

// DefaultBenchNodes are the fleet sizes `nodesim bench` measures.
const DefaultBenchNodes = "1000,5000,10000"

func newBenchCommand() *cobra.Command {
	var (
		nodesFlag string
		duration  time.Duration
		asJSON    bool
		seed      uint64
		heap      string
		cpu       string
		scenario  string
		soak      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bench [--nodes LIST] [--duration D] [--json]",
		Short: "Measure heartbeat load and speed at fleet sizes",
		Long: `bench simulates each fleet size (nodes spread over 5 zones, kubelet
defaults, the node lifecycle controller watching) for a virtual duration as
fast as it can, with every lease and status write going through the API
server into etcd. Before each size it measures raw puts per second into the
same embedded etcd, and the API server's own ceiling: Lease updates per
second from 64 in-process kubelet clients with nothing else running. Each
size runs in a process of its own, so that its peak memory is its own.

Columns: virtual seconds per wall second (speedup), API writes per wall
second, as a fraction of the raw etcd rate (efficiency) and of the API
server's ceiling (ceiling share), CPU per write in the simulation and in
the ceiling's run (the API server's own write path), wall seconds
until every node was registered and Ready, peak RSS, and the Lease and
NodeStatus writes and bytes per virtual second.`,
		Args: noArgs("bench"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scenario != "" {
				if cmd.Flags().Changed("nodes") || cmd.Flags().Changed("duration") {
					return badInput(fmt.Errorf("--scenario: the scenario says its nodes and duration; give --nodes and --duration without it"))
				}
				var given *uint64
				if cmd.Flags().Changed("seed") {
					given = &seed
				}
				return benchScenario(cmd, scenario, given, asJSON)
			}
			if !cmd.Flags().Changed("seed") {
				seed = DefaultBenchSeed
			}
			sizes, err := parseSizes(nodesFlag)
			if err != nil {
				return badInput(err)
			}
			if duration <= 0 {
				return badInput(fmt.Errorf("--duration must be positive, not %s", duration))
			}
			if cmd.Flags().Changed("soak") {
				switch {
				case soak < 3*time.Hour || soak%time.Hour != 0:
					return badInput(fmt.Errorf("--soak %s: must be whole hours, at least 3h (growth is measured from virtual hour %d)", soak, 2))
				case len(sizes) != 1:
					return badInput(fmt.Errorf("--soak: one fleet size at a time, not --nodes %s", nodesFlag))
				case cmd.Flags().Changed("duration"):
					return badInput(fmt.Errorf("--soak: the soak is the duration; give --duration without it"))
				}
			}
			var results []*simrun.BenchResult
			for _, n := range sizes {
				var r *simrun.BenchResult
				if len(sizes) == 1 {
					r, err = benchHere(cmd, simrun.BenchOptions{Nodes: n, Duration: duration, Seed: seed, Soak: soak}, heap, cpu)
				} else {
					r, err = benchChild(cmd, n, duration, seed)
				}
				if err != nil {
					return err
				}
				results = append(results, r)
				if asJSON {
					b, err := json.Marshal(r)
					if err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout(), string(b))
				}
			}
			if !asJSON {
				printBenchTable(cmd.OutOrStdout(), results)
				if soak > 0 {
					printSoak(cmd.OutOrStdout(), results[0].Soak)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&nodesFlag, "nodes", DefaultBenchNodes, "comma-separated fleet sizes")
	cmd.Flags().DurationVar(&duration, "duration", simrun.DefaultBenchDuration, "virtual time simulated per fleet size")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per fleet size instead of a table")
	seedFlag(cmd, &seed)
	cmd.Flags().StringVar(&heap, "memprofile", "", "write a heap profile taken at the end of the run to this file (one fleet size only)")
	cmd.Flags().StringVar(&scenario, "scenario", "", "run this scenario as fast as it goes instead of fleet sizes, against the API server's ceiling measured before it")
	cmd.Flags().DurationVar(&soak, "soak", 0, "run one fleet size this long (whole hours, e.g. 24h) with a fault every virtual hour, sampling the live heap, goroutines and open files every virtual hour")
	cmd.Flags().StringVar(&cpu, "cpuprofile", "", "write a CPU profile of the run to this file (one fleet size only)")
	return cmd
}

// benchScenario is bench --scenario: the scenario run as fast as it goes,
// its API writes against the ceiling measured before it in the same
// process.
func benchScenario(cmd *cobra.Command, path string, seed *uint64, asJSON bool) error {
	sc, err := loadScenario(cmd.Context(), path)
	if err != nil {
		return badInput(err)
	}
	r, err := simrun.BenchScenario(cmd.Context(), sc, seed)
	if err != nil {
		return runError(err)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(b))
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tnodes\tvirtual s\twall s\tspeedup\tAPI writes\tAPI writes/s\tceiling writes/s\tceiling share\twrite-bound s\twall / write-bound\tpeak RSS MiB\texpectations passed\t")
	fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.1f\t%.1fx\t%d\t%.0f\t%.0f\t%.2f\t%.1f\t%.2f\t%.0f\t%d/%d\t\n",
		r.Scenario, r.Nodes, r.VirtualSeconds, r.WallSeconds, r.Speedup, r.APIWrites, r.APIWritesPerSecond,
		r.APICeilingWritesPerSecond, r.CeilingShare, r.WriteBoundSeconds, r.WallOverWriteBound,
		float64(r.RSSBytes)/(1<<20), r.ExpectationsPassed, r.ExpectationsPassed+r.ExpectationsFailed)
	return tw.Flush()
}

// printSoak prints a soak's hourly samples and their growth.
func printSoak(w io.Writer, s *simrun.SoakResult) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "virtual hour\tlive heap MiB\tgoroutines\topen files\t")
	for _, x := range s.Samples {
		fmt.Fprintf(tw, "%d\t%.1f\t%d\t%d\t\n", x.VirtualHour, float64(x.HeapBytes)/(1<<20), x.Goroutines, x.OpenFiles)
	}
	tw.Flush()
	fmt.Fprintf(w, "growth from virtual hour 2 to %d: live heap %+.1f %%, goroutines %+.1f %%, open files %+.1f %%\n",
		s.Samples[len(s.Samples)-1].VirtualHour, 100*s.HeapGrowth, 100*s.GoroutinesGrowth, 100*s.OpenFilesGrowth)
}

// benchHere measures one fleet size in this process.
func benchHere(cmd *cobra.Command, o simrun.BenchOptions, heapProfile, cpuProfile string) (*simrun.BenchResult, error) {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, badInput(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if heapProfile == "" {
		return simrun.Bench(cmd.Context(), o)
	}
	f, err := os.Create(heapProfile)
	if err != nil {
		return nil, badInput(fmt.Errorf("--memprofile: %w", err))
	}
	o.HeapProfile = f
	r, err := simrun.Bench(cmd.Context(), o)
	if closeErr := f.Close(); err == nil && closeErr != nil {
		return nil, closeErr
	}
	return r, err
}

func parseSizes(list string) ([]int, error) {
	var sizes []int
	for field := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--nodes: %q is not a fleet size (a positive whole number)", field)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// benchChild measures one fleet size in a child process of this binary.
func benchChild(cmd *cobra.Command, n int, d time.Duration, seed uint64) (*simrun.BenchResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: find this program: %w", err)
	}
	child := exec.CommandContext(cmd.Context(), self, "bench", "--json",
		"--nodes", strconv.Itoa(n), "--duration", d.String(), "--seed", strconv.FormatUint(seed, 10))
	var out bytes.Buffer
	child.Stdout = &out
	child.Stderr = cmd.ErrOrStderr()
	if err := child.Run(); err != nil {
		return nil, fmt.Errorf("bench %d nodes: %w", n, err)
	}
	var r simrun.BenchResult
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r); err != nil {
		return nil, fmt.Errorf("bench %d nodes: read result: %w", n, err)
	}
	if r.Nodes != n {
		return nil, errors.New("bench: child measured another fleet size")
	}
	return &r, nil
}

func printBenchTable(w io.Writer, results []*simrun.BenchResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "nodes\tspeedup\twall s\tAPI writes/s\tetcd puts/s\tefficiency\tceiling writes/s\tceiling share\tCPU ms/write\tceiling CPU ms/write\tregistered+Ready s\tpeak RSS MiB\tlease writes/vs\tstatus writes/vs\tlease B/vs\tstatus B/vs\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%d\t%.1fx\t%.1f\t%.0f\t%.0f\t%.2f\t%.0f\t%.2f\t%.3f\t%.3f\t%.1f\t%.0f\t%.1f\t%.2f\t%.0f\t%.0f\t\n",
			r.Nodes, r.Speedup, r.WallSeconds, r.APIWritesPerSecond, r.EtcdPutsPerSecond, r.Efficiency, r.APICeilingWritesPerSecond, r.CeilingShare, r.CPUPerWrite, r.APICeilingCPUPerWrite,
			r.RegistrationSeconds, float64(r.RSSBytes)/(1<<20),
			float64(r.LeaseWrites)/r.VirtualSeconds, float64(r.StatusWrites)/r.VirtualSeconds,
			float64(r.LeaseBytes)/r.VirtualSeconds, float64(r.StatusBytes)/r.VirtualSeconds)
	}
	tw.Flush()
}

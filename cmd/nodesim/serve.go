package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodesim/nodesim/internal/version"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/apiserver"
	simrun "github.com/nodesim/nodesim/sim/run"
	"github.com/nodesim/nodesim/sim/shard"
)

type serveOptions struct {
	nodes           int
	writeKubeconfig string
	kubeconfig      string
	inCluster       bool
	stateDir        string
	bindAddress     string
	port            int
	pace            string
	scenario        string
	metricsAddr     string
	controllers     controllersFlag
	shard           string
	leaseNamespace  string
	leaseDuration   time.Duration
	identity        string
}

func newServeCommand() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [SCENARIO.yaml]",
		Short: "Keep a cluster of virtual nodes alive until interrupted",
		Long: `serve starts the embedded API server (or uses --kubeconfig's cluster),
prints where it is, and runs until SIGINT or SIGTERM, then stops everything
and removes its temporary files.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return badInput(fmt.Errorf("serve: %s: one scenario file at a time, not %d", args[1], len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.scenario = args[0]
			}
			controllers, err := o.controllers.value(cmd)
			if err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd.OutOrStdout(), controllers)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.nodes, "nodes", 0, "number of virtual nodes")
	f.StringVar(&o.writeKubeconfig, "write-kubeconfig", "", "write a kubeconfig for kubectl to this path")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "run against this external cluster instead of the embedded API server (real time)")
	f.BoolVar(&o.inCluster, "in-cluster", false, "run against the cluster this runs in as a pod, with its ServiceAccount (as --kubeconfig does with a kubeconfig)")
	f.StringVar(&o.stateDir, "state-dir", "", "keep state here (default: a temporary folder removed at exit)")
	f.StringVar(&o.bindAddress, "bind-address", apiserver.DefaultBindAddress, "address the embedded API server listens on")
	f.IntVar(&o.port, "port", 0, "port the embedded API server listens on (0: a free one)")
	f.StringVar(&o.pace, "pace", "1X", "virtual time per wall time, e.g. 1X or 10X (an external cluster runs at 1X)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", metricsAddrUsage)
	f.StringVar(&o.shard, "shard", "", "run shard I (from 0) of N of the scenario's nodes against --kubeconfig's (or --in-cluster's) cluster, once holding the shard's Lease; "+
		"I may be 'ordinal': the StatefulSet ordinal ending $POD_NAME, else the host name (NAME-I)")
	f.StringVar(&o.leaseNamespace, "shard-lease-namespace", corev1.NamespaceNodeLease, "namespace of the shards' Leases (nodesim-shard-I-of-N); it must exist")
	f.DurationVar(&o.leaseDuration, "shard-lease-duration", simrun.DefaultShardLeaseDuration, "a shard Lease's duration; renewed every quarter of it, a standby takes over once it expired")
	f.StringVar(&o.identity, "shard-identity", "", "holder identity of the shard Lease (default: the host name and process id, HOST_PID)")
	o.controllers.add(cmd)
	return cmd
}

// external says whether the nodes run against a cluster nodesim did not
// start.
func (o *serveOptions) external() bool { return o.kubeconfig != "" || o.inCluster }

// shardOptions reads --shard and the Lease flags; the zero Shard when not
// sharded.
func (o *serveOptions) shardOptions() (shard.Shard, simrun.ShardLease, error) {
	if o.shard == "" {
		return shard.Shard{}, simrun.ShardLease{}, nil
	}
	if !o.external() {
		return shard.Shard{}, simrun.ShardLease{}, fmt.Errorf("--shard %s: requires --kubeconfig (or --in-cluster): shards run against a real cluster, each a part of the fleet", o.shard)
	}
	value := o.shard
	if rest, ok := strings.CutPrefix(value, "ordinal/"); ok {
		name := os.Getenv("POD_NAME")
		if name == "" {
			name, _ = os.Hostname()
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			return shard.Shard{}, simrun.ShardLease{}, fmt.Errorf("--shard %q: the shard count %q is not a whole number", o.shard, rest)
		}
		sh, err := shard.FromHostname(name, n)
		if err != nil {
			return shard.Shard{}, simrun.ShardLease{}, fmt.Errorf("--shard %s: %w", o.shard, err)
		}
		value = sh.String()
	}
	sh, err := shard.Parse(value)
	if err != nil {
		return shard.Shard{}, simrun.ShardLease{}, fmt.Errorf("--shard %w", err)
	}
	if o.leaseDuration < 4*time.Second {
		return shard.Shard{}, simrun.ShardLease{}, fmt.Errorf("--shard-lease-duration %s: must be at least 4s (renewed every quarter of it)", o.leaseDuration)
	}
	lease := simrun.ShardLease{Namespace: o.leaseNamespace, Duration: o.leaseDuration, Identity: o.identity}
	if lease.Identity == "" {
		host, err := os.Hostname()
		if err != nil {
			return shard.Shard{}, simrun.ShardLease{}, fmt.Errorf("--shard-identity: no host name to default to: %w", err)
		}
		lease.Identity = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	return sh, lease, nil
}

func (o *serveOptions) run(ctx context.Context, out io.Writer, controllers []string) error {
	sc, err := o.fleet()
	if err != nil {
		return badInput(err)
	}
	sh, lease, err := o.shardOptions()
	if err != nil {
		return badInput(err)
	}
	pace, err := parsePace(o.pace)
	if err != nil || pace == 0 {
		return badInput(fmt.Errorf("--pace %q: must be a positive multiple like 1X", o.pace))
	}
	if o.kubeconfig != "" && o.inCluster {
		return badInput(fmt.Errorf("--in-cluster: give --kubeconfig or --in-cluster, not both"))
	}
	if o.external() && pace != 1 {
		return badInput(fmt.Errorf("--pace %s: an external cluster runs in real time (1X)", o.pace))
	}
	var metricsListener net.Listener
	if o.metricsAddr != "" {
		if metricsListener, err = listenMetrics(o.metricsAddr, out); err != nil {
			return err
		}
		defer metricsListener.Close() // Serve closes it; this is for the returns before
	}
	stateDir, removeState, err := prepareStateDir(o.stateDir)
	if err != nil {
		return err
	}
	defer removeState()

	var backend apiserver.Backend
	switch {
	case o.inCluster:
		ext, err := apiserver.NewInCluster(ctx)
		if err != nil {
			return badInput(fmt.Errorf("--in-cluster: %w", err))
		}
		backend = ext
		fmt.Fprintln(out, "nodesim: using the cluster this pod runs in")
	case o.kubeconfig != "":
		ext, err := apiserver.NewExternal(ctx, o.kubeconfig)
		if err != nil {
			return badInput(err)
		}
		backend = ext
		fmt.Fprintf(out, "nodesim: using the cluster of %s\n", o.kubeconfig)
	default:
		srv, err := apiserver.Start(ctx, apiserver.Config{
			Dir:         filepath.Join(stateDir, "apiserver"),
			BindAddress: o.bindAddress,
			Port:        o.port,
		})
		if err != nil {
			var se *apiserver.StartError
			if errors.As(err, &se) {
				return badInput(err)
			}
			return err
		}
		backend = srv
		fmt.Fprintf(out, "nodesim: API server at %s\n", srv.URL())
	}
	defer backend.Stop()
	fmt.Fprintf(out, "nodesim: state dir %s\n", stateDir)
	if o.writeKubeconfig != "" {
		if err := backend.WriteKubeconfig(o.writeKubeconfig); err != nil {
			return badInput(fmt.Errorf("--write-kubeconfig: %w", err))
		}
		fmt.Fprintf(out, "nodesim: kubeconfig written to %s (export KUBECONFIG=%s)\n", o.writeKubeconfig, o.writeKubeconfig)
	}
	o.describe(out, sc, pace, sh)
	if err := simrun.Serve(ctx, sc, backend, simrun.ServeOptions{
		Pace: pace, Start: time.Now(), MetricsListener: metricsListener, StateDir: filepath.Join(stateDir, simrun.StateDirName),
		Controllers: controllers, Log: out, Shard: sh, Lease: lease,
	}); err != nil {
		return err
	}
	fmt.Fprintln(out, "nodesim: stopping")
	return backend.Stop()
}

// describe says how to connect and what runs.
func (o *serveOptions) describe(out io.Writer, sc *scenarios.Scenario, pace float64, sh shard.Shard) {
	switch {
	case o.inCluster:
	case o.kubeconfig != "":
		fmt.Fprintf(out, "nodesim: kubectl: use %s, as the nodes do\n", o.kubeconfig)
	case o.writeKubeconfig == "":
		fmt.Fprintln(out, "nodesim: no kubeconfig written: to use kubectl, start with --write-kubeconfig PATH (for example `nodesim serve --write-kubeconfig ./kubeconfig`, then export KUBECONFIG=./kubeconfig)")
	}
	if !o.external() {
		fmt.Fprintf(out, "nodesim: running: the embedded API server (the Kubernetes %s API) and the controllers below\n", version.Get().Kubernetes)
	}
	if sc.NodeCount() == 0 {
		fmt.Fprintln(out, "nodesim: no virtual nodes: an empty cluster (give --nodes N or a scenario file for nodes)")
	} else {
		var pools []string
		for _, p := range sc.NodePools {
			pools = append(pools, fmt.Sprintf("%s: %d", p.Name, p.Count))
		}
		fmt.Fprintf(out, "nodesim: %d virtual nodes (%s), each with its kubelet API, CRI socket and Lease heartbeats\n", sc.NodeCount(), strings.Join(pools, ", "))
	}
	if sh.Sharded() {
		owned := 0
		for _, name := range sc.NodesAt(0) {
			if sh.Owns(name) {
				owned++
			}
		}
		fmt.Fprintf(out, "nodesim: shard %s: serving %d of the %d virtual nodes at %gX once it holds the shard's Lease; interrupt (Ctrl-C) to stop\n",
			sh, owned, sc.NodeCount(), pace)
		return
	}
	fmt.Fprintf(out, "nodesim: serving %d virtual nodes at %gX; interrupt (Ctrl-C) to stop\n", sc.NodeCount(), pace)
}

// fleet is the scenario to serve: the file given, or --nodes nodes in one
// pool named "node" with the default node shape.
func (o *serveOptions) fleet() (*scenarios.Scenario, error) {
	if o.nodes < 0 {
		return nil, fmt.Errorf("--nodes %d: must not be negative", o.nodes)
	}
	if o.scenario != "" {
		if o.nodes != 0 {
			return nil, fmt.Errorf("--nodes: give a scenario or --nodes, not both")
		}
		return scenarios.Load(o.scenario)
	}
	return scenarios.Parse("--nodes", []byte(fmt.Sprintf(`apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: serve}
spec:
  duration: 24h
  nodePools:
  - {name: node, count: %d}
`, o.nodes)))
}

// prepareStateDir returns the state directory and what to do at exit: a
// given directory is created and kept, a temporary one is removed.
func prepareStateDir(dir string) (string, func(), error) {
	if dir == "" {
		// A locked temporary folder: if this process is killed, the next
		// nodesim removes it.
		simrun.RemoveStaleTempDirs()
		d, remove, err := simrun.TempDir("state")
		if err != nil {
			return "", nil, badInput(fmt.Errorf("state dir: %w", err))
		}
		return d, remove, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, badInput(fmt.Errorf("--state-dir %s: %w", dir, err))
	}
	return dir, func() {}, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/nodesim/nodesim/sim/apiserver"
)

type serveOptions struct {
	nodes           int
	writeKubeconfig string
	kubeconfig      string
	stateDir        string
	bindAddress     string
	port            int
}

func newServeCommand() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [SCENARIO.yaml]",
		Short: "Keep a cluster of virtual nodes alive until interrupted",
		Long: `serve starts the embedded API server (or uses --kubeconfig's cluster),
prints where it is, and runs until SIGINT or SIGTERM, then stops everything
and removes its temporary files.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return badInput(fmt.Errorf("serve %s: scenarios are not served yet: virtual nodes come with the engine", args[0]))
			}
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.nodes, "nodes", 0, "number of virtual nodes")
	f.StringVar(&o.writeKubeconfig, "write-kubeconfig", "", "write a kubeconfig for kubectl to this path")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "run against this external cluster instead of the embedded API server (real time)")
	f.StringVar(&o.stateDir, "state-dir", "", "keep state here (default: a temporary folder removed at exit)")
	f.StringVar(&o.bindAddress, "bind-address", apiserver.DefaultBindAddress, "address the embedded API server listens on")
	f.IntVar(&o.port, "port", 0, "port the embedded API server listens on (0: a free one)")
	return cmd
}

func (o *serveOptions) run(ctx context.Context, out io.Writer) error {
	if o.nodes < 0 {
		return badInput(fmt.Errorf("--nodes %d: must not be negative", o.nodes))
	}
	if o.nodes > 0 {
		return badInput(fmt.Errorf("--nodes %d: virtual nodes are not implemented yet; use --nodes 0", o.nodes))
	}
	stateDir, removeState, err := prepareStateDir(o.stateDir)
	if err != nil {
		return err
	}
	defer removeState()

	var backend apiserver.Backend
	if o.kubeconfig != "" {
		ext, err := apiserver.NewExternal(ctx, o.kubeconfig)
		if err != nil {
			return badInput(err)
		}
		backend = ext
		fmt.Fprintf(out, "nodesim: using the cluster of %s\n", o.kubeconfig)
	} else {
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
	fmt.Fprintln(out, "nodesim: serving; interrupt (Ctrl-C) to stop")
	<-ctx.Done()
	fmt.Fprintln(out, "nodesim: stopping")
	return backend.Stop()
}

// prepareStateDir returns the state directory and what to do at exit: a
// given directory is created and kept, a temporary one is removed.
func prepareStateDir(dir string) (string, func(), error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "nodesim-state-")
		if err != nil {
			return "", nil, badInput(fmt.Errorf("state dir: %w", err))
		}
		return d, func() { os.RemoveAll(d) }, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, badInput(fmt.Errorf("--state-dir %s: %w", dir, err))
	}
	return dir, func() {}, nil
}

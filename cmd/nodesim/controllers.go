package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nodesim/nodesim/sim/kcm"
)

// controllersUsage documents --controllers, as kube-controller-manager
// documents its own.
var controllersUsage = fmt.Sprintf("controllers that run, in kube-controller-manager's syntax: '*' enables every one on by default, 'foo' enables foo, '-foo' disables foo; "+
	"names are nodesim's models (%s) and kube-controller-manager's controllers, which run in process "+
	"(default: the scenario's spec.controlPlane.controllers, else for serve '*', for run %s)", strings.Join(kcm.Models, ", "), strings.Join(kcm.DefaultRunControllers, ","))

// controllersFlag is --controllers: nil unless given.
type controllersFlag struct{ list []string }

func (f *controllersFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.list, "controllers", nil, controllersUsage)
}

// value is the list given, checked; nil when the flag is absent.
func (f *controllersFlag) value(cmd *cobra.Command) ([]string, error) {
	if !cmd.Flags().Changed("controllers") {
		return nil, nil
	}
	if _, err := kcm.ParseControllers(f.list); err != nil {
		return nil, badInput(fmt.Errorf("--controllers: %w", err))
	}
	return f.list, nil
}

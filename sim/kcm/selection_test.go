package kcm

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/kubernetes/cmd/kube-controller-manager/names"
)

func TestParseControllers(t *testing.T) {
	for _, c := range []struct {
		list       []string
		models     []string
		kcmHas     []string
		kcmHasNot  []string
		kcmIsEmpty bool
	}{
		// Everything on by default, but the controllers the models stand
		// for and those kube-controller-manager leaves off.
		{list: []string{"*"}, models: Models,
			kcmHas:    []string{names.DeploymentController, names.ServiceAccountController, names.GarbageCollectorController},
			kcmHasNot: []string{names.NodeLifecycleController, names.TaintEvictionController, names.BootstrapSignerController}},
		// The real controller instead of the model.
		{list: []string{"*", "-node-lifecycle", "node-lifecycle-controller"}, models: []string{TaintEviction, Workloads, Scheduler},
			kcmHas: []string{names.NodeLifecycleController}},
		// kube-controller-manager's aliases.
		{list: []string{"*", "-deployment", "-garbagecollector"}, models: Models,
			kcmHasNot: []string{names.DeploymentController, names.GarbageCollectorController}},
		// Only what is named.
		{list: []string{Scheduler, names.ServiceAccountController}, models: []string{Scheduler},
			kcmHas: []string{names.ServiceAccountController}, kcmHasNot: []string{names.DeploymentController}},
		{list: nil, kcmIsEmpty: true},
		{list: DefaultRunControllers, models: Models, kcmHas: []string{names.ServiceAccountController}, kcmHasNot: []string{names.DeploymentController}},
	} {
		s, err := ParseControllers(c.list)
		if err != nil {
			t.Errorf("%v: %v", c.list, err)
			continue
		}
		for _, m := range Models {
			if s.Model(m) != slices.Contains(c.models, m) {
				t.Errorf("%v: model %s runs %v", c.list, m, s.Model(m))
			}
		}
		if s.AnyModel() != (len(c.models) > 0) {
			t.Errorf("%v: AnyModel %v with models %v", c.list, s.AnyModel(), c.models)
		}
		got := s.KubeControllerManager()
		for _, name := range c.kcmHas {
			if !slices.Contains(got, name) {
				t.Errorf("%v: %s does not run (%v)", c.list, name, got)
			}
		}
		for _, name := range c.kcmHasNot {
			if slices.Contains(got, name) {
				t.Errorf("%v: %s runs", c.list, name)
			}
		}
		if c.kcmIsEmpty && len(got) != 0 {
			t.Errorf("%v: %v run", c.list, got)
		}
	}
	for list, want := range map[string]string{
		"*,-schedulr":           `unknown controller "schedulr" (did you mean "scheduler"?)`,
		"deployment-controllr":  `unknown controller "deployment-controllr" (did you mean "deployment-controller"?)`,
		"*,kube-proxy-thing-xx": `unknown controller "kube-proxy-thing-xx"`,
	} {
		if _, err := ParseControllers(strings.Split(list, ",")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", list, err, want)
		}
	}
}

// TestSelectionString: serve says what runs as --controllers chose it.
func TestSelectionString(t *testing.T) {
	for _, c := range []struct {
		list []string
		want string
	}{
		{DefaultRunControllers, "nodesim's models node-lifecycle, taint-eviction, workloads, scheduler; kube-controller-manager's serviceaccount-controller"},
		{nil, "no models of nodesim's; none of kube-controller-manager's controllers"},
		{[]string{"*", "-scheduler", "-node-lifecycle", "node-lifecycle-controller"},
			"nodesim's models taint-eviction, workloads; %d of kube-controller-manager's controllers (node-lifecycle-controller among them, not taint-eviction-controller)"},
	} {
		s, err := ParseControllers(c.list)
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if strings.Contains(want, "%d") {
			want = fmt.Sprintf(want, len(s.KubeControllerManager()))
		}
		if got := s.String(); got != want {
			t.Errorf("%v: %q, want %q", c.list, got, want)
		}
	}
}

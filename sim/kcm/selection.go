package kcm

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"

	"github.com/nodesim/nodesim/internal/levenshtein"
)

// nodesim's own models of the control plane, which act at the engine's
// barriers so that a run is reproducible (sim/controlplane).
const (
	// NodeLifecycle is the node lifecycle controller's model; it stands
	// for kube-controller-manager's node-lifecycle-controller.
	NodeLifecycle = "node-lifecycle"
	// TaintEviction is the taint eviction controller's model; it stands
	// for taint-eviction-controller.
	TaintEviction = "taint-eviction"
	// Workloads keeps the scenario's workloads at their replica counts.
	Workloads = "workloads"
	// Scheduler binds pending pods; it stands for kube-scheduler.
	Scheduler = "scheduler"
)

// Models are nodesim's models, in the order they are documented.
var Models = []string{NodeLifecycle, TaintEviction, Workloads, Scheduler}

// replaced are kube-controller-manager's controllers that a model of
// nodesim's stands for: off unless named, so that the two never race.
var replaced = []string{names.NodeLifecycleController, names.TaintEvictionController}

// Selection is which controllers run: nodesim's models and
// kube-controller-manager's own controllers (run in process), chosen with
// kube-controller-manager's --controllers syntax over both sets of names.
type Selection struct {
	models map[string]bool
	kcm    []string
}

// DefaultControllers is the default of serve's --controllers: every
// model, and every controller kube-controller-manager enables by default
// but those a model stands for, a cluster as its users expect one.
var DefaultControllers = []string{"*"}

// DefaultRunControllers is the default of run's --controllers: every model,
// and of kube-controller-manager only what a scenario's pods need to be
// admitted (the service accounts). A scenario is about its nodes; starting
// the forty other controllers (each fetching a token for its service
// account, as --use-service-account-credentials does) would triple the
// time of a small run for nothing in its trace. A scenario that needs more
// names it in spec.controlPlane.controllers.
var DefaultRunControllers = append(slices.Clone(Models), names.ServiceAccountController)

// ParseControllers reads a --controllers list: "*" (everything on by
// default), "name" (on), "-name" (off), as kube-controller-manager reads
// its own; kube-controller-manager's aliases are accepted. An unknown name
// is an error that suggests the nearest known one.
func ParseControllers(list []string) (Selection, error) {
	known := sets.New(app.KnownControllers()...)
	known.Insert(Models...)
	aliases := app.ControllerAliases()
	disabled := sets.New(app.ControllersDisabledByDefault()...)
	disabled.Insert(replaced...)
	var canonical []string
	for _, item := range list {
		item = strings.TrimSpace(item)
		if item == "*" {
			canonical = append(canonical, item)
			continue
		}
		name, off := strings.CutPrefix(item, "-")
		if a, ok := aliases[name]; ok {
			name = a
		}
		if !known.Has(name) {
			return Selection{}, fmt.Errorf("unknown controller %q%s", name, suggest(name, sets.List(known)))
		}
		if off {
			name = "-" + name
		}
		canonical = append(canonical, name)
	}
	enabled := func(name string) bool {
		star := false
		for _, c := range canonical {
			switch c {
			case name:
				return true
			case "-" + name:
				return false
			case "*":
				star = true
			}
		}
		return star && !disabled.Has(name)
	}
	s := Selection{models: map[string]bool{}}
	for _, m := range Models {
		s.models[m] = enabled(m)
	}
	for _, c := range app.KnownControllers() {
		if enabled(c) {
			s.kcm = append(s.kcm, c)
		}
	}
	sort.Strings(s.kcm)
	return s, nil
}

// Model says whether nodesim's model name runs.
func (s Selection) Model(name string) bool { return s.models[name] }

// AnyModel says whether any of nodesim's models runs.
func (s Selection) AnyModel() bool {
	for _, on := range s.models {
		if on {
			return true
		}
	}
	return false
}

// KubeControllerManager is kube-controller-manager's controllers that run,
// sorted.
func (s Selection) KubeControllerManager() []string { return slices.Clone(s.kcm) }

// String says what runs, for people: nodesim's models, and
// kube-controller-manager's controllers (named when there are a few, else
// counted, with whether the two a model can stand for are among them).
func (s Selection) String() string {
	var models []string
	for _, m := range Models {
		if s.models[m] {
			models = append(models, m)
		}
	}
	parts := []string{"no models of nodesim's"}
	if len(models) > 0 {
		parts[0] = "nodesim's models " + strings.Join(models, ", ")
	}
	switch {
	case len(s.kcm) == 0:
		parts = append(parts, "none of kube-controller-manager's controllers")
	case len(s.kcm) <= 6:
		parts = append(parts, "kube-controller-manager's "+strings.Join(s.kcm, ", "))
	default:
		among := func(name string) string {
			if slices.Contains(s.kcm, name) {
				return name + " among them"
			}
			return "not " + name
		}
		parts = append(parts, fmt.Sprintf("%d of kube-controller-manager's controllers (%s, %s)",
			len(s.kcm), among(names.NodeLifecycleController), among(names.TaintEvictionController)))
	}
	return strings.Join(parts, "; ")
}

// suggest is ` (did you mean "x"?)` for the known name nearest to name,
// if one is near.
func suggest(name string, known []string) string {
	best, bestDistance := "", len(name)/2+1
	for _, k := range known {
		if d := levenshtein.Distance(name, k); d < bestDistance {
			best, bestDistance = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

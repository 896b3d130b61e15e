package scenarios

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	// DefaultNamespace is a workload's namespace when it has none.
	DefaultNamespace = "default"
	// DefaultReplicas is a workload's replicas when it has none, as for a
	// ReplicaSet.
	DefaultReplicas = 1
	// MaxPods is the most pods a scenario may declare, over all
	// workloads. Each pod is an API object in etcd, in the API server's
	// watch cache and in the simulation's informers, a kubelet's pod and a
	// runtime's sandbox and containers: about 140 KB, so that ten
	// million reached 6 GB of RSS within a minute. nodesim run and serve
	// also estimate the memory a scenario needs before they start and
	// refuse what this machine cannot hold (sim/run).
	MaxPods = 1_000_000
)

// Workload is one item of spec.workloads: a set of identical pods kept
// alive the way a ReplicaSet keeps them, without the ReplicaSet object.
type Workload struct {
	// Name is a DNS-1123 label, unique in its namespace; the pods are
	// <name>-<index> (see PodName).
	Name string
	// Namespace is a DNS-1123 label (default DefaultNamespace).
	Namespace string
	// Replicas is how many pods the workload keeps, >= 0 (default
	// DefaultReplicas).
	Replicas int
	// Template is the pods' template, as in a ReplicaSet: at least one
	// container, each with a name and an image; restartPolicy Always if set.
	Template corev1.PodTemplateSpec
	// Line is the line of the workload in the file, for messages at run
	// time.
	Line int
}

// PodName returns the name of the workload's pod at index: "<name>-<index>",
// the index not padded (web-0 .. web-2999).
func (w Workload) PodName(index int) string {
	return w.Name + "-" + strconv.Itoa(index)
}

// Pod returns the index of the workload's pod named namespace/name, or
// false when it is not one of the workload's pods.
func (w Workload) Pod(namespace, name string) (int, bool) {
	if namespace != w.Namespace {
		return 0, false
	}
	rest, ok := strings.CutPrefix(name, w.Name+"-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= w.Replicas || strconv.Itoa(i) != rest {
		return 0, false
	}
	return i, true
}

var workloadSchema = schema{fields: []string{"name", "namespace", "replicas", "template"}}

func (d *decoder) workloads(e entry, path string, s *Scenario) {
	first := make(map[string]int) // namespace/name -> line
	total := 0
	for i, item := range d.sequence(e.value, path) {
		w, nameLine, ok := d.workload(item, index(path, i), s)
		if !ok {
			continue
		}
		id := w.Namespace + "/" + w.Name
		if line, dup := first[id]; dup {
			d.addf(nameLine, index(path, i)+".name", "duplicate workload %s (first at line %d)", id, line)
			continue
		}
		first[id] = nameLine
		total += w.Replicas // each at most MaxPods: no overflow
		s.Workloads = append(s.Workloads, w)
	}
	if total > MaxPods {
		d.addf(e.keyNode.Line, path, "%d pods in all, more than the %d a scenario may have", total, MaxPods)
	}
}

func (d *decoder) workload(n *yaml.Node, path string, s *Scenario) (w Workload, nameLine int, ok bool) {
	before := len(d.errs)
	w = Workload{Namespace: DefaultNamespace, Replicas: DefaultReplicas, Line: n.Line}
	got := d.fields(n, path, workloadSchema)
	d.required(n, n.Line, path, got, "name", "template")
	nameLine = n.Line
	for _, e := range got {
		f := join(path, e.key)
		switch e.key {
		case "name", "namespace":
			v, ok := d.text(e.value, f)
			if !ok {
				continue
			}
			if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
				d.addf(e.value.Line, f, "invalid %s %q: %s", e.key, v, msgs[0])
				continue
			}
			if e.key == "name" {
				w.Name, nameLine = v, e.value.Line
			} else {
				w.Namespace = v
			}
		case "replicas":
			if v, ok := d.integer(e.value, f); ok {
				if v < 0 || v > MaxPods {
					d.addf(e.value.Line, f, "must be from 0 to %d, not %d", MaxPods, v)
					continue
				}
				w.Replicas = int(v)
			}
		case "template":
			d.podTemplate(e.value, f, &w.Template)
		}
	}
	return w, nameLine, len(d.errs) == before
}

// podTemplate decodes a PodTemplateSpec strictly and checks what a pod
// needs to run.
func (d *decoder) podTemplate(n *yaml.Node, path string, t *corev1.PodTemplateSpec) {
	lines, ok := d.decodeObject(n, path, t)
	if !ok {
		return
	}
	// line is the line of a field of the template, or of the template.
	line := func(field string) int {
		if l, ok := lines[field]; ok {
			return l
		}
		return n.Line
	}
	labels := join(join(path, "metadata"), "labels")
	for _, key := range sortedKeys(t.Labels) {
		if msg := checkSelectorLabel(key, t.Labels[key]); msg != "" {
			d.addf(line(join(labels, key)), join(labels, key), "%s", msg)
		}
	}
	if p := t.Spec.RestartPolicy; p != "" && p != corev1.RestartPolicyAlways {
		f := join(join(path, "spec"), "restartPolicy")
		d.addf(line(f), f, "must be Always, as in a ReplicaSet's pod template, not %q", p)
	}
	if len(t.Spec.Containers) == 0 {
		f := join(join(path, "spec"), "containers")
		d.addf(line(f), f, "a pod needs at least one container")
	}
	names := make(map[string]string) // container name -> its field
	for _, list := range []struct {
		key        string
		containers []corev1.Container
	}{{"initContainers", t.Spec.InitContainers}, {"containers", t.Spec.Containers}} {
		for i, c := range list.containers {
			f := index(join(join(path, "spec"), list.key), i)
			name := join(f, "name")
			switch {
			case c.Name == "":
				d.addf(line(f), name, "required")
			case len(validation.IsDNS1123Label(c.Name)) > 0:
				d.addf(line(name), name, "invalid container name %q: %s", c.Name, validation.IsDNS1123Label(c.Name)[0])
			case names[c.Name] != "":
				d.addf(line(name), name, "duplicate container name %q (first at %s)", c.Name, names[c.Name])
			default:
				names[c.Name] = f
			}
			if strings.TrimSpace(c.Image) == "" {
				image := join(f, "image")
				if _, given := lines[image]; given {
					d.addf(line(image), image, "must not be empty")
				} else {
					d.addf(line(f), image, "required")
				}
			}
		}
	}
}

// checkSelectorLabel checks a label key and value, as the API server does.
func checkSelectorLabel(key, value string) string {
	if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
		return "invalid label key " + strconv.Quote(key) + ": " + msgs[0]
	}
	if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
		return "invalid label value " + strconv.Quote(value) + ": " + msgs[0]
	}
	return ""
}

package scenarios_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodesim/nodesim/scenarios"
)

// fleet is a valid scenario of 21 lines with two pools in two zones and a
// workload; cases append sections from line 22 on.
const fleet = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata:
  name: t
spec:
  duration: 10m
  nodePools:
  - name: a
    count: 2
    labels: {topology.kubernetes.io/zone: zone-a, tier: web}
  - name: b
    count: 80
    architecture: arm64
    labels: {topology.kubernetes.io/zone: zone-b}
  workloads:
  - name: web
    replicas: 3
    template:
      spec:
        containers:
        - {name: app, image: nginx:1.27}
`

// errorCase is a file with a problem: where Parse must report it first.
type errorCase struct {
	name    string
	text    string
	line    int
	field   string
	message string // a part of the message
	count   int    // errors in all; 0 means 1
}

func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := scenarios.Parse("t.yaml", []byte(tc.text))
			if err == nil {
				t.Fatalf("no error; parsed %+v", s)
			}
			if s != nil {
				t.Errorf("a scenario along with the error")
			}
			var first *scenarios.Error
			if !errors.As(err, &first) {
				t.Fatalf("errors.As(%T) found no *scenarios.Error", err)
			}
			if first.File != "t.yaml" || first.Line != tc.line || first.Field != tc.field || !strings.Contains(first.Message, tc.message) {
				t.Errorf("got  %q\nwant t.yaml:%d: %s: ...%s...", first.Error(), tc.line, tc.field, tc.message)
			}
			if errs := all(t, err); len(errs) != max(tc.count, 1) {
				t.Errorf("%d errors, want %d:\n%v", len(errs), max(tc.count, 1), err)
			}
		})
	}
}

func TestControlPlane(t *testing.T) {
	s := mustParse(t, head+`  controlPlane:
    nodeMonitorPeriod: 2s
    nodeMonitorGracePeriod: 20s
    nodeStartupGracePeriod: 2m
    nodeEvictionRate: 1
    secondaryNodeEvictionRate: 0
    largeClusterSizeThreshold: 10
    unhealthyZoneThreshold: 1
    defaultNotReadyTolerationSeconds: 0
    defaultUnreachableTolerationSeconds: 30
    controllers: ["*", "-scheduler", "-nodelifecycle"]
`)
	want := scenarios.ControlPlane{
		NodeMonitorPeriod: 2 * time.Second, NodeMonitorGracePeriod: 20 * time.Second, NodeStartupGracePeriod: 2 * time.Minute,
		NodeEvictionRate: 1, SecondaryNodeEvictionRate: 0, LargeClusterSizeThreshold: 10, UnhealthyZoneThreshold: 1,
		DefaultNotReadyTolerationSeconds: 0, DefaultUnreachableTolerationSeconds: 30,
		Controllers: []string{"*", "-scheduler", "-nodelifecycle"},
	}
	if !reflect.DeepEqual(s.ControlPlane, want) {
		t.Errorf("control plane\n got %+v\nwant %+v", s.ControlPlane, want)
	}

	// Defaults follow the release, wherever kubernetesVersion is in spec;
	// a partial controlPlane keeps the defaults of the rest.
	for _, tc := range []struct {
		version string
		grace   time.Duration
	}{{"1.28", 40 * time.Second}, {"1.31", 40 * time.Second}, {"1.32", 50 * time.Second}, {"1.37", 50 * time.Second}} {
		s := mustParse(t, strings.Replace(head, "spec:\n", "spec:\n  controlPlane: {nodeEvictionRate: 0.5}\n", 1)+"  kubernetesVersion: \""+tc.version+"\"\n")
		want := scenarios.DefaultControlPlane(tc.version)
		want.NodeEvictionRate = 0.5
		if !reflect.DeepEqual(s.ControlPlane, want) || want.NodeMonitorGracePeriod != tc.grace {
			t.Errorf("%s: control plane %+v, want grace period %s", tc.version, s.ControlPlane, tc.grace)
		}
	}
	if d := scenarios.DefaultControlPlane(scenarios.DefaultKubernetesVersion); d.NodeMonitorPeriod != 5*time.Second || d.NodeStartupGracePeriod != time.Minute ||
		d.NodeEvictionRate != 0.1 || d.SecondaryNodeEvictionRate != 0.01 || d.LargeClusterSizeThreshold != 50 || d.UnhealthyZoneThreshold != 0.55 ||
		d.DefaultNotReadyTolerationSeconds != 300 || d.DefaultUnreachableTolerationSeconds != 300 {
		t.Errorf("defaults %+v", d)
	}
}

func TestEmptySections(t *testing.T) {
	s := mustParse(t, head+"  controlPlane:\n  workloads: []\n  timeline:\n  expect: []\n")
	if s.Workloads != nil || s.Timeline != nil || s.Expect != nil || !reflect.DeepEqual(s.ControlPlane, scenarios.DefaultControlPlane("1.37")) {
		t.Errorf("empty sections: %+v", s)
	}
	if got := s.Check(nil, s.Duration); len(got) != 0 {
		t.Errorf("no expectations gave %v", got)
	}
}

func TestControlPlaneErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{"unknown field", head + "  controlPlane:\n    podEvictionTimeout: 5m\n", 11, "spec.controlPlane.podEvictionTimeout", `unknown field "podEvictionTimeout"`, 0},
		{"misspelt field", head + "  controlPlane:\n    nodeMonitorGracePeriods: 5m\n", 11, "spec.controlPlane.nodeMonitorGracePeriods", `(did you mean "nodeMonitorGracePeriod"?)`, 0},
		{"not a mapping", head + "  controlPlane: 5s\n", 10, "spec.controlPlane", `must be a mapping, not "5s"`, 0},
		{"unknown controller", head + "  controlPlane:\n    controllers: [\"*\", \"-schedulr\"]\n", 11, "spec.controlPlane.controllers", `unknown controller "schedulr" (did you mean "scheduler"?)`, 0},
		{"zero period", head + "  controlPlane:\n    nodeMonitorPeriod: 0s\n", 11, "spec.controlPlane.nodeMonitorPeriod", "must be more than 0", 0},
		{"period that never ends", head + "  controlPlane:\n    nodeMonitorPeriod: 1ns\n", 11, "spec.controlPlane.nodeMonitorPeriod", "must be at least 1s, not 1ns", 0},
		{"negative grace period", head + "  controlPlane:\n    nodeMonitorGracePeriod: -40s\n", 11, "spec.controlPlane.nodeMonitorGracePeriod", "must be more than 0", 0},
		{"grace period without unit", head + "  controlPlane:\n    nodeStartupGracePeriod: 60\n", 11, "spec.controlPlane.nodeStartupGracePeriod", `invalid duration "60"`, 0},
		{"negative rate", head + "  controlPlane:\n    nodeEvictionRate: -0.1\n", 11, "spec.controlPlane.nodeEvictionRate", "must not be negative", 0},
		{"rate a word", head + "  controlPlane:\n    secondaryNodeEvictionRate: fast\n", 11, "spec.controlPlane.secondaryNodeEvictionRate", `must be a number, not "fast"`, 0},
		{"rate infinite", head + "  controlPlane:\n    nodeEvictionRate: .inf\n", 11, "spec.controlPlane.nodeEvictionRate", "must be a number", 0},
		{"threshold above 1", head + "  controlPlane:\n    unhealthyZoneThreshold: 1.5\n", 11, "spec.controlPlane.unhealthyZoneThreshold", "must be a fraction from 0 to 1, not 1.5", 0},
		{"size threshold", head + "  controlPlane:\n    largeClusterSizeThreshold: -1\n", 11, "spec.controlPlane.largeClusterSizeThreshold", "must be from 0 to 2147483647, not -1", 0},
		{"size threshold fraction", head + "  controlPlane:\n    largeClusterSizeThreshold: 2.5\n", 11, "spec.controlPlane.largeClusterSizeThreshold", "must be a whole number", 0},
		{"toleration seconds", head + "  controlPlane:\n    defaultUnreachableTolerationSeconds: -1\n", 11, "spec.controlPlane.defaultUnreachableTolerationSeconds", "must not be negative, not -1", 0},
		{"toleration duration", head + "  controlPlane:\n    defaultNotReadyTolerationSeconds: 5m\n", 11, "spec.controlPlane.defaultNotReadyTolerationSeconds", `must be a whole number, not "5m"`, 0},
	})
}

func TestWorkloads(t *testing.T) {
	s := mustParse(t, head+`  workloads:
  - name: web
    namespace: shop
    replicas: 3000
    template:
      metadata:
        labels: {app: web}
      spec:
        terminationGracePeriodSeconds: 30
        tolerations:
        - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 60}
        containers:
        - name: app
          image: nginx:1.27
          ports: [{containerPort: 8080}]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 1e9}
          readinessProbe:
            httpGet: {path: /, port: http}
        initContainers:
        - name: init
          image: busybox:1.36
  - name: batch
    template:
      spec:
        containers: [{name: job, image: "1.0", env: [{name: N, value: 1}], tty: true}]
`)
	if len(s.Workloads) != 2 {
		t.Fatalf("%d workloads, want 2", len(s.Workloads))
	}
	w := s.Workloads[0]
	if w.Name != "web" || w.Namespace != "shop" || w.Replicas != 3000 || w.Line != 11 {
		t.Errorf("workload %s/%s x%d at line %d", w.Namespace, w.Name, w.Replicas, w.Line)
	}
	spec := w.Template.Spec
	c := spec.Containers[0]
	if w.Template.Labels["app"] != "web" || *spec.TerminationGracePeriodSeconds != 30 || c.Name != "app" || c.Image != "nginx:1.27" ||
		c.Ports[0].ContainerPort != 8080 || c.Resources.Requests.Cpu().Cmp(resource.MustParse("100m")) != 0 ||
		c.Resources.Limits.Memory().Value() != 1e9 || c.ReadinessProbe.HTTPGet.Port != intstr.FromString("http") ||
		spec.InitContainers[0].Image != "busybox:1.36" {
		t.Errorf("template %+v", w.Template)
	}
	tol := corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(60))}
	if !reflect.DeepEqual(spec.Tolerations, []corev1.Toleration{tol}) {
		t.Errorf("tolerations %+v", spec.Tolerations)
	}
	b := s.Workloads[1]
	if b.Namespace != "default" || b.Replicas != 1 || b.Template.Spec.Containers[0].Image != "1.0" ||
		b.Template.Spec.Containers[0].Env[0].Value != "1" || !b.Template.Spec.Containers[0].TTY {
		t.Errorf("defaults and scalars: %+v", b)
	}
	if got := w.PodName(12); got != "web-12" {
		t.Errorf("PodName(12) = %s", got)
	}
	for _, tc := range []struct {
		ns, name string
		index    int
		ok       bool
	}{{"shop", "web-0", 0, true}, {"shop", "web-2999", 2999, true}, {"shop", "web-3000", 0, false}, {"default", "web-0", 0, false},
		{"shop", "web-01", 0, false}, {"shop", "web-", 0, false}, {"shop", "webx-1", 0, false}, {"shop", "web--1", 0, false}} {
		if i, ok := w.Pod(tc.ns, tc.name); i != tc.index || ok != tc.ok {
			t.Errorf("Pod(%s, %s) = %d, %v; want %d, %v", tc.ns, tc.name, i, ok, tc.index, tc.ok)
		}
	}
}

func ptr[T any](v T) *T { return &v }

const workloadHead = head + "  workloads:\n  - name: web\n" // lines 10, 11; cases go on at 12

func TestWorkloadErrors(t *testing.T) {
	tpl := "    template:\n      spec:\n        containers:\n        - name: app\n          image: nginx\n" // lines 12-16
	runErrorCases(t, []errorCase{
		{"not a list", head + "  workloads: {web: 1}\n", 10, "spec.workloads", "must be a list, not a mapping", 0},
		{"no name", head + "  workloads:\n  - replicas: 1\n" + tpl, 11, "spec.workloads[0].name", "required", 0},
		{"no template", workloadHead, 11, "spec.workloads[0].template", "required", 0},
		{"bad name", strings.Replace(workloadHead, "web", "Web", 1) + tpl, 11, "spec.workloads[0].name", `invalid name "Web"`, 0},
		{"bad namespace", workloadHead + "    namespace: a.b\n" + tpl, 12, "spec.workloads[0].namespace", `invalid namespace "a.b"`, 0},
		{"negative replicas", workloadHead + "    replicas: -1\n" + tpl, 12, "spec.workloads[0].replicas", "must be from 0 to 1000000, not -1", 0},
		{"unknown field", workloadHead + "    selector: {}\n" + tpl, 12, "spec.workloads[0].selector", `unknown field "selector"; known fields: name, namespace, replicas, template`, 0},
		{"duplicate", workloadHead + tpl + "  - name: web\n" + tpl, 17, "spec.workloads[1].name", "duplicate workload default/web (first at line 11)", 0},
		{"same name other namespace", workloadHead + tpl + "  - {name: web, namespace: x, template: {spec: {containers: [{name: a, image: b}]}}}\n  - {name: web, namespace: x, template: {spec: {containers: [{name: a, image: b}]}}}\n",
			18, "spec.workloads[2].name", "duplicate workload x/web (first at line 17)", 0},
		{"too many pods", head + "  workloads:\n  - {name: a, replicas: 600000, template: {spec: {containers: [{name: a, image: b}]}}}\n  - {name: b, replicas: 600000, template: {spec: {containers: [{name: a, image: b}]}}}\n",
			10, "spec.workloads", "1200000 pods in all", 0},

		// The template: strict, with lines and fields.
		{"template unknown field", workloadHead + tpl + "          imagePullPolicy: Always\n          imagee: x\n", 18, "spec.workloads[0].template.spec.containers[0].imagee", `unknown field "imagee" (did you mean "image"?)`, 0},
		{"template unknown top field", workloadHead + tpl + "      replicas: 3\n", 17, "spec.workloads[0].template.replicas", `unknown field "replicas"; known fields: metadata, spec`, 0},
		{"template wrong case", workloadHead + tpl + "          Image: x\n", 17, "spec.workloads[0].template.spec.containers[0].Image", `(did you mean "image"?)`, 0},
		{"template wrong type", workloadHead + tpl + "          ports: [{containerPort: http}]\n", 17, "spec.workloads[0].template.spec.containers[0].ports[0].containerPort", `must be a whole number, not "http"`, 0},
		{"template int32 overflow", workloadHead + tpl + "          ports: [{containerPort: 4294967296}]\n", 17, "spec.workloads[0].template.spec.containers[0].ports[0].containerPort", "does not fit in a 32-bit whole number", 0},
		{"template bool", workloadHead + tpl + "          tty: yes\n", 17, "spec.workloads[0].template.spec.containers[0].tty", `must be true or false, not "yes"`, 0},
		{"template quantity", workloadHead + tpl + "          resources:\n            requests:\n              cpu: lots\n", 19, "spec.workloads[0].template.spec.containers[0].resources.requests.cpu", `invalid quantity "lots"`, 0},
		{"template list for a string", workloadHead + tpl + "          command: sh\n", 17, "spec.workloads[0].template.spec.containers[0].command", `must be a list, not "sh"`, 0},
		{"template int or string", workloadHead + tpl + "          readinessProbe: {httpGet: {port: [1]}}\n", 17, "spec.workloads[0].template.spec.containers[0].readinessProbe.httpGet.port", "must be a number or a string, not a list", 0},
		{"template time", workloadHead + tpl + "      metadata: {creationTimestamp: yesterday}\n", 17, "spec.workloads[0].template.metadata.creationTimestamp", `invalid value "yesterday"`, 0},
		{"no containers", workloadHead + "    template:\n      spec:\n        containers: []\n", 14, "spec.workloads[0].template.spec.containers", "a pod needs at least one container", 0},
		{"no spec", workloadHead + "    template: {metadata: {labels: {a: b}}}\n", 12, "spec.workloads[0].template.spec.containers", "a pod needs at least one container", 0},
		{"container without image", workloadHead + "    template:\n      spec:\n        containers:\n        - name: app\n", 15, "spec.workloads[0].template.spec.containers[0].image", "required", 0},
		{"container empty image", workloadHead + "    template:\n      spec:\n        containers:\n        - name: app\n          image: \"\"\n", 16, "spec.workloads[0].template.spec.containers[0].image", "must not be empty", 0},
		{"container without name", workloadHead + "    template:\n      spec:\n        containers:\n        - image: nginx\n", 15, "spec.workloads[0].template.spec.containers[0].name", "required", 0},
		{"container bad name", workloadHead + "    template:\n      spec:\n        containers:\n        - {name: App, image: nginx}\n", 15, "spec.workloads[0].template.spec.containers[0].name", `invalid container name "App"`, 0},
		{"duplicate container", workloadHead + tpl + "        - {name: app, image: nginx}\n", 17, "spec.workloads[0].template.spec.containers[1].name", `duplicate container name "app" (first at spec.workloads[0].template.spec.containers[0])`, 0},
		{"restart policy", workloadHead + tpl + "        restartPolicy: Never\n", 17, "spec.workloads[0].template.spec.restartPolicy", `must be Always, as in a ReplicaSet's pod template, not "Never"`, 0},
		{"template label", workloadHead + tpl + "      metadata:\n        labels:\n          app: a b\n", 19, "spec.workloads[0].template.metadata.labels.app", `invalid label value "a b"`, 0},
	})
}

package printers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
)

// now is the fixed instant every test measures ages against.
var now = time.Date(2026, time.May, 1, 12, 0, 0, 0, time.UTC)

func fakeClock() clock.PassiveClock { return clocktesting.NewFakePassiveClock(now) }

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func microAgo(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(now.Add(-d)) }

func ptrTo[T any](v T) *T { return &v }

func convert(t *testing.T, tc rest.TableConvertor, obj runtime.Object) *metav1.Table {
	t.Helper()
	table, err := tc.ConvertToTable(context.Background(), obj, nil)
	if err != nil {
		t.Fatalf("ConvertToTable(%T): %v", obj, err)
	}
	return table
}

// cells converts a single object and returns its one row's cells.
func cells(t *testing.T, tc rest.TableConvertor, obj runtime.Object) []interface{} {
	t.Helper()
	table := convert(t, tc, obj)
	if len(table.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(table.Rows))
	}
	if table.Rows[0].Object.Object != obj {
		t.Errorf("row object is %p, want the converted object %p", table.Rows[0].Object.Object, obj)
	}
	if got, want := len(table.Rows[0].Cells), len(table.ColumnDefinitions); got != want {
		t.Errorf("row has %d cells for %d columns", got, want)
	}
	return table.Rows[0].Cells
}

func checkCells(t *testing.T, name string, got, want []interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", name, got, want)
	}
}

type col struct {
	name, typ, format string
	priority          int32
}

func checkColumns(t *testing.T, tc rest.TableConvertor, obj runtime.Object, want []col) {
	t.Helper()
	table := convert(t, tc, obj)
	if len(table.ColumnDefinitions) != len(want) {
		t.Fatalf("got %d columns, want %d: %+v", len(table.ColumnDefinitions), len(want), table.ColumnDefinitions)
	}
	for i, c := range table.ColumnDefinitions {
		w := want[i]
		if c.Name != w.name || c.Type != w.typ || c.Format != w.format || c.Priority != w.priority {
			t.Errorf("column %d = {%q %q %q %d}, want {%q %q %q %d}", i, c.Name, c.Type, c.Format, c.Priority, w.name, w.typ, w.format, w.priority)
		}
		if c.Description == "" {
			t.Errorf("column %q has no description", c.Name)
		}
	}
}

func TestColumnDefinitions(t *testing.T) {
	c := fakeClock()
	checkColumns(t, NodeTable(c), &corev1.Node{}, []col{
		{"Name", "string", "name", 0},
		{"Status", "string", "", 0},
		{"Roles", "string", "", 0},
		{"Age", "string", "", 0},
		{"Version", "string", "", 0},
		{"Internal-IP", "string", "", 1},
		{"External-IP", "string", "", 1},
		{"OS-Image", "string", "", 1},
		{"Kernel-Version", "string", "", 1},
		{"Container-Runtime", "string", "", 1},
	})
	checkColumns(t, PodTable(c), &corev1.Pod{}, []col{
		{"Name", "string", "name", 0},
		{"Ready", "string", "", 0},
		{"Status", "string", "", 0},
		{"Restarts", "string", "", 0},
		{"Age", "string", "", 0},
		{"IP", "string", "", 1},
		{"Node", "string", "", 1},
		{"Nominated Node", "string", "", 1},
		{"Readiness Gates", "string", "", 1},
	})
	checkColumns(t, NamespaceTable(c), &corev1.Namespace{}, []col{
		{"Name", "string", "name", 0},
		{"Status", "string", "", 0},
		{"Age", "string", "", 0},
	})
	checkColumns(t, LeaseTable(c), &coordinationv1.Lease{}, []col{
		{"Name", "string", "name", 0},
		{"Holder", "string", "", 0},
		{"Age", "string", "", 0},
	})
	checkColumns(t, EventTable(c), &corev1.Event{}, []col{
		{"Last Seen", "string", "", 0},
		{"Type", "string", "", 0},
		{"Reason", "string", "", 0},
		{"Object", "string", "", 0},
		{"Subobject", "string", "", 1},
		{"Source", "string", "", 1},
		{"Message", "string", "", 0},
		{"First Seen", "string", "", 1},
		{"Count", "string", "", 1},
		{"Name", "string", "name", 1},
	})

	// Descriptions are the API types' field docs, as upstream.
	table := convert(t, NodeTable(c), &corev1.Node{})
	if got, want := table.ColumnDefinitions[0].Description, (metav1.ObjectMeta{}).SwaggerDoc()["name"]; got != want {
		t.Errorf("Name description = %q, want %q", got, want)
	}
	if got, want := table.ColumnDefinitions[4].Description, (corev1.NodeSystemInfo{}).SwaggerDoc()["kubeletVersion"]; got != want {
		t.Errorf("Version description = %q, want %q", got, want)
	}
	if got, want := table.ColumnDefinitions[2].Description, "The roles of the node"; got != want {
		t.Errorf("Roles description = %q, want %q", got, want)
	}
}

func TestNodeRows(t *testing.T) {
	tc := NodeTable(fakeClock())
	info := corev1.NodeSystemInfo{
		KubeletVersion:          "v1.37.2",
		OSImage:                 "Debian GNU/Linux 13 (trixie)",
		KernelVersion:           "6.12.0",
		Architecture:            "amd64",
		ContainerRuntimeVersion: "containerd://2.2.0",
	}
	cases := []struct {
		name string
		node *corev1.Node
		want []interface{}
	}{{
		name: "ready control plane with roles",
		node: &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:              "cp-0",
				CreationTimestamp: ago(90 * time.Minute),
				Labels: map[string]string{
					"node-role.kubernetes.io/control-plane": "",
					"node-role.kubernetes.io/etcd":          "true",
					"node-role.kubernetes.io/":              "", // no role name: ignored
					"kubernetes.io/role":                    "control-plane",
					"kubernetes.io/hostname":                "cp-0",
				},
			},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{
					{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
					{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
				},
				Addresses: []corev1.NodeAddress{
					{Type: corev1.NodeHostName, Address: "cp-0"},
					{Type: corev1.NodeInternalIP, Address: "10.0.0.1"},
					{Type: corev1.NodeInternalIP, Address: "10.0.0.99"},
					{Type: corev1.NodeExternalIP, Address: "203.0.113.7"},
				},
				NodeInfo: info,
			},
		},
		want: []interface{}{"cp-0", "Ready", "control-plane,etcd", "90m", "v1.37.2",
			"10.0.0.1", "203.0.113.7", "Debian GNU/Linux 13 (trixie)", "6.12.0 (amd64)", "containerd://2.2.0"},
	}, {
		name: "cordoned NotReady worker",
		node: &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "worker-1", CreationTimestamp: ago(50 * time.Hour)},
			Spec:       corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}},
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.36.0"},
			},
		},
		want: []interface{}{"worker-1", "NotReady,SchedulingDisabled", "<none>", "2d2h", "v1.36.0",
			"10.0.0.2", "<none>", "<unknown>", "<unknown>", "<unknown>"},
	}, {
		name: "Ready condition Unknown prints NotReady; kubernetes.io/role label",
		node: &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "worker-2", CreationTimestamp: ago(30 * time.Second),
				Labels: map[string]string{"kubernetes.io/role": "worker"}},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}},
			},
		},
		want: []interface{}{"worker-2", "NotReady", "worker", "30s", "",
			"<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
	}, {
		name: "no Ready condition, cordoned, no creation time",
		node: &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "fresh"},
			Spec:       corev1.NodeSpec{Unschedulable: true},
		},
		want: []interface{}{"fresh", "Unknown,SchedulingDisabled", "<none>", "<unknown>", "",
			"<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
	}, {
		name: "Ready cordoned",
		node: &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "drain-me", CreationTimestamp: ago(400 * 24 * time.Hour)},
			Spec:       corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo:   info,
			},
		},
		want: []interface{}{"drain-me", "Ready,SchedulingDisabled", "<none>", "400d", "v1.37.2",
			"<none>", "<none>", "Debian GNU/Linux 13 (trixie)", "6.12.0 (amd64)", "containerd://2.2.0"},
	}}
	for _, tc2 := range cases {
		checkCells(t, tc2.name, cells(t, tc, tc2.node), tc2.want)
	}
}

func TestNodeListMeta(t *testing.T) {
	tc := NodeTable(fakeClock())
	list := &corev1.NodeList{
		ListMeta: metav1.ListMeta{ResourceVersion: "4711", Continue: "next-page", RemainingItemCount: ptrTo[int64](3)},
		Items: []corev1.Node{
			{ObjectMeta: metav1.ObjectMeta{Name: "a", CreationTimestamp: ago(5 * time.Minute)}},
			{ObjectMeta: metav1.ObjectMeta{Name: "b", CreationTimestamp: ago(5*time.Minute + 7*time.Second)}},
		},
	}
	table := convert(t, tc, list)
	if table.ResourceVersion != "4711" || table.Continue != "next-page" ||
		table.RemainingItemCount == nil || *table.RemainingItemCount != 3 {
		t.Errorf("list meta not copied: %+v", table.ListMeta)
	}
	if len(table.Rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(table.Rows))
	}
	for i := range list.Items {
		if table.Rows[i].Object.Object != &list.Items[i] {
			t.Errorf("row %d does not reference list item %d", i, i)
		}
	}
	checkCells(t, "row a", table.Rows[0].Cells[:4], []interface{}{"a", "Unknown", "<none>", "5m"})
	checkCells(t, "row b", table.Rows[1].Cells[:4], []interface{}{"b", "Unknown", "<none>", "5m7s"})

	empty := convert(t, tc, &corev1.NodeList{ListMeta: metav1.ListMeta{ResourceVersion: "9"}})
	if empty.Rows == nil || len(empty.Rows) != 0 || empty.ResourceVersion != "9" {
		t.Errorf("empty list: rows=%#v rv=%q, want [] and 9", empty.Rows, empty.ResourceVersion)
	}
	if empty.RemainingItemCount != nil || empty.Continue != "" {
		t.Errorf("empty list: unexpected list meta %+v", empty.ListMeta)
	}
}

func TestSingleObjectResourceVersion(t *testing.T) {
	table := convert(t, NamespaceTable(fakeClock()), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "default", ResourceVersion: "12"},
	})
	if table.ResourceVersion != "12" {
		t.Errorf("ResourceVersion = %q, want 12", table.ResourceVersion)
	}
}

func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(time.Hour)}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, exit, signal int32, finished time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: reason, ExitCode: exit, Signal: signal, FinishedAt: ago(finished),
	}}
}

func containers(names ...string) []corev1.Container {
	var cs []corev1.Container
	for _, n := range names {
		cs = append(cs, corev1.Container{Name: n, Image: "busybox"})
	}
	return cs
}

func TestPodRows(t *testing.T) {
	tc := PodTable(fakeClock())
	sidecar := corev1.ContainerRestartPolicyAlways
	cases := []struct {
		name string
		pod  *corev1.Pod
		want []interface{}
	}{{
		name: "running, one of two ready, wide columns",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-0", CreationTimestamp: ago(3 * time.Hour)},
			Spec: corev1.PodSpec{
				NodeName:       "worker-1",
				Containers:     containers("app", "proxy"),
				ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}},
			},
			Status: corev1.PodStatus{
				Phase:  corev1.PodRunning,
				PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00::5"}},
				Conditions: []corev1.PodCondition{
					{Type: "example.com/lb", Status: corev1.ConditionTrue},
					{Type: "example.com/dns", Status: corev1.ConditionFalse},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", Ready: true, State: running()},
					{Name: "proxy", Ready: false, State: running()},
				},
			},
		},
		want: []interface{}{"web-0", "1/2", "Running", "0", "3h", "10.244.1.5", "worker-1", "<none>", "1/2"},
	}, {
		name: "CrashLoopBackOff with restarts",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "crashy", CreationTimestamp: ago(2 * time.Hour)},
			Spec:       corev1.PodSpec{NodeName: "worker-1", Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:             corev1.PodRunning,
				PodIP:             "10.244.1.6",
				NominatedNodeName: "worker-2",
				ContainerStatuses: []corev1.ContainerStatus{{
					Name: "app", RestartCount: 5,
					State:                waiting("CrashLoopBackOff"),
					LastTerminationState: terminated("Error", 1, 0, 3*time.Minute),
				}},
			},
		},
		want: []interface{}{"crashy", "0/1", "CrashLoopBackOff", "5 (3m ago)", "120m", "10.244.1.6", "worker-1", "worker-2", "<none>"},
	}, {
		name: "Completed",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "job-abc", CreationTimestamp: ago(10 * time.Minute)},
			Spec:       corev1.PodSpec{Containers: containers("main")},
			Status: corev1.PodStatus{
				Phase:             corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "main", State: terminated("Completed", 0, 0, time.Minute)}},
			},
		},
		want: []interface{}{"job-abc", "0/1", "Completed", "0", "10m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Terminating",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "going", CreationTimestamp: ago(time.Hour), DeletionTimestamp: agoPtr(5 * time.Second)},
			Spec:       corev1.PodSpec{Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:             corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running()}},
			},
		},
		want: []interface{}{"going", "1/1", "Terminating", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "deleted but already Succeeded stays Completed",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "done", CreationTimestamp: ago(time.Hour), DeletionTimestamp: agoPtr(time.Second)},
			Spec:       corev1.PodSpec{Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:             corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: terminated("Completed", 0, 0, time.Minute)}},
			},
		},
		want: []interface{}{"done", "0/1", "Completed", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "deleted on a lost node prints Unknown",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "lost", CreationTimestamp: ago(time.Hour), DeletionTimestamp: agoPtr(time.Second)},
			Spec:       corev1.PodSpec{Containers: containers("app")},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"},
		},
		want: []interface{}{"lost", "0/1", "Unknown", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Init:0/1",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "init", CreationTimestamp: ago(20 * time.Second)},
			Spec:       corev1.PodSpec{InitContainers: containers("setup"), Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "setup", State: running()}},
				ContainerStatuses:     []corev1.ContainerStatus{{Name: "app", State: waiting("PodInitializing")}},
			},
		},
		want: []interface{}{"init", "0/1", "Init:0/1", "0", "20s", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Init:1/2 after the first init container finished; PodInitializing is not a reason",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "init2", CreationTimestamp: ago(20 * time.Second)},
			Spec:       corev1.PodSpec{InitContainers: containers("a", "b"), Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", State: terminated("Completed", 0, 0, 10*time.Second)},
					{Name: "b", State: waiting("PodInitializing")},
				},
			},
		},
		want: []interface{}{"init2", "0/1", "Init:1/2", "0", "20s", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Init:CrashLoopBackOff counts init restarts",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "init-crash", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{InitContainers: containers("setup"), Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{
					Name: "setup", RestartCount: 4, State: waiting("CrashLoopBackOff"),
					LastTerminationState: terminated("Error", 2, 0, 90*time.Second),
				}},
			},
		},
		want: []interface{}{"init-crash", "0/1", "Init:CrashLoopBackOff", "4 (90s ago)", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Init:Error",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "init-error", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{InitContainers: containers("setup"), Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:                 corev1.PodFailed,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "setup", State: terminated("Error", 1, 0, time.Minute)}},
			},
		},
		want: []interface{}{"init-error", "0/1", "Init:Error", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Init:ExitCode",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "init-err", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{InitContainers: containers("setup"), Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:                 corev1.PodFailed,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "setup", State: terminated("", 3, 0, time.Minute)}},
			},
		},
		want: []interface{}{"init-err", "0/1", "Init:ExitCode:3", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "Init:Signal",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "init-sig", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{InitContainers: containers("setup"), Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "setup", State: terminated("", 137, 9, time.Minute)}},
			},
		},
		want: []interface{}{"init-sig", "0/1", "Init:Signal:9", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "started sidecar counts as a ready container and its restarts show",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "sidecar", CreationTimestamp: ago(time.Hour)},
			Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "mesh", Image: "envoy", RestartPolicy: &sidecar}},
				Containers:     containers("app"),
			},
			Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				Conditions: []corev1.PodCondition{
					{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
					{Type: corev1.PodReady, Status: corev1.ConditionTrue},
				},
				InitContainerStatuses: []corev1.ContainerStatus{{
					Name: "mesh", Ready: true, Started: ptrTo(true), RestartCount: 1, State: running(),
					LastTerminationState: terminated("Error", 1, 0, 4*time.Minute),
				}},
				ContainerStatuses: []corev1.ContainerStatus{{
					Name: "app", Ready: true, RestartCount: 2, State: running(),
					LastTerminationState: terminated("Error", 1, 0, 10*time.Minute),
				}},
			},
		},
		want: []interface{}{"sidecar", "2/2", "Running", "3 (4m ago)", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "first container completed while another runs and the pod is Ready",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "mixed", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers("once", "server")},
			Status: corev1.PodStatus{
				Phase:      corev1.PodRunning,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "once", State: terminated("Completed", 0, 0, time.Minute)},
					{Name: "server", Ready: true, State: running()},
				},
			},
		},
		want: []interface{}{"mixed", "1/2", "Running", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "first container completed while another runs, pod not Ready",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "mixed2", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers("once", "server")},
			Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "once", State: terminated("Completed", 0, 0, time.Minute)},
					{Name: "server", Ready: true, State: running()},
				},
			},
		},
		want: []interface{}{"mixed2", "1/2", "NotReady", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "first container completed, another failed",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "mixed3", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers("once", "other")},
			Status: corev1.PodStatus{
				Phase: corev1.PodFailed,
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "once", State: terminated("Completed", 0, 0, time.Minute)},
					{Name: "other", State: terminated("", 0, 15, time.Minute)},
				},
			},
		},
		want: []interface{}{"mixed3", "0/2", "Completed", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "container killed by OOM",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "oom", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers("app", "helper")},
			Status: corev1.PodStatus{
				Phase: corev1.PodFailed,
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", State: terminated("OOMKilled", 137, 0, time.Minute)},
					{Name: "helper", State: terminated("Completed", 0, 0, time.Minute)},
				},
			},
		},
		want: []interface{}{"oom", "0/2", "OOMKilled", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "scheduling gated pending pod",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "gated", CreationTimestamp: ago(time.Minute)},
			Spec:       corev1.PodSpec{Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:      corev1.PodPending,
				Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}},
			},
		},
		want: []interface{}{"gated", "0/1", "SchedulingGated", "0", "60s", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "status reason overrides phase (Evicted)",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "evicted", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers("app")},
			Status:     corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
		},
		want: []interface{}{"evicted", "0/1", "Evicted", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
	}, {
		name: "restarts without a recorded termination time have no age",
		pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "restarted", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers("app")},
			Status: corev1.PodStatus{
				Phase:             corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, RestartCount: 2, State: running()}},
			},
		},
		want: []interface{}{"restarted", "1/1", "Running", "2", "60m", "<none>", "<none>", "<none>", "<none>"},
	}}
	for _, c := range cases {
		checkCells(t, c.name, cells(t, tc, c.pod), c.want)
	}
}

func TestPodRowConditions(t *testing.T) {
	tc := PodTable(fakeClock())
	for phase, want := range map[corev1.PodPhase]string{
		corev1.PodSucceeded: "Succeeded",
		corev1.PodFailed:    "Failed",
		corev1.PodRunning:   "",
	} {
		table := convert(t, tc, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: phase}})
		conds := table.Rows[0].Conditions
		switch {
		case want == "" && len(conds) != 0:
			t.Errorf("%s: unexpected row conditions %+v", phase, conds)
		case want != "" && (len(conds) != 1 || conds[0].Type != metav1.RowCompleted || conds[0].Reason != want || conds[0].Status != metav1.ConditionTrue):
			t.Errorf("%s: row conditions %+v, want Completed/%s", phase, conds, want)
		}
	}
}

func TestPodList(t *testing.T) {
	list := &corev1.PodList{
		ListMeta: metav1.ListMeta{ResourceVersion: "77"},
		Items: []corev1.Pod{
			{ObjectMeta: metav1.ObjectMeta{Name: "a", CreationTimestamp: ago(time.Minute)}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
			{ObjectMeta: metav1.ObjectMeta{Name: "b", CreationTimestamp: ago(time.Minute)}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		},
	}
	table := convert(t, PodTable(fakeClock()), list)
	if table.ResourceVersion != "77" || len(table.Rows) != 2 {
		t.Fatalf("rv=%q rows=%d, want 77 and 2", table.ResourceVersion, len(table.Rows))
	}
	checkCells(t, "a", table.Rows[0].Cells[:5], []interface{}{"a", "0/0", "Pending", "0", "60s"})
	checkCells(t, "b", table.Rows[1].Cells[:5], []interface{}{"b", "0/0", "Running", "0", "60s"})
}

func TestNamespaceRows(t *testing.T) {
	tc := NamespaceTable(fakeClock())
	checkCells(t, "active", cells(t, tc, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "default", CreationTimestamp: ago(10 * 24 * time.Hour)},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}), []interface{}{"default", "Active", "10d"})
	checkCells(t, "terminating", cells(t, tc, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "old", CreationTimestamp: ago(3*time.Hour + 20*time.Minute)},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}), []interface{}{"old", "Terminating", "3h20m"})
	checkCells(t, "no phase", cells(t, tc, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "raw"},
	}), []interface{}{"raw", "", "<unknown>"})

	table := convert(t, tc, &corev1.NamespaceList{
		ListMeta: metav1.ListMeta{ResourceVersion: "5", Continue: "c"},
		Items:    []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "x"}}},
	})
	if table.ResourceVersion != "5" || table.Continue != "c" || len(table.Rows) != 1 {
		t.Errorf("namespace list: %+v rows=%d", table.ListMeta, len(table.Rows))
	}
}

func TestLeaseRows(t *testing.T) {
	tc := LeaseTable(fakeClock())
	checkCells(t, "held", cells(t, tc, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-1", Namespace: "kube-node-lease", CreationTimestamp: ago(26 * time.Hour)},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptrTo("worker-1")},
	}), []interface{}{"worker-1", "worker-1", "26h"})
	checkCells(t, "unheld", cells(t, tc, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-scheduler", CreationTimestamp: ago(7 * time.Minute)},
	}), []interface{}{"kube-scheduler", "", "7m"})

	table := convert(t, tc, &coordinationv1.LeaseList{
		ListMeta: metav1.ListMeta{ResourceVersion: "31"},
		Items:    []coordinationv1.Lease{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, {ObjectMeta: metav1.ObjectMeta{Name: "b"}}},
	})
	if table.ResourceVersion != "31" || len(table.Rows) != 2 {
		t.Errorf("lease list: rv=%q rows=%d", table.ResourceVersion, len(table.Rows))
	}
}

func TestEventRows(t *testing.T) {
	tc := EventTable(fakeClock())
	cases := []struct {
		name  string
		event *corev1.Event
		want  []interface{}
	}{{
		name: "core event with counts",
		event: &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: "web-0.17a2b3c4d5e6f708", Namespace: "default"},
			InvolvedObject: corev1.ObjectReference{
				Kind: "Pod", Name: "web-0", Namespace: "default", FieldPath: "spec.containers{app}",
			},
			Reason:         "BackOff",
			Message:        "  Back-off restarting failed container app\n",
			Source:         corev1.EventSource{Component: "kubelet", Host: "worker-1"},
			FirstTimestamp: ago(15 * time.Minute),
			LastTimestamp:  ago(20 * time.Second),
			Count:          12,
			Type:           corev1.EventTypeWarning,
		},
		want: []interface{}{"20s", "Warning", "BackOff", "pod/web-0", "spec.containers{app}", "kubelet, worker-1",
			"Back-off restarting failed container app", "15m", int64(12), "web-0.17a2b3c4d5e6f708"},
	}, {
		name: "events.k8s.io style event with series",
		event: &corev1.Event{
			ObjectMeta:          metav1.ObjectMeta{Name: "n1.abc"},
			InvolvedObject:      corev1.ObjectReference{Kind: "Node", Name: "worker-2"},
			Reason:              "NodeNotReady",
			Message:             "Node worker-2 status is now: NodeNotReady",
			EventTime:           microAgo(2 * time.Hour),
			Series:              &corev1.EventSeries{Count: 4, LastObservedTime: microAgo(5 * time.Minute)},
			ReportingController: "node-controller",
			ReportingInstance:   "cp-0",
			Type:                corev1.EventTypeNormal,
		},
		want: []interface{}{"5m", "Normal", "NodeNotReady", "node/worker-2", "", "node-controller, cp-0",
			"Node worker-2 status is now: NodeNotReady", "120m", int64(4), "n1.abc"},
	}, {
		name: "singleton new-style event without last timestamp or count",
		event: &corev1.Event{
			ObjectMeta:          metav1.ObjectMeta{Name: "ns.one"},
			InvolvedObject:      corev1.ObjectReference{Kind: "Namespace"},
			Reason:              "Created",
			EventTime:           microAgo(45 * time.Second),
			ReportingController: "nodesim",
			Type:                corev1.EventTypeNormal,
		},
		want: []interface{}{"45s", "Normal", "Created", "namespace", "", "nodesim", "", "45s", int64(1), "ns.one"},
	}, {
		name:  "no timestamps at all",
		event: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "bare"}},
		want:  []interface{}{"<unknown>", "", "", "", "", "", "", "<unknown>", int64(1), "bare"},
	}}
	for _, c := range cases {
		checkCells(t, c.name, cells(t, tc, c.event), c.want)
	}

	table := convert(t, tc, &corev1.EventList{
		ListMeta: metav1.ListMeta{ResourceVersion: "900", RemainingItemCount: ptrTo[int64](0)},
		Items:    []corev1.Event{*cases[0].event, *cases[1].event},
	})
	if table.ResourceVersion != "900" || table.RemainingItemCount == nil || *table.RemainingItemCount != 0 || len(table.Rows) != 2 {
		t.Errorf("event list: %+v rows=%d", table.ListMeta, len(table.Rows))
	}
}

func TestTableOptions(t *testing.T) {
	tc := NamespaceTable(fakeClock())
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}

	table, err := tc.ConvertToTable(context.Background(), ns, &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil || len(table.Rows) != 1 {
		t.Errorf("NoHeaders: columns=%v rows=%d, want no columns and one row", table.ColumnDefinitions, len(table.Rows))
	}
	if _, err := tc.ConvertToTable(context.Background(), ns, &metav1.TableOptions{}); err != nil {
		t.Errorf("empty TableOptions: %v", err)
	}
	if _, err := tc.ConvertToTable(context.Background(), ns, &metav1.ListOptions{}); err == nil {
		t.Error("ListOptions as table options: no error")
	}

	// The definitions handed out are copies: changing one table must not
	// change the next.
	first := convert(t, tc, ns)
	first.ColumnDefinitions[0].Name = "changed"
	if second := convert(t, tc, ns); second.ColumnDefinitions[0].Name != "Name" {
		t.Errorf("column definitions shared between tables: %q", second.ColumnDefinitions[0].Name)
	}
}

func TestWrongType(t *testing.T) {
	for name, tc := range map[string]rest.TableConvertor{
		"node": NodeTable(fakeClock()), "pod": PodTable(fakeClock()), "namespace": NamespaceTable(fakeClock()),
		"event": EventTable(fakeClock()), "lease": LeaseTable(fakeClock()),
	} {
		if _, err := tc.ConvertToTable(context.Background(), &corev1.Service{}, nil); err == nil {
			t.Errorf("%s table accepted a Service", name)
		}
	}
	if _, err := NodeTable(fakeClock()).ConvertToTable(context.Background(), (*corev1.Node)(nil), nil); err == nil {
		t.Error("nil *Node: no error")
	}
}

func TestNoClock(t *testing.T) {
	var typedNil *clocktesting.FakePassiveClock
	for name, c := range map[string]clock.PassiveClock{"nil": nil, "typed nil": typedNil} {
		constructors := map[string]func(clock.PassiveClock) rest.TableConvertor{
			"NodeTable": NodeTable, "PodTable": PodTable, "NamespaceTable": NamespaceTable,
			"EventTable": EventTable, "LeaseTable": LeaseTable,
		}
		objs := map[string]runtime.Object{
			"NodeTable": &corev1.Node{}, "PodTable": &corev1.Pod{}, "NamespaceTable": &corev1.Namespace{},
			"EventTable": &corev1.Event{}, "LeaseTable": &coordinationv1.Lease{},
		}
		for cname, ctor := range constructors {
			tc := ctor(c) // must not panic
			table, err := tc.ConvertToTable(context.Background(), objs[cname], nil)
			if !errors.Is(err, ErrNoClock) || table != nil {
				t.Errorf("%s(%s clock): got %v, %v; want ErrNoClock", cname, name, table, err)
			}
			if err != nil && err.Error() != "printers: no clock" {
				t.Errorf("error text %q", err.Error())
			}
		}
	}
}

func TestClockIsInjected(t *testing.T) {
	fc := clocktesting.NewFakePassiveClock(now)
	tc := LeaseTable(fc)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", CreationTimestamp: ago(0)}}
	checkCells(t, "at creation", cells(t, tc, lease), []interface{}{"l", "", "0s"})
	fc.SetTime(now.Add(36 * time.Hour))
	checkCells(t, "later", cells(t, tc, lease), []interface{}{"l", "", "36h"})
	// A creation time ahead of the clock beyond the tolerated skew.
	fc.SetTime(now.Add(-time.Minute))
	checkCells(t, "future", cells(t, tc, lease), []interface{}{"l", "", "<invalid>"})
}

// TestTableJSON checks the table serializes the way clients read it.
func TestTableJSON(t *testing.T) {
	table := convert(t, EventTable(fakeClock()), &corev1.EventList{Items: []corev1.Event{{
		ObjectMeta: metav1.ObjectMeta{Name: "e"}, Count: 3, LastTimestamp: ago(time.Second), FirstTimestamp: ago(time.Second),
	}}})
	raw, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Rows []struct {
			Cells  []interface{}   `json:"cells"`
			Object json.RawMessage `json:"object"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 1 {
		t.Fatalf("round-tripped %d rows, want 1", len(back.Rows))
	}
	if got := fmt.Sprint(back.Rows[0].Cells...); got != fmt.Sprint("1s", "", "", "", "", "", "", "1s", 3, "e") {
		t.Errorf("round-tripped cells %q", got)
	}
	if len(back.Rows[0].Object) == 0 || string(back.Rows[0].Object) == "null" {
		t.Errorf("row object not serialized: %s", back.Rows[0].Object)
	}
}

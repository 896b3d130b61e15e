package run

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestShardViewKeepsOwnPart: a shard's watches keep its own Nodes and the
// pods on them whole and unscheduled pods whole (one shard counts them),
// and of every other Node and bound Pod only what names it and where it
// runs, so that a shard's memory does not grow with the whole cluster.
func TestShardViewKeepsOwnPart(t *testing.T) {
	w := &world{owns: func(name string) bool { return name == "" || name == "mine" }}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "", UID: "u-name", ResourceVersion: "42",
			Labels: map[string]string{"zone": "a"}, Annotations: map[string]string{"a": "b"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}}
	}
	node := func(name string) *corev1.Node {
		return &corev1.Node{ObjectMeta: meta(name), Status: corev1.NodeStatus{
			Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	}
	pod := func(name, node string) *corev1.Pod {
		m := meta(name)
		m.Namespace = "default"
		return &corev1.Pod{ObjectMeta: m, Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	}
	for _, obj := range []any{node("mine"), pod("p", "mine"), pod("pending", "")} {
		got, err := w.shardView(obj)
		if err != nil || got != obj {
			t.Errorf("own %v: kept %v, %v; want it whole", obj, got, err)
		}
	}
	got, err := w.shardView(node("theirs"))
	want := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "theirs", UID: "u-name", ResourceVersion: "42"}}
	if err != nil || !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("another shard's node: kept %+v, %v; want %+v", got, err, want)
	}
	got, err = w.shardView(pod("q", "theirs"))
	wantPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "q", UID: "u-name", ResourceVersion: "42"},
		Spec: corev1.PodSpec{NodeName: "theirs"}}
	if err != nil || !equality.Semantic.DeepEqual(got, wantPod) {
		t.Errorf("a pod of another shard's node: kept %+v, %v; want %+v", got, err, wantPod)
	}
	// The transform may see its own output again.
	if again, _ := w.shardView(got); !equality.Semantic.DeepEqual(again, wantPod) {
		t.Errorf("trimmed twice: %+v", again)
	}
}

// TestModelViewTrimsManagedFields: the simulation's watches drop managed
// fields, in the whole cluster and in a shard, and keep the rest.
func TestModelViewTrimsManagedFields(t *testing.T) {
	w := &world{owns: func(name string) bool { return name == "mine" }}
	for _, whole := range []bool{true, false} {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "mine", Labels: map[string]string{"zone": "a"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}}}
		got, err := w.modelView(whole)(n)
		if err != nil {
			t.Fatal(err)
		}
		want := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "mine", Labels: map[string]string{"zone": "a"}}}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("whole %v: kept %+v, want %+v", whole, got, want)
		}
	}
	if got, _ := w.modelView(false)(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Labels: map[string]string{"zone": "a"}}}); got.(*corev1.Node).Labels != nil {
		t.Errorf("a shard kept another shard's node whole: %+v", got)
	}
}

package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	criruntime "github.com/nodesim/nodesim/runtime"
)

// giveNodesUIDs has the fake API server assign a Node its UID on create,
// as a real one does.
func giveNodesUIDs(h *harness) {
	h.client.PrependReactor("create", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := a.(k8stesting.CreateAction).GetObject().(*corev1.Node)
		n.UID = types.UID("uid-of-" + n.Name)
		return false, nil, nil
	})
}

func nodeEvents(t *testing.T, h *harness) []corev1.Event {
	t.Helper()
	list, err := h.client.CoreV1().Events(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Node" {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Event) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func reasons(evs []corev1.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s/%s×%d", e.Type, e.Reason, e.Count))
	}
	return out
}

func TestNodeEventsAsTheKubeletRecordsThem(t *testing.T) {
	h := newHarness(t, 3*time.Second)
	giveNodesUIDs(h)
	start := h.engine.Start()
	// Ready goes away when the network does, and comes back.
	h.engine.At(start.Add(time.Minute), func(time.Time) { h.rt.SetNetworkReady(false) })
	h.engine.At(start.Add(2*time.Minute), func(time.Time) { h.rt.SetNetworkReady(true) })
	h.engine.At(start.Add(3*time.Minute), func(time.Time) { h.rt.SetNetworkReady(false) })
	h.engine.At(start.Add(4*time.Minute), func(time.Time) { h.rt.SetNetworkReady(true) })
	// A reboot: the kubelet comes back with a new boot ID.
	h.engine.At(start.Add(5*time.Minute), func(time.Time) { h.k.Stop(); h.k.Start(h.k.Entity()) })
	h.run(7 * time.Minute)

	evs := nodeEvents(t, h)
	got := reasons(evs)
	want := []string{
		"Normal/Starting×1", // first boot
		"Normal/NodeHasSufficientMemory×1", "Normal/NodeHasNoDiskPressure×1", "Normal/NodeHasSufficientPID×1",
		"Normal/NodeReady×3",    // at 3 s, 2m and 4m: one event, count 3, as the recorder's correlator
		"Normal/NodeNotReady×2", // at 1m and 3m
		// The second boot: a new recorder, new events; the initial node's
		// setters record the pressure events again, as upstream's do.
		"Normal/Starting×1",
		"Normal/NodeHasSufficientMemory×1", "Normal/NodeHasNoDiskPressure×1", "Normal/NodeHasSufficientPID×1",
		"Warning/Rebooted×1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("node events\n got %v\nwant %v", got, want)
	}
	for i, e := range evs {
		if e.Source != (corev1.EventSource{Component: "kubelet", Host: "n-1"}) || e.ReportingController != "kubelet" || e.ReportingInstance != "n-1" {
			t.Errorf("%s: source %+v, reporting %s/%s", e.Reason, e.Source, e.ReportingController, e.ReportingInstance)
		}
		ref := e.InvolvedObject
		if ref.Kind != "Node" || ref.Name != "n-1" || ref.APIVersion != "v1" || ref.Namespace != "" {
			t.Errorf("%s: involvedObject %+v", e.Reason, ref)
		}
		// v1.37: no UID before the kubelet has seen its Node in this
		// boot (Starting, and the initial node's setters before
		// registration), the Node's UID after.
		wantUID := types.UID("uid-of-n-1")
		if i <= 3 || (i >= 6 && i <= 9) {
			wantUID = ""
		}
		if ref.UID != wantUID {
			t.Errorf("%s: involvedObject.uid %q, want %q", e.Reason, ref.UID, wantUID)
		}
		if e.Reason == "NodeReady" && e.Message != "Node n-1 status is now: NodeReady" {
			t.Errorf("NodeReady message %q", e.Message)
		}
		if e.Reason == "Starting" && e.Message != "Starting kubelet." {
			t.Errorf("Starting message %q", e.Message)
		}
		if e.Reason == "Rebooted" && !strings.HasPrefix(e.Message, "Node n-1 has been rebooted, boot id: ") {
			t.Errorf("Rebooted message %q", e.Message)
		}
	}
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), "n-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := evs[len(evs)-1]; !strings.HasSuffix(r.Message, node.Status.NodeInfo.BootID) {
		t.Errorf("Rebooted names boot id %q, the node has %q", r.Message, node.Status.NodeInfo.BootID)
	}
}

func TestNodeStatusImagesHandlersAndFeatures(t *testing.T) {
	h := newHarness(t, time.Second)
	// 53 images: the status lists the 50 largest, largest first.
	ctx := context.Background()
	for i := range 53 {
		if _, err := h.rt.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: fmt.Sprintf("example.com/app-%02d:v1", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	h.run(time.Minute)
	node, err := h.client.CoreV1().Nodes().Get(ctx, "n-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ims := node.Status.Images
	if len(ims) != 50 {
		t.Fatalf("%d images in status, want 50 (nodeStatusMaxImages)", len(ims))
	}
	for i := 1; i < len(ims); i++ {
		if ims[i].SizeBytes > ims[i-1].SizeBytes {
			t.Fatalf("images not largest first at %d: %d after %d", i, ims[i].SizeBytes, ims[i-1].SizeBytes)
		}
	}
	first := ims[0]
	if len(first.Names) != 2 || !strings.Contains(first.Names[0], "@sha256:") || !strings.HasSuffix(first.Names[1], ":v1") {
		t.Errorf("image names %v, want the repo digest then the tag", first.Names)
	}
	if want := int64(criruntime.ImageSize(first.Names[1])); first.SizeBytes != want {
		t.Errorf("size %d, want the runtime's %d", first.SizeBytes, want)
	}

	hs := node.Status.RuntimeHandlers
	if len(hs) != 2 || hs[0].Name != "" || hs[1].Name != "runc" {
		t.Fatalf("runtime handlers %+v, want the default handler and runc", hs)
	}
	for _, rh := range hs {
		if rh.Features == nil || rh.Features.UserNamespaces == nil || rh.Features.RecursiveReadOnlyMounts == nil {
			t.Fatalf("handler %q has no features: %+v", rh.Name, rh.Features)
		}
	}
	if f := node.Status.Features; f == nil || f.SupplementalGroupsPolicy == nil || !*f.SupplementalGroupsPolicy {
		t.Errorf("status.features %+v, want supplementalGroupsPolicy true", f)
	}
}

func TestNodeImagesOrderAndNames(t *testing.T) {
	ims := []*runtimeapi.Image{
		{Id: "sha256:a", Size: 10, RepoTags: []string{"t1", "t2", "t3", "t4"}, RepoDigests: []string{"d1", "d2"}},
		{Id: "sha256:b", Size: 30, RepoTags: []string{"b:1"}},
		{Id: "sha256:c", Size: 10, RepoTags: []string{"c:1"}},
	}
	got := nodeImages(ims, -1)
	var order []string
	for _, im := range got {
		order = append(order, im.Names[0])
	}
	// Largest first; equal sizes by ID, higher first (ByImageSize).
	if want := []string{"b:1", "c:1", "d1"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if n := got[2].Names; !slices.Equal(n, []string{"d1", "d2", "t1", "t2", "t3"}) {
		t.Fatalf("names %v: want digests first, five at most", n)
	}
	if got := nodeImages(ims, 1); len(got) != 1 {
		t.Fatalf("nodeStatusMaxImages 1 gave %d", len(got))
	}
}

package runtime

import (
	"context"
	"regexp"
	"testing"

	"github.com/jonboulle/clockwork"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The kubelet reports a container's imageID from the CRI status' image
// reference, which containerd gives as the image's repo digest.
func TestContainerStatusImageRefIsTheRepoDigest(t *testing.T) {
	r := newRuntime(t, "n1", t.TempDir(), clockwork.NewFakeClock())
	ctx := context.Background()
	id, err := podIn(ctx, r, "web", "app", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		t.Fatal(err)
	}
	if ref := st.GetStatus().GetImageRef(); !regexp.MustCompile(`^docker\.io/library/busybox@sha256:[0-9a-f]{64}$`).MatchString(ref) {
		t.Errorf("imageRef %q, want docker.io/library/busybox@sha256:<64 hex>", ref)
	}
	if id := st.GetStatus().GetImageId(); !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("imageId %q, want the image's config digest", id)
	}
}

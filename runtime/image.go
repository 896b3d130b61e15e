package runtime

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// image is a pulled image. Immutable once stored.
type image struct {
	id     string // sha256:<hex>
	ref    string // normalized reference with tag
	digest string // <repo>@sha256:<hex>
	size   uint64
}

// NormalizeImage is an image reference as containerd stores it: a Docker
// Hub name gets "docker.io/" (and "library/" if it has no namespace), and a
// reference without tag or digest gets ":latest".
func NormalizeImage(ref string) string {
	name := ref
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		if !hasSlash {
			name = "library/" + name
		}
		name = "docker.io/" + name
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		name += ":latest"
	}
	return name
}

// ImageSize is the simulated size of an image, derived from its normalized
// reference: DefaultMinImageSize plus up to DefaultImageSizeSpread, in
// 4 KiB blocks.
func ImageSize(ref string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(NormalizeImage(ref)))
	return (DefaultMinImageSize + h.Sum64()%DefaultImageSizeSpread) &^ 4095
}

// PullDuration is the virtual time pulling an image of size bytes takes.
func PullDuration(size uint64) time.Duration {
	return DefaultPullBase + time.Duration(size*uint64(time.Second)/DefaultPullRate)
}

func newImage(ref string) *image {
	norm := NormalizeImage(ref)
	id := sha256.Sum256([]byte("config:" + norm))
	dg := sha256.Sum256([]byte("manifest:" + norm))
	repo := norm
	if i := strings.LastIndexAny(norm, ":@"); i > strings.LastIndex(norm, "/") {
		repo = norm[:i]
	}
	return &image{
		id:     "sha256:" + hex.EncodeToString(id[:]),
		ref:    norm,
		digest: repo + "@sha256:" + hex.EncodeToString(dg[:]),
		size:   ImageSize(ref),
	}
}

// findImageLocked finds an image by ID (with or without "sha256:", or a
// unique prefix of it), reference or digest.
func (r *Runtime) findImageLocked(ref string) *image {
	if im, ok := r.images[ref]; ok {
		return im
	}
	if im, ok := r.images["sha256:"+ref]; ok {
		return im
	}
	norm := NormalizeImage(ref)
	var prefixed []*image
	for _, im := range r.images {
		if im.ref == norm || im.digest == ref || im.digest == norm {
			return im
		}
		if len(ref) >= 6 && (strings.HasPrefix(im.id, ref) || strings.HasPrefix(im.id, "sha256:"+ref)) {
			prefixed = append(prefixed, im)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return nil
}

func (im *image) api() *runtimeapi.Image {
	return &runtimeapi.Image{
		Id:          im.id,
		RepoTags:    []string{im.ref},
		RepoDigests: []string{im.digest},
		Size:        im.size,
		Spec:        &runtimeapi.ImageSpec{Image: im.id},
	}
}

// PullImage pulls an image: PullDuration of its size in virtual time
// (waited only by an entity's process), nothing if present.
func (r *Runtime) PullImage(ctx context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" || filepath.IsAbs(ref) || strings.ContainsAny(ref, " \t\n") {
		return nil, status.Errorf(codes.InvalidArgument, "failed to pull image %q: invalid reference format", ref)
	}
	clk := r.clockOf(ctx)
	r.mu.Lock()
	im := r.findImageLocked(ref)
	r.mu.Unlock()
	if im != nil {
		return &runtimeapi.PullImageResponse{ImageRef: im.id}, nil
	}
	im = newImage(ref)
	clk.sleep(PullDuration(im.size)) // without the lock: others go on meanwhile
	r.mu.Lock()
	if prev, ok := r.images[im.id]; ok {
		im = prev // pulled concurrently
	} else {
		r.images[im.id] = im
	}
	r.mu.Unlock()
	return &runtimeapi.PullImageResponse{ImageRef: im.id}, nil
}

// ListImages lists images by reference.
func (r *Runtime) ListImages(_ context.Context, req *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	return &runtimeapi.ListImagesResponse{Images: r.listImages(req.GetFilter())}, nil
}

// StreamImages is ListImages as a stream.
func (r *Runtime) StreamImages(req *runtimeapi.StreamImagesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamImagesResponse]) error {
	return stream.Send(&runtimeapi.StreamImagesResponse{Images: r.listImages(req.GetFilter())})
}

func (r *Runtime) listImages(f *runtimeapi.ImageFilter) []*runtimeapi.Image {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ims []*image
	if want := f.GetImage().GetImage(); want != "" {
		if im := r.findImageLocked(want); im != nil {
			ims = append(ims, im)
		}
	} else {
		for _, im := range r.images {
			ims = append(ims, im)
		}
	}
	slices.SortFunc(ims, func(a, b *image) int { return cmp.Compare(a.ref, b.ref) })
	out := make([]*runtimeapi.Image, 0, len(ims))
	for _, im := range ims {
		out = append(out, im.api())
	}
	return out
}

// ImageStatus reports an image, or nothing if it is not present (as the CRI
// says: no error).
func (r *Runtime) ImageStatus(_ context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	im := r.findImageLocked(req.GetImage().GetImage())
	if im == nil {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	resp := &runtimeapi.ImageStatusResponse{Image: im.api()}
	if req.GetVerbose() {
		resp.Info = map[string]string{"info": `{"chainID":"` + im.id + `","size":` + itoa(int64(im.size)) + `}`}
	}
	return resp, nil
}

// RemoveImage removes an image; removing an absent one succeeds.
func (r *Runtime) RemoveImage(_ context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if im := r.findImageLocked(req.GetImage().GetImage()); im != nil {
		delete(r.images, im.id)
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}

// ImageFsInfo reports the image filesystem (the images' sizes) and the
// container filesystem (the writable layers).
func (r *Runtime) ImageFsInfo(ctx context.Context, _ *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	var used uint64
	for _, im := range r.images {
		used += im.size
	}
	layers := uint64(len(r.containers)) * writableLayerBytes
	return &runtimeapi.ImageFsInfoResponse{
		ImageFilesystems: []*runtimeapi.FilesystemUsage{{
			Timestamp:  now.UnixNano(),
			FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: filepath.Join(r.cfg.RootDir, "containerd", "io.containerd.snapshotter.v1.overlayfs")},
			UsedBytes:  &runtimeapi.UInt64Value{Value: used},
			InodesUsed: &runtimeapi.UInt64Value{Value: uint64(len(r.images)) * 1000},
		}},
		ContainerFilesystems: []*runtimeapi.FilesystemUsage{{
			Timestamp:  now.UnixNano(),
			FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: filepath.Join(r.cfg.RootDir, "containerd", "io.containerd.snapshotter.v1.overlayfs")},
			UsedBytes:  &runtimeapi.UInt64Value{Value: layers},
			InodesUsed: &runtimeapi.UInt64Value{Value: uint64(len(r.containers)) * 8},
		}},
	}, nil
}

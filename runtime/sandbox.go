package runtime

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sandbox is a pod sandbox. Its fields change only under Runtime.mu.
type sandbox struct {
	id        string
	config    *runtimeapi.PodSandboxConfig
	handler   string
	state     runtimeapi.PodSandboxState
	createdAt time.Time
	ip        string
}

// RunPodSandbox creates a ready sandbox with an IP from the pod CIDR.
func (r *Runtime) RunPodSandbox(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	cfg := req.GetConfig()
	md := cfg.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" {
		return nil, status.Error(codes.InvalidArgument, "sandbox config must include metadata with a name and a namespace")
	}
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sandboxes {
		m := s.config.GetMetadata()
		if m.GetName() == md.GetName() && m.GetNamespace() == md.GetNamespace() && m.GetUid() == md.GetUid() && m.GetAttempt() == md.GetAttempt() {
			return nil, status.Errorf(codes.AlreadyExists, "failed to reserve sandbox name %q: name is reserved for %q", sandboxName(md), s.id)
		}
	}
	s := &sandbox{
		id:        r.newIDLocked("sandbox", sandboxName(md)),
		config:    proto.Clone(cfg).(*runtimeapi.PodSandboxConfig),
		handler:   req.GetRuntimeHandler(),
		state:     runtimeapi.PodSandboxState_SANDBOX_READY,
		createdAt: now,
		ip:        r.allocateIPLocked(),
	}
	r.sandboxes[s.id] = s
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: s.id}, nil
}

// sandboxName is containerd's name for a sandbox.
func sandboxName(md *runtimeapi.PodSandboxMetadata) string {
	return md.GetName() + "_" + md.GetNamespace() + "_" + md.GetUid() + "_" + itoa(int64(md.GetAttempt()))
}

// allocateIPLocked hands out the pod CIDR's host addresses in turn from .2
// (.1 is the bridge), wrapping around; without a CIDR it gives none.
func (r *Runtime) allocateIPLocked() string {
	if !r.podPrefix.IsValid() {
		return ""
	}
	hosts := uint64(1)<<(32-r.podPrefix.Bits()) - 3 // minus network, bridge, broadcast
	n := 2 + r.ipSeq%hosts
	r.ipSeq++
	base := r.podPrefix.Addr().As4()
	v := binary.BigEndian.Uint32(base[:]) + uint32(n)
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], v)
	return netip.AddrFrom4(out).String()
}

// StopPodSandbox stops the sandbox's containers and marks it not ready.
func (r *Runtime) StopPodSandbox(ctx context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := lookupLocked(r.sandboxes, "sandbox", req.GetPodSandboxId())
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return &runtimeapi.StopPodSandboxResponse{}, nil // idempotent, as the CRI asks
		}
		return nil, err
	}
	for _, c := range r.containers {
		if c.sandbox == s {
			c.stopLocked(now, 0, "Completed")
		}
	}
	s.state = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

// RemovePodSandbox removes the sandbox and its containers, stopping them
// first.
func (r *Runtime) RemovePodSandbox(ctx context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := lookupLocked(r.sandboxes, "sandbox", req.GetPodSandboxId())
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return &runtimeapi.RemovePodSandboxResponse{}, nil
		}
		return nil, err
	}
	for id, c := range r.containers {
		if c.sandbox == s {
			c.stopLocked(now, 137, "Error")
			delete(r.containers, id)
		}
	}
	delete(r.sandboxes, s.id)
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}

// PodSandboxStatus reports a sandbox.
func (r *Runtime) PodSandboxStatus(_ context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := lookupLocked(r.sandboxes, "sandbox", req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	st := &runtimeapi.PodSandboxStatus{
		Id:             s.id,
		Metadata:       s.config.GetMetadata(),
		State:          s.state,
		CreatedAt:      s.createdAt.UnixNano(),
		Network:        &runtimeapi.PodSandboxNetworkStatus{Ip: s.ip},
		Labels:         copyMap(s.config.GetLabels()),
		Annotations:    copyMap(s.config.GetAnnotations()),
		RuntimeHandler: s.handler,
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{
			Options: s.config.GetLinux().GetSecurityContext().GetNamespaceOptions(),
		}},
	}
	resp := &runtimeapi.PodSandboxStatusResponse{Status: st}
	if req.GetVerbose() {
		info, _ := json.Marshal(map[string]any{
			"node":           r.cfg.Node,
			"runtimeHandler": s.handler,
			"config":         s.config,
		})
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

// ListPodSandbox lists sandboxes oldest first.
func (r *Runtime) ListPodSandbox(_ context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	return &runtimeapi.ListPodSandboxResponse{Items: r.listSandboxes(req.GetFilter())}, nil
}

// StreamPodSandboxes is ListPodSandbox as a stream.
func (r *Runtime) StreamPodSandboxes(req *runtimeapi.StreamPodSandboxesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamPodSandboxesResponse]) error {
	return stream.Send(&runtimeapi.StreamPodSandboxesResponse{PodSandboxes: r.listSandboxes(req.GetFilter())})
}

func (r *Runtime) listSandboxes(f *runtimeapi.PodSandboxFilter) []*runtimeapi.PodSandbox {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtimeapi.PodSandbox
	for _, s := range r.sandboxes {
		if f.GetId() != "" && s.id != f.GetId() {
			continue
		}
		if f.GetState() != nil && f.GetState().GetState() != s.state {
			continue
		}
		if !matchLabels(s.config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, &runtimeapi.PodSandbox{
			Id:             s.id,
			Metadata:       s.config.GetMetadata(),
			State:          s.state,
			CreatedAt:      s.createdAt.UnixNano(),
			Labels:         copyMap(s.config.GetLabels()),
			Annotations:    copyMap(s.config.GetAnnotations()),
			RuntimeHandler: s.handler,
		})
	}
	slices.SortFunc(out, func(a, b *runtimeapi.PodSandbox) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.Id, b.Id))
	})
	return out
}

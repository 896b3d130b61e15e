package runtime

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/internal/hostfile"
)

// ProcessState is the state of a container's simulated process: a counter
// that advances by one per virtual second of running. Running time is kept
// to the nanosecond so that a restore continues exactly.
type ProcessState struct {
	// Counter is whole seconds of running: RunningNanoseconds / 1e9.
	Counter int64 `json:"counter"`
	// RunningNanoseconds is how long the process has run, in total, across
	// checkpoints and restores.
	RunningNanoseconds int64 `json:"runningNanoseconds"`
}

func stateOf(ran time.Duration) ProcessState {
	return ProcessState{Counter: int64(ran / time.Second), RunningNanoseconds: int64(ran)}
}

// container is a container and its simulated process. Its fields change
// only under Runtime.mu.
type container struct {
	id        string
	name      string // containerd's name: <ctr>_<pod>_<ns>_<uid>_<attempt>
	sandbox   *sandbox
	config    *runtimeapi.ContainerConfig
	imageName string // as the user gave it (the archive's image on restore)
	imageRef  string // the image ID
	state     runtimeapi.ContainerState
	createdAt time.Time
	startedAt time.Time
	endedAt   time.Time
	exitCode  int32
	reason    string
	logPath   string

	memRequest, memLimit int64

	// ranBefore is the running time before runningSince (from a restored
	// archive), or in total once the process stopped.
	ranBefore    time.Duration
	runningSince time.Time
	// seen is the latest time the process was looked at: callers with
	// different clocks (an entity, crictl) never make it run backwards.
	seen time.Time
	// logged is the counter value the log is written up to.
	logged int64
	// restored is the archive the container was restored from.
	restored *Archive
}

// observeLocked moves the container's view of time to now, never back.
func (c *container) observeLocked(now time.Time) time.Time {
	if now.Before(c.seen) {
		return c.seen
	}
	c.seen = now
	return now
}

// ranLocked is the process's running time at now.
func (c *container) ranLocked(now time.Time) time.Duration {
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return c.ranBefore
	}
	return c.ranBefore + max(0, now.Sub(c.runningSince))
}

// workingSet is the memory working set after running ran: it grows
// linearly from the request to the ceiling (the limit, or twice the
// request without one) over DefaultMemoryRamp.
func (c *container) workingSet(ran time.Duration) int64 {
	ceiling := c.memLimit
	if ceiling <= 0 {
		ceiling = 2 * c.memRequest
	}
	if ceiling <= c.memRequest {
		return c.memRequest
	}
	ramp := uint64(DefaultMemoryRamp / time.Millisecond)
	done := min(uint64(max(0, ran)/time.Millisecond), ramp)
	hi, lo := bits.Mul64(uint64(ceiling-c.memRequest), done)
	grown, _ := bits.Div64(hi, lo, ramp) // hi < ramp: the quotient fits
	return c.memRequest + int64(grown)
}

// stopLocked ends the process at now, writing its log up to then.
func (c *container) stopLocked(now time.Time, exitCode int32, reason string) {
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		if c.state == runtimeapi.ContainerState_CONTAINER_CREATED {
			c.state = runtimeapi.ContainerState_CONTAINER_EXITED
			c.endedAt, c.exitCode, c.reason = now, exitCode, reason
		}
		return
	}
	now = c.observeLocked(now)
	ran := c.ranLocked(now)
	_ = c.refreshLogLocked(now)
	c.ranBefore = ran
	c.state = runtimeapi.ContainerState_CONTAINER_EXITED
	c.endedAt, c.exitCode, c.reason = now, exitCode, reason
	_ = c.appendLog(now, fmt.Sprintf("stop counter=%d", stateOf(ran).Counter))
}

// refreshLogLocked appends the "tick N" lines due by now: one each time
// the counter reaches a multiple of DefaultTickEvery, stamped with the
// virtual time it did.
func (c *container) refreshLogLocked(now time.Time) error {
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING || c.logPath == "" {
		return nil
	}
	counter := stateOf(c.ranLocked(now)).Counter
	var b []byte
	for n := (c.logged/DefaultTickEvery + 1) * DefaultTickEvery; n <= counter; n += DefaultTickEvery {
		at := c.runningSince.Add(time.Duration(n)*time.Second - c.ranBefore)
		b = appendLogLine(b, at, "tick "+strconv.FormatInt(n, 10))
	}
	if len(b) == 0 {
		return nil
	}
	c.logged = counter
	return c.writeLog(b)
}

func (c *container) appendLog(at time.Time, line string) error {
	if c.logPath == "" {
		return nil
	}
	return c.writeLog(appendLogLine(nil, at, line))
}

// appendLogLine formats a line as the CRI log format has it.
func appendLogLine(b []byte, at time.Time, line string) []byte {
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, " stdout F "...)
	b = append(b, line...)
	return append(b, '\n')
}

func (c *container) writeLog(b []byte) error {
	if err := os.MkdirAll(filepath.Dir(c.logPath), 0o755); err != nil {
		return fmt.Errorf("container %s: create log dir: %w", c.id, err)
	}
	// Non-blocking, and only a regular file: a FIFO put at the log's path
	// must not block the node (open for writing waits for a reader).
	f, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o640)
	if err != nil {
		return fmt.Errorf("container %s: open log: %w", c.id, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("container %s: open log: %s: %w", c.id, c.logPath, hostfile.ErrNotRegular)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("container %s: write log: %w", c.id, err)
	}
	return nil
}

// logPathFor is where a container's log goes: the sandbox's log directory
// joined with the container's log path, as the CRI says, kept inside the
// node's root dir: a directory outside it (such as /var/log/pods/...) is
// re-rooted under RootDir/logs, so a virtual node never writes outside its
// own folder.
func (r *Runtime) logPathFor(dir, file string) string {
	if file == "" {
		return ""
	}
	p := filepath.Join(dir, file)
	if filepath.IsAbs(p) {
		if rel, err := filepath.Rel(r.cfg.RootDir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return p
		}
	}
	return filepath.Join(r.cfg.RootDir, "logs", filepath.Clean(string(filepath.Separator)+p))
}

// containerName is containerd's name for a container.
func containerName(c *runtimeapi.ContainerMetadata, s *runtimeapi.PodSandboxMetadata) string {
	return c.GetName() + "_" + s.GetName() + "_" + s.GetNamespace() + "_" + s.GetUid() + "_" + itoa(int64(c.GetAttempt()))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// memoryOf reads the memory request (MemoryRequestAnnotation, default
// DefaultMemoryRequest) and limit (0: none) of a container config.
func memoryOf(cfg *runtimeapi.ContainerConfig) (request, limit int64) {
	request = DefaultMemoryRequest
	if v, ok := cfg.GetAnnotations()[MemoryRequestAnnotation]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			request = n
		}
	}
	return request, max(0, cfg.GetLinux().GetResources().GetMemoryLimitInBytes())
}

// CreateContainer creates a container in a ready sandbox. If the image is
// the absolute path of a checkpoint archive, the container is restored from
// it, as containerd and CRI-O do: once started its process continues from
// the archive's state, and its log starts with the archived log.
func (r *Runtime) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	cfg := req.GetConfig()
	if cfg.GetMetadata().GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "container config must include metadata with a name")
	}
	img := cfg.GetImage().GetImage()
	if img == "" {
		return nil, status.Error(codes.InvalidArgument, "container config must include an image")
	}
	var restored *Archive
	if filepath.IsAbs(img) {
		// Read the archive before taking the lock: it is file I/O on
		// another node's folder.
		var a *Archive
		err := r.host("read checkpoint archive "+img, func() error {
			got, err := ReadArchive(img)
			a = got // read only if host returns fn's own result
			return err
		})
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "failed to restore container %q from checkpoint archive: %v", cfg.GetMetadata().GetName(), err)
		}
		restored = a
	}
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := lookupLocked(r.sandboxes, "sandbox", req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	if s.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, status.Errorf(codes.FailedPrecondition, "sandbox container %q is not running", s.id)
	}
	name := containerName(cfg.GetMetadata(), s.config.GetMetadata())
	for _, c := range r.containers {
		if c.name == name {
			return nil, status.Errorf(codes.AlreadyExists, "failed to reserve container name %q: name is reserved for %q", name, c.id)
		}
	}
	c := &container{
		name:      name,
		sandbox:   s,
		config:    proto.Clone(cfg).(*runtimeapi.ContainerConfig),
		state:     runtimeapi.ContainerState_CONTAINER_CREATED,
		createdAt: now,
		seen:      now,
		logPath:   r.logPathFor(s.config.GetLogDirectory(), cfg.GetLogPath()),
	}
	c.memRequest, c.memLimit = memoryOf(cfg)
	if restored != nil {
		c.restored = restored
		c.imageName = restored.Image
		c.imageRef = restored.ImageRef
		c.ranBefore = time.Duration(restored.Process.RunningNanoseconds)
	} else {
		im := r.findImageLocked(img)
		if im == nil {
			return nil, status.Errorf(codes.NotFound, "failed to get image %q: image %q: not found", img, img)
		}
		c.imageName = img
		c.imageRef = im.id
	}
	c.id = r.newIDLocked("container", name)
	r.containers[c.id] = c
	return &runtimeapi.CreateContainerResponse{ContainerId: c.id}, nil
}

// StartContainer starts a created container's process: from zero, or from
// the archive's state for a restored one.
func (r *Runtime) StartContainer(ctx context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", req.GetContainerId())
	if err != nil {
		return nil, err
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_CREATED {
		return nil, status.Errorf(codes.FailedPrecondition, "container %q is in %s state", c.id, c.state)
	}
	if c.sandbox.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, status.Errorf(codes.FailedPrecondition, "sandbox container %q is not running", c.sandbox.id)
	}
	now = c.observeLocked(now)
	c.state = runtimeapi.ContainerState_CONTAINER_RUNNING
	c.startedAt, c.runningSince = now, now
	st := stateOf(c.ranBefore)
	c.logged = st.Counter
	line := fmt.Sprintf("start counter=%d", st.Counter)
	if a := c.restored; a != nil {
		if len(a.Log) > 0 {
			if err := c.writeLog(a.Log); err != nil {
				return nil, status.Errorf(codes.Internal, "restore log of container %q: %v", c.id, err)
			}
		}
		line = fmt.Sprintf("restore counter=%d from checkpoint of %s/%s/%s on node %s at %s",
			st.Counter, a.Namespace, a.Pod, a.Container, a.Node, a.CheckpointedAt.UTC().Format(time.RFC3339Nano))
	}
	if err := c.appendLog(now, line); err != nil {
		return nil, status.Errorf(codes.Internal, "start container %q: %v", c.id, err)
	}
	return &runtimeapi.StartContainerResponse{}, nil
}

// StopContainer stops a running container; its process exits 0 on
// SIGTERM at once, whatever the grace period.
func (r *Runtime) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", req.GetContainerId())
	if err != nil {
		return nil, err
	}
	c.stopLocked(now, 0, "Completed")
	return &runtimeapi.StopContainerResponse{}, nil
}

// RemoveContainer removes a container, killing it first if it runs.
func (r *Runtime) RemoveContainer(ctx context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", req.GetContainerId())
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return &runtimeapi.RemoveContainerResponse{}, nil
		}
		return nil, err
	}
	c.stopLocked(now, 137, "Error")
	delete(r.containers, c.id)
	return &runtimeapi.RemoveContainerResponse{}, nil
}

// ListContainers lists containers oldest first.
func (r *Runtime) ListContainers(_ context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	return &runtimeapi.ListContainersResponse{Containers: r.listContainers(req.GetFilter())}, nil
}

// StreamContainers is ListContainers as a stream.
func (r *Runtime) StreamContainers(req *runtimeapi.StreamContainersRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamContainersResponse]) error {
	return stream.Send(&runtimeapi.StreamContainersResponse{Containers: r.listContainers(req.GetFilter())})
}

func (r *Runtime) listContainers(f *runtimeapi.ContainerFilter) []*runtimeapi.Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtimeapi.Container
	for _, c := range r.sortedContainersLocked() {
		if f.GetId() != "" && !strings.HasPrefix(c.id, f.GetId()) {
			continue
		}
		if f.GetPodSandboxId() != "" && !strings.HasPrefix(c.sandbox.id, f.GetPodSandboxId()) {
			continue
		}
		if f.GetState() != nil && f.GetState().GetState() != c.state {
			continue
		}
		if !matchLabels(c.config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, &runtimeapi.Container{
			Id:           c.id,
			PodSandboxId: c.sandbox.id,
			Metadata:     c.config.GetMetadata(),
			Image:        &runtimeapi.ImageSpec{Image: c.imageName, UserSpecifiedImage: c.imageName},
			ImageRef:     c.imageRef,
			ImageId:      c.imageRef,
			State:        c.state,
			CreatedAt:    c.createdAt.UnixNano(),
			Labels:       copyMap(c.config.GetLabels()),
			Annotations:  copyMap(c.config.GetAnnotations()),
		})
	}
	return out
}

func (r *Runtime) sortedContainersLocked() []*container {
	out := make([]*container, 0, len(r.containers))
	for _, c := range r.containers {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *container) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	return out
}

// ContainerStatus reports a container, writing its log up to now first.
func (r *Runtime) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", req.GetContainerId())
	if err != nil {
		return nil, err
	}
	now = c.observeLocked(now)
	if err := c.refreshLogLocked(now); err != nil {
		return nil, status.Errorf(codes.Internal, "container status of %q: %v", c.id, err)
	}
	st := c.statusLocked()
	// As containerd: the image reference is the image's repo digest
	// (docker.io/library/nginx@sha256:...) while the image is present, its
	// ID otherwise; the image ID stays the config digest.
	if im, ok := r.images[c.imageRef]; ok && im.digest != "" {
		st.ImageRef = im.digest
	}
	resp := &runtimeapi.ContainerStatusResponse{Status: st}
	if req.GetVerbose() {
		ran := c.ranLocked(now)
		info := map[string]any{
			"sandboxID":    c.sandbox.id,
			"pid":          c.pid(),
			"runtimeType":  "io.containerd.runc.v2",
			"node":         r.cfg.Node,
			"process":      stateOf(ran),
			"memoryBytes":  c.workingSet(ran),
			"restoredFrom": "",
		}
		if c.restored != nil {
			info["restoredFrom"] = c.restored.Path
		}
		b, _ := json.Marshal(info)
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// statusLocked is the container's CRI status (a fresh object).
func (c *container) statusLocked() *runtimeapi.ContainerStatus {
	st := &runtimeapi.ContainerStatus{
		Id:          c.id,
		Metadata:    c.config.GetMetadata(),
		State:       c.state,
		CreatedAt:   c.createdAt.UnixNano(),
		Image:       &runtimeapi.ImageSpec{Image: c.imageName, UserSpecifiedImage: c.imageName},
		ImageRef:    c.imageRef,
		ImageId:     c.imageRef,
		Labels:      copyMap(c.config.GetLabels()),
		Annotations: copyMap(c.config.GetAnnotations()),
		Mounts:      c.config.GetMounts(),
		LogPath:     c.logPath,
		Reason:      c.reason,
		ExitCode:    c.exitCode,
	}
	if !c.startedAt.IsZero() {
		st.StartedAt = c.startedAt.UnixNano()
	}
	if !c.endedAt.IsZero() {
		st.FinishedAt = c.endedAt.UnixNano()
	}
	if res := c.config.GetLinux().GetResources(); res != nil {
		st.Resources = &runtimeapi.ContainerResources{Linux: res}
	}
	return st
}

// pid is the simulated process's PID, derived from the container ID.
func (c *container) pid() int {
	n, _ := strconv.ParseUint(c.id[:6], 16, 64)
	return 1000 + int(n%30000)
}

// ProcessState is the state of a container's simulated process now.
func (r *Runtime) ProcessState(ctx context.Context, containerID string) (ProcessState, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", containerID)
	if err != nil {
		return ProcessState{}, err
	}
	return stateOf(c.ranLocked(c.observeLocked(now))), nil
}

// ContainerLog returns a container's log file (CRI format), written up to
// now, for the kubelet's /containerLogs.
func (r *Runtime) ContainerLog(ctx context.Context, containerID string) ([]byte, error) {
	now := r.clockOf(ctx).now
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", containerID)
	if err != nil {
		return nil, err
	}
	return c.readLogLocked(c.observeLocked(now))
}

// maxContainerLogBytes is the largest container log read back: months of
// virtual time at a line every DefaultTickEvery.
const maxContainerLogBytes = 64 << 20

func (c *container) readLogLocked(now time.Time) ([]byte, error) {
	if c.logPath == "" {
		return nil, status.Errorf(codes.FailedPrecondition, "container %q has no log path", c.id)
	}
	if err := c.refreshLogLocked(now); err != nil {
		return nil, err
	}
	b, err := hostfile.ReadFile(c.logPath, maxContainerLogBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // not started yet
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: read log: %w", c.id, err)
	}
	return b, nil
}

// ReopenContainerLog has nothing to reopen: every write opens the file.
func (r *Runtime) ReopenContainerLog(context.Context, *runtimeapi.ReopenContainerLogRequest) (*runtimeapi.ReopenContainerLogResponse, error) {
	return &runtimeapi.ReopenContainerLogResponse{}, nil
}

package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/sim"
)

// CheckpointDuration is the virtual time checkpointing a container whose
// working set is memoryBytes takes: DefaultCheckpointBase plus
// memoryBytes / DefaultCheckpointRate.
func CheckpointDuration(memoryBytes int64) time.Duration {
	return DefaultCheckpointBase + time.Duration(uint64(max(0, memoryBytes))*uint64(time.Second)/DefaultCheckpointRate)
}

// CheckpointContainer writes a checkpoint archive of a running container
// at req.Location, which must be a file directly in RootDir/checkpoints
// (created 0700 if missing); the archive is created 0600, through a
// temporary file renamed into place, so a failure leaves nothing behind.
// The process state is taken when the call starts; writing takes
// CheckpointDuration of its working set in virtual time, and if the
// timeout (req.Timeout seconds, DefaultCheckpointTimeout if 0) is shorter,
// the call fails with DeadlineExceeded once the timeout has passed. The
// container keeps running.
func (r *Runtime) CheckpointContainer(ctx context.Context, req *runtimeapi.CheckpointContainerRequest) (*runtimeapi.CheckpointContainerResponse, error) {
	loc, err := r.checkLocation(req.GetLocation())
	if err != nil {
		return nil, err
	}
	if req.GetTimeout() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "checkpoint timeout %d must not be negative", req.GetTimeout())
	}
	timeout := DefaultCheckpointTimeout
	if req.GetTimeout() > 0 {
		timeout = time.Duration(req.GetTimeout()) * time.Second
	}
	clk := r.clockOf(ctx)

	content, err := r.snapshot(clk.now, req.GetContainerId())
	if err != nil {
		return nil, err
	}
	took := CheckpointDuration(content.process.MemoryBytes)
	content.took = took
	if took > timeout {
		clk.sleep(timeout)
		return nil, status.Errorf(codes.DeadlineExceeded, "checkpointing container %q timed out after %s: a working set of %d bytes takes %s",
			content.config.ID, timeout, content.process.MemoryBytes, took)
	}
	clk.sleep(took) // the mutex is free while the entity waits
	r.mu.Lock()
	fail := r.checkpointFail
	r.mu.Unlock()
	// The archive is written off the caller's path, bounded: if the disk
	// stalls past the bound the checkpoint fails, and an archive the
	// abandoned write still publishes later is removed, so that no
	// archive exists whose request was answered with an error.
	var gaveUp atomic.Bool
	err = r.host("write checkpoint archive "+loc, func() error {
		err := writeArchiveFile(loc, content, fail)
		if err == nil && gaveUp.Load() {
			_ = os.Remove(loc)
		}
		return err
	})
	if errors.Is(err, sim.ErrHostTimeout) {
		gaveUp.Store(true)
	}
	if err != nil {
		code := codes.Internal
		if errors.Is(err, errArchiveExists) {
			code = codes.AlreadyExists
		}
		return nil, status.Errorf(code, "checkpointing container %q failed: %v", content.config.ID, err)
	}
	return &runtimeapi.CheckpointContainerResponse{}, nil
}

// checkLocation accepts only a file name directly in RootDir/checkpoints,
// creating that directory 0700 if it is missing; a symlink there is
// refused.
func (r *Runtime) checkLocation(loc string) (string, error) {
	if loc == "" {
		return "", status.Error(codes.InvalidArgument, "checkpoint location is empty")
	}
	if !filepath.IsAbs(loc) {
		return "", status.Errorf(codes.InvalidArgument, "checkpoint location %q is not an absolute path", loc)
	}
	for _, part := range strings.Split(filepath.ToSlash(loc), "/") {
		if part == ".." {
			return "", status.Errorf(codes.PermissionDenied, "checkpoint location %q may not contain ..", loc)
		}
	}
	clean := filepath.Clean(loc)
	base := filepath.Base(clean)
	if filepath.Dir(clean) != r.checkpointsDir || strings.HasPrefix(base, ".") {
		return "", status.Errorf(codes.PermissionDenied, "checkpoint location %q is not a file in %s", loc, r.checkpointsDir)
	}
	fi, err := os.Lstat(r.checkpointsDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(r.cfg.RootDir, 0o755); err != nil {
			return "", status.Errorf(codes.Internal, "create root dir of node %s: %v", r.cfg.Node, err)
		}
		if err := os.Mkdir(r.checkpointsDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return "", status.Errorf(codes.Internal, "create checkpoint dir: %v", err)
		}
		if err := os.Chmod(r.checkpointsDir, 0o700); err != nil { // whatever the umask
			return "", status.Errorf(codes.Internal, "create checkpoint dir: %v", err)
		}
	case err != nil:
		return "", status.Errorf(codes.Internal, "checkpoint dir: %v", err)
	case !fi.IsDir():
		return "", status.Errorf(codes.FailedPrecondition, "checkpoint dir %s is not a directory", r.checkpointsDir)
	}
	return clean, nil
}

// snapshot takes a running container's state at now and everything its
// archive holds.
func (r *Runtime) snapshot(now time.Time, id string) (*archiveContent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := lookupLocked(r.containers, "container", id)
	if err != nil {
		return nil, err
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, status.Errorf(codes.FailedPrecondition, "container %q is not running", c.id)
	}
	now = c.observeLocked(now)
	log, err := c.readLogLocked(now)
	if err != nil && status.Code(err) != codes.FailedPrecondition { // no log path: an empty log
		return nil, status.Errorf(codes.Internal, "checkpointing container %q failed: %v", c.id, err)
	}
	ran := c.ranLocked(now)
	smd := c.sandbox.config.GetMetadata()
	return &archiveContent{
		config: configDump{
			ID:              c.id,
			Name:            c.name,
			RootfsImage:     c.imageName,
			RootfsImageRef:  c.imageRef,
			RootfsImageName: c.imageName,
			OCIRuntime:      "io.containerd.runc.v2",
			CreatedTime:     c.createdAt.UTC(),
			CheckpointedAt:  now.UTC(),
			PodName:         smd.GetName(),
			PodNamespace:    smd.GetNamespace(),
			PodUID:          smd.GetUid(),
			ContainerName:   c.config.GetMetadata().GetName(),
			Node:            r.cfg.Node,
		},
		spec:    c.specLocked(r.cfg.Node),
		status:  c.statusLocked(),
		process: processDump{ProcessState: stateOf(ran), MemoryBytes: c.workingSet(ran)},
		log:     log,
	}, nil
}

// specLocked is the container's OCI runtime spec, as much of it as the
// simulation knows.
func (c *container) specLocked(node string) map[string]any {
	smd := c.sandbox.config.GetMetadata()
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, kv := range c.config.GetEnvs() {
		env = append(env, kv.GetKey()+"="+string(kv.GetValue()))
	}
	args := append(append([]string{}, c.config.GetCommand()...), c.config.GetArgs()...)
	cwd := c.config.GetWorkingDir()
	if cwd == "" {
		cwd = "/"
	}
	return map[string]any{
		"ociVersion": "1.2.1",
		"process": map[string]any{
			"terminal": c.config.GetTty(),
			"user":     map[string]any{"uid": 0, "gid": 0},
			"args":     args,
			"env":      env,
			"cwd":      cwd,
		},
		"root":     map[string]any{"path": "rootfs"},
		"hostname": smd.GetName(),
		"annotations": map[string]string{
			"io.kubernetes.cri.container-type":    "container",
			"io.kubernetes.cri.container-name":    c.config.GetMetadata().GetName(),
			"io.kubernetes.cri.image-name":        c.imageName,
			"io.kubernetes.cri.sandbox-id":        c.sandbox.id,
			"io.kubernetes.cri.sandbox-name":      smd.GetName(),
			"io.kubernetes.cri.sandbox-namespace": smd.GetNamespace(),
			"io.kubernetes.cri.sandbox-uid":       smd.GetUid(),
			"nodesim.dev/node":                    node,
		},
		"linux": map[string]any{
			"resources":   map[string]any{"memory": map[string]any{"limit": c.memLimit}},
			"cgroupsPath": "kubepods-pod" + strings.ReplaceAll(smd.GetUid(), "-", "_") + ".slice:cri-containerd:" + c.id,
		},
	}
}

// writeArchiveFile writes the archive to a temporary file next to loc and
// renames it into place.
func writeArchiveFile(loc string, content *archiveContent, fail error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(loc), ".checkpoint-*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary archive: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("set archive mode: %w", err)
	}
	if err := writeArchive(tmp, content, fail); err != nil {
		return fmt.Errorf("write archive %s: %w", loc, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write archive %s: %w", loc, err)
	}
	// Publish with a hard link, not a rename: a link fails if loc exists,
	// where a rename would silently replace an archive already reported
	// to whoever asked for it. The kubelet names archives with RFC 3339
	// seconds (checkpoint-<pod>_<ns>-<ctr>-<time>.tar, the name the
	// checkpoint API documents), so a second checkpoint of a container in
	// the same second gets the same name; nodesim keeps that name as
	// upstream makes it and fails the later request instead (a 500 from
	// the kubelet API, CheckpointFailed in the trace), so that each
	// reported archive is the one its request wrote.
	if err := os.Link(tmp.Name(), loc); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("publish archive %s: %w", loc, errArchiveExists)
		}
		return fmt.Errorf("publish archive %s: %w", loc, err)
	}
	if err := os.Remove(tmp.Name()); err != nil {
		_ = os.Remove(loc)
		return fmt.Errorf("publish archive %s: %w", loc, err)
	}
	return nil
}

// errArchiveExists fails a checkpoint whose archive name is taken.
var errArchiveExists = errors.New("an archive of that name already exists (one checkpoint of a container per second)")

package node

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/node/kernel"
	criruntime "github.com/nodesim/nodesim/runtime"
	"github.com/nodesim/nodesim/sim"
)

// Event reasons the kubelet records that this file produces.
const (
	reasonCreateContainerConfigError = "CreateContainerConfigError"
	reasonCreateContainerError       = "CreateContainerError"
	reasonErrImagePull               = "ErrImagePull"
)

// startPod is the kubelet's SyncPod for a new pod, through the container
// runtime: sandbox, then for each container the image, create and start,
// as kuberuntime does; then the pod's status. Every runtime call takes the
// virtual time the runtime says (image pulls by size).
func (k *Kubelet) startPod(p *sim.Proc, rec *podRecord) {
	pod := rec.pod
	ctx := k.ctx()
	// The runtime handler's features, as the runtime's status reports them
	// (a RuntimeClass names its handler; nodesim has none, so the default).
	features := k.runtimeState.handlerFeatures("")
	if pod.Spec.HostUsers != nil && !*pod.Spec.HostUsers && !features.GetUserNamespaces() {
		// The kubelet cannot make the sandbox; the pod stays Pending.
		handler := ptr.Deref(pod.Spec.RuntimeClassName, "")
		k.event(pod, corev1.EventTypeWarning, kernel.ReasonFailedCreatePodSandBox,
			kernel.FailedCreatePodSandBoxMessage(kernel.UserNamespacesUnsupported(handler)))
		return
	}
	sandbox, err := k.cri.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: k.sandboxConfig(pod)})
	if err != nil {
		k.event(pod, corev1.EventTypeWarning, kernel.ReasonFailedCreatePodSandBox, kernel.FailedCreatePodSandBoxMessage(err.Error()))
		return
	}
	rec.sandboxID = sandbox.GetPodSandboxId()
	rec.containers = map[string]string{}
	podIP := ""
	if st, err := k.cri.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: rec.sandboxID}); err == nil {
		podIP = st.GetStatus().GetNetwork().GetIp()
	}
	if k.set.memoryBackedVolumesOnDisk && hasMemoryBackedVolume(pod) {
		k.event(pod, corev1.EventTypeWarning, kernel.ReasonPossibleMemoryBackedVolumesOnDisk, kernel.MessagePossibleMemoryBackedVolumesOnDisk)
	}

	waiting := map[string]*corev1.ContainerStateWaiting{}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if rec.stopping {
			return
		}
		id, w := k.startContainer(p, rec, c)
		if w != nil {
			waiting[c.Name] = w
			continue
		}
		rec.containers[c.Name] = id
	}
	if rec.stopping {
		return
	}
	k.postPodStatus(rec, podIP, waiting)
}

// startContainer makes and starts one container, or says why it waits.
func (k *Kubelet) startContainer(p *sim.Proc, rec *podRecord, c *corev1.Container) (string, *corev1.ContainerStateWaiting) {
	pod, ctx := rec.pod, k.ctx()
	fail := func(reason, msg string) (string, *corev1.ContainerStateWaiting) {
		k.event(pod, corev1.EventTypeWarning, "Failed", kernel.FailedContainerMessage(msg))
		return "", &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	}
	if !k.runtimeState.handlerFeatures("").GetRecursiveReadOnlyMounts() {
		for _, m := range c.VolumeMounts {
			if m.RecursiveReadOnly != nil && *m.RecursiveReadOnly == corev1.RecursiveReadOnlyEnabled {
				return fail(reasonCreateContainerConfigError, kernel.RecursiveReadOnlyUnsupported(m.Name))
			}
		}
	}
	image := c.Image
	restoring := isCheckpointArchive(image)
	if !restoring {
		st, err := k.cri.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: image}})
		if err != nil || st.GetImage() == nil || c.ImagePullPolicy == corev1.PullAlways {
			if _, err := k.cri.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}}); err != nil {
				return fail(reasonErrImagePull, err.Error())
			}
		}
	}
	config, err := k.containerConfig(rec, c)
	if err != nil {
		return fail(reasonCreateContainerConfigError, err.Error())
	}
	created, err := k.cri.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: rec.sandboxID, Config: config, SandboxConfig: k.sandboxConfig(pod),
	})
	if err != nil {
		if restoring {
			// A restore that cannot happen says so in the trace, not
			// only in the pod's status.
			k.en.Trace(sim.Record{Event: sim.EventContainerRestoreFailed, Pod: pod.Namespace + "/" + pod.Name, Node: k.cfg.Name,
				Path: k.tracePath(image), Error: k.checkpointError(err)})
		}
		return fail(reasonCreateContainerError, err.Error())
	}
	if _, err := k.cri.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: created.GetContainerId()}); err != nil {
		return fail("RunContainerError", err.Error())
	}
	if restoring {
		k.en.Trace(sim.Record{Event: sim.EventContainerRestored, Pod: pod.Namespace + "/" + pod.Name, Node: k.cfg.Name, Path: k.tracePath(image)})
	}
	return created.GetContainerId(), nil
}

// isCheckpointArchive says whether an image names a checkpoint archive:
// a container restored from it continues where it was checkpointed (as
// CRI-O and containerd restore a container whose image is a checkpoint).
func isCheckpointArchive(image string) bool {
	return filepath.IsAbs(image) && strings.HasSuffix(image, ".tar")
}

// tracePath is an archive's path as the trace shows it (TracePath).
func (k *Kubelet) tracePath(path string) string {
	if k.cfg.RootDir == "" {
		return filepath.Base(path)
	}
	return TracePath(filepath.Dir(k.cfg.RootDir), path)
}

// TracePath is a path under the state directory that holds every node's
// root dir as the trace shows it: relative to the state directory, so that
// traces do not depend on where a run writes (its base name if it is
// elsewhere).
func TracePath(stateDir, path string) string {
	if rel, err := filepath.Rel(stateDir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(path)
}

func (k *Kubelet) sandboxConfig(pod *corev1.Pod) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID)},
		Hostname:     pod.Name,
		LogDirectory: filepath.Join("/var/log/pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		Labels: map[string]string{
			"io.kubernetes.pod.name": pod.Name, "io.kubernetes.pod.namespace": pod.Namespace, "io.kubernetes.pod.uid": string(pod.UID),
		},
	}
}

// containerConfig is the CRI container configuration of c: its image,
// command, environment (with the devices' allocation), memory request and
// limit.
func (k *Kubelet) containerConfig(rec *podRecord, c *corev1.Container) (*runtimeapi.ContainerConfig, error) {
	pod := rec.pod
	config := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: c.Name},
		Image:    &runtimeapi.ImageSpec{Image: c.Image},
		Command:  c.Command,
		Args:     c.Args,
		LogPath:  filepath.Join(c.Name, "0.log"),
		Labels: map[string]string{
			"io.kubernetes.container.name": c.Name, "io.kubernetes.pod.name": pod.Name,
			"io.kubernetes.pod.namespace": pod.Namespace, "io.kubernetes.pod.uid": string(pod.UID),
		},
		Annotations: map[string]string{},
		Linux:       &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{}},
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			config.Envs = append(config.Envs, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
		}
	}
	if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
		config.Annotations[criruntime.MemoryRequestAnnotation] = strconv.FormatInt(q.Value(), 10)
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		config.Linux.Resources.MemoryLimitInBytes = q.Value()
	}
	if k.cfg.Devices != nil {
		opts, err := k.cfg.Devices.ContainerOptions(k.ctx(), string(pod.UID), c.Name)
		if err != nil {
			return nil, fmt.Errorf("device plugin: %w", err)
		}
		if opts != nil {
			for _, key := range slices.Sorted(maps.Keys(opts.Envs)) {
				config.Envs = append(config.Envs, &runtimeapi.KeyValue{Key: key, Value: []byte(opts.Envs[key])})
			}
			for _, d := range opts.Devices {
				config.Devices = append(config.Devices, &runtimeapi.Device{ContainerPath: d.ContainerPath, HostPath: d.HostPath, Permissions: d.Permissions})
			}
			for _, m := range opts.Mounts {
				config.Mounts = append(config.Mounts, &runtimeapi.Mount{ContainerPath: m.ContainerPath, HostPath: m.HostPath, Readonly: m.ReadOnly})
			}
			for key, v := range opts.Annotations {
				config.Annotations[key] = v
			}
		}
	}
	return config, nil
}

// postPodStatus reports the pod as the runtime has it: Running with every
// container's ID and start time, or Pending with the containers that wait.
func (k *Kubelet) postPodStatus(rec *podRecord, podIP string, waiting map[string]*corev1.ContainerStateWaiting) {
	pod := rec.pod
	now := metav1.NewTime(k.en.Now())
	status := *pod.Status.DeepCopy()
	status.HostIP = k.cfg.InternalIP.String()
	status.HostIPs = []corev1.HostIP{{IP: status.HostIP}}
	if podIP != "" {
		status.PodIP = podIP
		status.PodIPs = []corev1.PodIP{{IP: podIP}}
	}
	status.StartTime = &now
	ready := len(waiting) == 0
	status.Phase = corev1.PodPending
	if ready {
		status.Phase = corev1.PodRunning
	}
	containersReady := corev1.ConditionFalse
	reason := "ContainersNotReady"
	if ready {
		containersReady, reason = corev1.ConditionTrue, ""
	}
	setPodCondition(&status, corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: now})
	setPodCondition(&status, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now})
	for _, typ := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		setPodCondition(&status, corev1.PodCondition{Type: typ, Status: containersReady, Reason: reason, LastTransitionTime: now})
	}
	setPodCondition(&status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now})
	status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr.To(false)}
		if w, ok := waiting[c.Name]; ok {
			cs.State.Waiting = w
			status.ContainerStatuses = append(status.ContainerStatuses, cs)
			continue
		}
		id := rec.containers[c.Name]
		cs.ContainerID = k.runtimeName() + "://" + id
		cs.Ready, cs.Started = true, ptr.To(true)
		started := now
		if st, err := k.cri.ContainerStatus(k.ctx(), &runtimeapi.ContainerStatusRequest{ContainerId: id}); err == nil {
			started = metav1.NewTime(time.Unix(0, st.GetStatus().GetStartedAt()).UTC())
			cs.ImageID = st.GetStatus().GetImageRef()
		}
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: started}
		status.ContainerStatuses = append(status.ContainerStatuses, cs)
	}
	if err := k.patchPodStatus(pod, status); err != nil {
		return
	}
	if ready {
		k.en.Trace(sim.Record{Event: sim.EventPodRunning, Pod: pod.Namespace + "/" + pod.Name, Node: k.cfg.Name})
	}
}

// runtimeName is the runtime's name as container IDs carry it
// (containerd://..., cri-o://...).
func (k *Kubelet) runtimeName() string {
	name, _, ok := strings.Cut(k.cfg.ContainerRuntimeVersion, "://")
	if !ok || name == "" {
		return "containerd"
	}
	return name
}

// killPod stops a pod's containers and sandbox and removes them, as the
// kubelet's KillPod and the runtime's garbage collection do.
func (k *Kubelet) killPod(rec *podRecord, graceSeconds int64) {
	ctx := k.ctx()
	for _, name := range slices.Sorted(maps.Keys(rec.containers)) {
		id := rec.containers[name]
		_, _ = k.cri.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: graceSeconds})
		_, _ = k.cri.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id})
	}
	if rec.sandboxID != "" {
		_, _ = k.cri.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: rec.sandboxID})
		_, _ = k.cri.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: rec.sandboxID})
	}
	rec.containers, rec.sandboxID = nil, ""
}

func hasMemoryBackedVolume(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory {
			return true
		}
	}
	return false
}

package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
	"github.com/nodesim/nodesim/sim/controlplane"
)

// RestoredFromAnnotation is set on a pod made by a restore step: the
// archive (relative to the state dir) its container was restored from.
const RestoredFromAnnotation = "nodesim.dev/restored-from"

// checkpointed is an archive a checkpoint step made, and the pod it was
// taken from, which a restore step brings back.
type checkpointed struct {
	path string
	pod  *corev1.Pod
}

// checkpoint asks the kubelet of the node the pod runs on to checkpoint a
// container, as `kubectl create --raw .../proxy/checkpoint/...` would; the
// kubelet traces CheckpointCreated or CheckpointFailed when it is done.
func (f *faults) checkpoint(now time.Time, st scenarios.Step) {
	namespace, name, _ := strings.Cut(st.Pod, "/")
	pod, err := f.w.informer.Core().V1().Pods().Lister().Pods(namespace).Get(name)
	if err != nil || pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
		f.w.engine.Trace(sim.Record{Event: sim.EventFaultStarted, Type: st.Do, Pod: st.Pod})
		f.w.engine.Trace(sim.Record{Event: sim.EventCheckpointFailed, Pod: st.Pod, Error: "pod does not exist"})
		return
	}
	nodeName := pod.Spec.NodeName
	if !f.w.owns(nodeName) {
		return // the pod's node is another shard's: that shard checkpoints it
	}
	f.w.engine.Trace(sim.Record{Event: sim.EventFaultStarted, Type: st.Do, Pod: st.Pod, Node: nodeName})
	k, ok := f.w.observer.kubelets[nodeName]
	if !ok || k.Entity() == nil || !k.Running() {
		f.w.engine.Trace(sim.Record{Event: sim.EventCheckpointFailed, Pod: st.Pod, Node: nodeName, Error: "kubelet is not running"})
		return
	}
	key := st.Pod + "/" + st.Container
	snapshot := pod.DeepCopy()
	k.Entity().Go(now, "checkpoint", func(*sim.Proc) {
		path, err := k.CheckpointContainer(namespace, name, st.Container, st.Timeout)
		if err != nil {
			// The kubelet traces a checkpoint the runtime failed; one it
			// refused (its pod or container not started there yet) is
			// traced here, so that no step fails unrecorded.
			if errors.Is(err, node.ErrPodNotFound) || errors.As(err, new(*node.ContainerNotFoundError)) {
				k.Entity().Trace(sim.Record{Event: sim.EventCheckpointFailed, Pod: st.Pod, Node: nodeName, Error: err.Error()})
			}
			return
		}
		f.checkpoints[key] = checkpointed{path: path, pod: snapshot}
	})
}

// restore makes a pod on the step's node whose container is restored from
// the latest archive of the step's pod and container: the way CRI-O and
// containerd restore, a container whose image is the checkpoint. The pod
// is the checkpointed one, named <pod>-restored, bound to the node, and
// out of its workload (the workload keeps its own replicas).
func (f *faults) restore(now time.Time, st scenarios.Step) {
	key := st.Pod + "/" + st.Container
	f.w.engine.Trace(sim.Record{Event: sim.EventFaultStarted, Type: st.Do, Pod: st.Pod, Node: st.Node})
	c, ok := f.checkpoints[key]
	if !ok {
		f.w.engine.Trace(sim.Record{Event: sim.EventFaultEnded, Type: st.Do, Pod: st.Pod, Node: st.Node,
			Error: fmt.Sprintf("no checkpoint of container %s of %s was made", st.Container, st.Pod)})
		return
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   c.pod.Namespace,
			Name:        c.pod.Name + "-restored",
			Labels:      map[string]string{},
			Annotations: map[string]string{RestoredFromAnnotation: node.TracePath(f.w.fleet.stateDir, c.path)},
		},
		Spec: *c.pod.Spec.DeepCopy(),
	}
	for k, v := range c.pod.Labels {
		if k != controlplane.WorkloadLabel {
			pod.Labels[k] = v
		}
	}
	pod.Spec.NodeName = st.Node
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == st.Container {
			pod.Spec.Containers[i].Image = c.path
		}
	}
	created, err := f.w.client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		f.w.engine.Trace(sim.Record{Event: sim.EventFaultEnded, Type: st.Do, Pod: st.Pod, Node: st.Node, Error: node.TraceError(err)})
		return
	}
	f.w.observer.controllerWrote("pods", created)
}

// checkDeviceHealth refuses a deviceHealth step whose nodes have no such
// device plugin, or fewer devices than it leaves healthy.
func (f *faults) checkDeviceHealth(st scenarios.Step) error {
	for _, pool := range f.w.sc.NodePools {
		if st.Nodes.Pool != "" && st.Nodes.Pool != pool.Name {
			continue
		}
		for _, dp := range pool.DevicePlugins {
			if dp.ResourceName != st.ResourceName {
				continue
			}
			if st.Healthy > dp.Count {
				return &InputError{fmt.Errorf("%s:%d: spec.timeline[%d].healthy: %d is more than the %d %s devices of pool %s",
					f.w.sc.File, st.Line, st.Index, st.Healthy, dp.Count, st.ResourceName, pool.Name)}
			}
			return nil
		}
	}
	return &InputError{fmt.Errorf("%s:%d: spec.timeline[%d].resourceName: no pool of the chosen nodes has a device plugin for %s",
		f.w.sc.File, st.Line, st.Index, st.ResourceName)}
}

// setDeviceHealth leaves st.Healthy of a node's devices of st.ResourceName
// healthy (all of them again when the step ends), through the plugin's
// ListAndWatch stream; the kubelet's next status shows the new
// allocatable.
func (f *faults) setDeviceHealth(now time.Time, name string, st scenarios.Step, on bool) {
	m, ok := f.w.fleet.members[name]
	if !ok {
		return
	}
	plugin, ok := m.plugins[st.ResourceName]
	if !ok {
		return
	}
	healthy := len(plugin.DeviceIDs())
	if on {
		healthy = st.Healthy
	}
	ctx := sim.WithEntity(context.Background(), m.kubelet.Entity())
	if err := plugin.SetHealthy(ctx, healthy); err != nil {
		f.w.fail(fmt.Errorf("node %s: deviceHealth: %w", name, err))
	}
}

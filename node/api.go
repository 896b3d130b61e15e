package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/sim"
)

var _ KubeletAPI = (*Kubelet)(nil)

// errNotRunning answers requests to a kubelet that is stopped.
var errNotRunning = errors.New("kubelet is not running")

// call runs fn on the kubelet's timeline for a request from outside the
// simulation, and waits for it.
func (k *Kubelet) call(ctx context.Context, name string, fn func(p *sim.Proc)) error {
	if k.en == nil {
		return errNotRunning
	}
	return k.en.Call(ctx, name, fn)
}

// Pods are the pods the kubelet admitted, by namespace and name.
func (k *Kubelet) Pods(ctx context.Context) []*corev1.Pod {
	var pods []*corev1.Pod
	_ = k.call(ctx, "api-pods", func(*sim.Proc) {
		for _, rec := range k.pods {
			pods = append(pods, rec.pod.DeepCopy())
		}
	})
	slices.SortFunc(pods, func(a, b *corev1.Pod) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return pods
}

// KubeletConfig is the kubelet's configuration, as /configz shows it.
func (k *Kubelet) KubeletConfig(context.Context) any {
	kc := k.cfg.KubeletConfig.DeepCopy()
	kc.APIVersion, kc.Kind = "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"
	return kc
}

// CheckpointEnabled is the ContainerCheckpoint feature gate.
func (k *Kubelet) CheckpointEnabled() bool { return k.set.containerCheckpoint }

// SyncLoopHealthy is nil while the kubelet runs.
func (k *Kubelet) SyncLoopHealthy(context.Context) error {
	if !k.running {
		return errNotRunning
	}
	return nil
}

// Checkpoint checkpoints a container on the kubelet's timeline (a request
// to its API), waiting the virtual time it takes.
func (k *Kubelet) Checkpoint(ctx context.Context, namespace, pod, container string, timeout time.Duration) (string, error) {
	var path string
	var cerr error
	if err := k.call(ctx, "api-checkpoint", func(p *sim.Proc) {
		path, cerr = k.CheckpointContainer(namespace, pod, container, timeout)
	}); err != nil {
		return "", err
	}
	return path, cerr
}

// CheckpointContainer is the kubelet's CheckpointContainer: the archive
// goes to <root-dir>/checkpoints/checkpoint-<pod>_<namespace>-<container>-<RFC3339 time>.tar
// and the container keeps running. It must run in one of the kubelet's
// processes; the result is traced.
func (k *Kubelet) CheckpointContainer(namespace, podName, container string, timeout time.Duration) (string, error) {
	rec := k.podByName(namespace, podName)
	if rec == nil {
		return "", ErrPodNotFound
	}
	id, ok := rec.containers[container]
	if !ok {
		return "", &ContainerNotFoundError{Container: container}
	}
	location := filepath.Join(k.cfg.RootDir, "checkpoints", fmt.Sprintf("checkpoint-%s_%s-%s-%s.tar",
		podName, namespace, container, k.en.Now().UTC().Format(time.RFC3339)))
	_, err := k.cri.CheckpointContainer(k.ctx(), &runtimeapi.CheckpointContainerRequest{
		ContainerId: id, Location: location, Timeout: int64(timeout / time.Second),
	})
	key := namespace + "/" + podName
	if err != nil {
		k.en.Trace(sim.Record{Event: sim.EventCheckpointFailed, Pod: key, Node: k.cfg.Name, Error: k.checkpointError(err)})
		return "", err
	}
	k.en.Trace(sim.Record{Event: sim.EventCheckpointCreated, Pod: key, Node: k.cfg.Name, Path: k.tracePath(location)})
	return location, nil
}

// checkpointError is a failed checkpoint's error in the trace: the
// runtime's message with paths under the state directory made relative to
// it, as the trace's paths are, so it is the same wherever a run writes.
func (k *Kubelet) checkpointError(err error) string {
	msg := err.Error()
	if k.cfg.RootDir == "" {
		return msg
	}
	return strings.ReplaceAll(msg, filepath.Dir(k.cfg.RootDir)+string(filepath.Separator), "")
}

func (k *Kubelet) podByName(namespace, name string) *podRecord {
	for _, rec := range k.pods {
		if rec.pod.Namespace == namespace && rec.pod.Name == name && !rec.stopping {
			return rec
		}
	}
	return nil
}

// ContainerLogs writes a container's log as the kubelet serves it: the
// CRI log's content lines, with timestamps if asked, the last tailLines,
// cut at limitBytes.
func (k *Kubelet) ContainerLogs(ctx context.Context, namespace, pod, container string, opts *corev1.PodLogOptions, w io.Writer) error {
	var raw []byte
	var lerr error
	var now time.Time
	if err := k.call(ctx, "api-logs", func(p *sim.Proc) {
		now = p.Now()
		rec := k.podByName(namespace, pod)
		if rec == nil {
			lerr = ErrPodNotFound
			return
		}
		id, ok := rec.containers[container]
		if !ok {
			lerr = &ContainerNotFoundError{Container: container}
			return
		}
		if opts != nil && opts.Previous {
			lerr = fmt.Errorf("previous terminated container %q in pod %q not found", container, pod)
			return
		}
		raw, lerr = k.cri.ContainerLog(k.ctx(), id)
	}); err != nil {
		return err
	}
	if lerr != nil {
		return lerr
	}
	return writeLogs(raw, opts, now, w)
}

// writeLogs turns CRI log lines ("<RFC3339Nano> <stream> <tag> <content>")
// into what the kubelet sends.
func writeLogs(raw []byte, opts *corev1.PodLogOptions, now time.Time, w io.Writer) error {
	if opts == nil {
		opts = &corev1.PodLogOptions{}
	}
	var since time.Time
	switch {
	case opts.SinceTime != nil:
		since = opts.SinceTime.Time
	case opts.SinceSeconds != nil:
		since = now.Add(-time.Duration(*opts.SinceSeconds) * time.Second)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		ts, rest, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		_, rest, _ = strings.Cut(rest, " ") // stream
		_, content, _ := strings.Cut(rest, " ")
		if !since.IsZero() {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil && t.Before(since) {
				continue
			}
		}
		if opts.Timestamps {
			content = ts + " " + content
		}
		lines = append(lines, content+"\n")
	}
	if opts.TailLines != nil && int64(len(lines)) > *opts.TailLines {
		lines = lines[int64(len(lines))-*opts.TailLines:]
	}
	out := []byte(strings.Join(lines, ""))
	if opts.LimitBytes != nil && int64(len(out)) > *opts.LimitBytes {
		out = out[:*opts.LimitBytes]
	}
	_, err := w.Write(out)
	return err
}

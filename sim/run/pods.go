package run

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/nodesim/nodesim/node"
	"github.com/nodesim/nodesim/sim"
)

// podDispatcher is the fleet's one watch of pods (every pod bound to a
// node), not one per node: it hands each pod to its node's kubelet, on the
// kubelet's timeline, at the next dispatch barrier.
type podDispatcher struct {
	kubelets map[string]*node.Kubelet
	mu       sync.Mutex
	pending  []podEvent
}

type podEvent struct {
	pod     *corev1.Pod
	deleted bool
}

// startPodDispatcher watches pods and dispatches them every period.
func startPodDispatcher(ctx context.Context, config *restclient.Config, e *sim.Engine, f *fleet, period time.Duration) (*podDispatcher, error) {
	d := &podDispatcher{kubelets: make(map[string]*node.Kubelet, len(f.kubelets))}
	for _, k := range f.kubelets {
		d.kubelets[k.Name()] = k
	}
	cfg := restclient.CopyConfig(config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = "nodesim-pod-dispatcher"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "spec.nodeName!="
	}))
	_, err = factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { d.enqueue(obj, false) },
		UpdateFunc: func(_, obj any) { d.enqueue(obj, false) },
		DeleteFunc: func(obj any) { d.enqueue(obj, true) },
	})
	if err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	e.Every(e.Now(), period, d.dispatch)
	return d, nil
}

func (d *podDispatcher) enqueue(obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	d.mu.Lock()
	d.pending = append(d.pending, podEvent{pod: pod, deleted: deleted})
	d.mu.Unlock()
}

// dispatch hands the pods seen since the last barrier to their kubelets,
// in the order the watch delivered them.
func (d *podDispatcher) dispatch(now time.Time) {
	d.mu.Lock()
	events := d.pending
	d.pending = nil
	d.mu.Unlock()
	for _, ev := range events {
		k, ok := d.kubelets[ev.pod.Spec.NodeName]
		if !ok || k.Entity() == nil {
			continue
		}
		pod, deleted := ev.pod, ev.deleted
		k.Entity().At(now, func() {
			if deleted {
				k.HandlePodDeleted(pod)
			} else {
				k.HandlePod(pod)
			}
		})
	}
}

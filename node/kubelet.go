package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/nodesim/nodesim/sim"
)

// Clients are the API clients of one kubelet (its heartbeat client).
type Clients struct {
	Core         corev1client.CoreV1Interface
	Coordination coordinationv1client.CoordinationV1Interface
}

// Observer hears of every object the kubelet writes: its Node, so that
// condition and taint changes can be traced whoever made them, and every
// write or delete, so that watchers can be waited on.
type Observer interface {
	NodeWritten(en *sim.Entity, node *corev1.Node)
	Wrote(en *sim.Entity, resource string, obj metav1.Object)
	Gone(en *sim.Entity, resource, namespace, name string)
}

// Kubelet is one virtual kubelet.
type Kubelet struct {
	cfg      Config
	set      settings
	clients  Clients
	cri      CRI
	observer Observer
	en       *sim.Entity
	procs    []*sim.Proc
	timers   []*sim.Timer

	// machine identity, drawn once per node from its random stream
	machineID, systemUUID, bootID string

	// node is the kubelet's view of its Node object (its node lister).
	node                 *corev1.Node
	registered           bool
	lastStatusReportTime time.Time
	// delayAfterNodeStatusChange is the random offset added to the report
	// period after a change, so that nodes do not post in step.
	delayAfterNodeStatusChange time.Duration
	runtimeState               runtimeState
	pressure                   Pressure
	// pressureSeen is when each signal was last seen on.
	pressureSeen struct{ memory, disk, pid time.Time }
	running      bool
	// statusBusy is the status mutex: the fast update skips a tick while
	// the status loop is posting.
	statusBusy bool

	latestLease *coordinationv1.Lease

	// pods are the pods admitted to the node, by UID.
	pods   map[types.UID]*podRecord
	podIPs int

	// eventLogs are the events written this boot, by the recorder's key
	// (events.go); lastEventNano keeps event names unique.
	eventLogs     map[string]*eventLog
	lastEventNano int64
	// rebootRecorded: the Rebooted event of this boot was recorded.
	rebootRecorded bool
	// images is the image manager's cached image list (status.images),
	// listed from the runtime at imagesListed.
	images       []corev1.ContainerImage
	imagesListed time.Time
	// podCIDRs is the pod CIDR last passed on to the runtime.
	podCIDRs string
}

// New builds a kubelet for the node cfg describes.
func New(cfg Config, clients Clients, cri CRI, observer Observer) (*Kubelet, error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	if clients.Core == nil || clients.Coordination == nil {
		return nil, fmt.Errorf("node %s: API clients are required", cfg.Name)
	}
	if cri == nil {
		return nil, fmt.Errorf("node %s: a container runtime is required", cfg.Name)
	}
	set, err := newSettings(&cfg)
	if err != nil {
		return nil, err
	}
	return &Kubelet{cfg: cfg, set: set, clients: clients, cri: cri, observer: observer, pods: map[types.UID]*podRecord{}}, nil
}

// Name is the node's name.
func (k *Kubelet) Name() string { return k.cfg.Name }

// Entity is the entity the kubelet runs on (nil before Start).
func (k *Kubelet) Entity() *sim.Entity { return k.en }

// Node is the kubelet's view of its Node object (nil before registration).
func (k *Kubelet) Node() *corev1.Node { return k.node }

// PodCIDR is the node's pod address range, which the node IPAM controller
// assigns it (spec.podCIDR).
func (k *Kubelet) PodCIDR() *net.IPNet { return k.cfg.PodCIDR }

// SetNode updates the kubelet's view of its Node object after someone else
// wrote it, as its node informer would.
func (k *Kubelet) SetNode(node *corev1.Node) { k.setNode(node) }

// setNode keeps node as the kubelet's view of its Node, all but its managed
// fields: the kubelet never sends them (a status patch is the difference
// between this view and the next status), and they were a quarter of the
// views' memory and marshalled twice for every status patch.
func (k *Kubelet) setNode(node *corev1.Node) {
	if node != nil && node.ManagedFields != nil {
		trimmed := *node
		trimmed.ManagedFields = nil
		node = &trimmed
	}
	k.node = node
}

// Start starts the kubelet on en at en's current time: the status loop
// (which registers the node first), the fast first-Ready update, the lease
// loop and the runtime poll, as kubelet.Run does.
func (k *Kubelet) Start(en *sim.Entity) {
	k.en = en
	now := en.Now()
	rnd := en.Rand()
	if k.machineID == "" {
		k.machineID = fmt.Sprintf("%016x%016x", rnd.Uint64(), rnd.Uint64())
		k.systemUUID = newUUID(rnd)
	}
	k.bootID = newUUID(rnd) // every start is a boot of the kubelet's view
	k.running = true
	k.registered = false // a restarted kubelet goes through registration again
	k.runtimeState = runtimeState{}
	k.lastStatusReportTime = time.Time{}
	k.delayAfterNodeStatusChange = 0
	k.latestLease = nil
	k.eventLogs = nil // a new process: a new event recorder
	k.rebootRecorded = false
	k.images, k.imagesListed = nil, time.Time{}
	k.podCIDRs = ""

	k.procs = append(k.procs[:0],
		en.Go(now, "node-status", k.statusLoop),
		en.Go(now, "fast-status", k.fastStatusUpdateOnce),
		en.Go(now, "node-lease", k.leaseLoop),
	)
	k.timers = k.timers[:0]
	k.scheduleRuntimeUp(now.Add(runtimeUpPeriod))
}

// Stop stops every loop of the kubelet, as killing the process would.
func (k *Kubelet) Stop() {
	for _, p := range k.procs {
		p.Stop()
	}
	for _, t := range k.timers {
		t.Stop()
	}
	k.procs, k.timers = nil, nil
	k.running = false
}

// Running says whether the kubelet is started.
func (k *Kubelet) Running() bool { return k.running }

func (k *Kubelet) scheduleRuntimeUp(at time.Time) {
	k.timers = append(k.timers[:0], k.en.At(at, func() {
		k.updateRuntimeUp(k.en.Now())
		k.scheduleRuntimeUp(k.en.Now().Add(runtimeUpPeriod))
	}))
}

// ctx is the context of the kubelet's requests: it carries the entity, so
// the API transport knows whose request it is and at what virtual time.
func (k *Kubelet) ctx() context.Context {
	return sim.WithEntity(context.Background(), k.en)
}

// jitter returns d lengthened by up to factor of itself, as wait.Jitter.
func (k *Kubelet) jitter(d time.Duration, factor float64) time.Duration {
	return d + time.Duration(k.en.Rand().Float64()*factor*float64(d))
}

func (k *Kubelet) wrote(resource string, obj metav1.Object) {
	if k.observer != nil {
		k.observer.Wrote(k.en, resource, obj)
	}
}

// TraceError is what a failed request says in the trace: the API's own
// message, which names no address or port, so traces stay reproducible.
func TraceError(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	var fault interface{ Fault() string }
	if errors.As(err, &fault) {
		return fault.Fault()
	}
	return "request failed"
}

func newUUID(rnd interface{ Uint64() uint64 }) string {
	a, b := rnd.Uint64(), rnd.Uint64()
	b = b&^(0xc000<<48) | (0x8000 << 48) // RFC 4122 variant
	a = a&^(0xf000) | 0x4000             // version 4
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

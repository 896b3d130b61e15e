package run

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim"
)

// heartbeatTimeout is the kubelet's heartbeat client timeout: the smaller
// of nodeStatusUpdateFrequency and the lease duration, 10 s by default. A
// partitioned kubelet's requests hang that long, then fail.
const heartbeatTimeout = 10 * time.Second

// InputError is a scenario the run cannot carry out as written.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// faults holds the timeline's state, changed only at barriers and read by
// the transport and the kubelets' runtimes during windows.
type faults struct {
	w *world
	// checkpoints are the archives the timeline's checkpoint steps made,
	// by "namespace/pod/container", with the pod as it was then.
	checkpoints map[string]checkpointed
	partitioned map[string]bool
	runtimeDown map[string]bool
	networkDown map[string]bool
	outage      bool
	latency     time.Duration
}

func newFaults(w *world) *faults {
	return &faults{w: w, checkpoints: map[string]checkpointed{}, partitioned: map[string]bool{}, runtimeDown: map[string]bool{}, networkDown: map[string]bool{}}
}

// faultError is a request failure nodesim made up; its text is the same on
// every run, so traces stay reproducible.
type faultError struct{ msg string }

func (e *faultError) Error() string { return e.msg }
func (e *faultError) Fault() string { return e.msg }

var (
	errRefused = &faultError{"dial tcp: connect: connection refused"}
	errTimeout = &faultError{"net/http: request canceled (Client.Timeout exceeded while awaiting headers)"}
)

// roundTrip applies the faults to one request: an API server outage
// refuses everything; a partitioned kubelet's request hangs until its
// client times out; latency delays a kubelet's requests in virtual time.
func (f *faults) roundTrip(req *http.Request) error {
	if f.outage {
		return errRefused
	}
	en, ok := sim.EntityFrom(req.Context())
	if !ok || !en.InProcess() {
		return nil
	}
	if f.partitioned[en.Name()] {
		en.Sleep(heartbeatTimeout)
		return errTimeout
	}
	if f.latency > 0 {
		en.Sleep(f.latency)
	}
	return nil
}

// syncRuntime sets what a node's container runtime reports from the
// faults on it and its network plugin's start: RuntimeReady false while
// the runtime is down, NetworkReady false before the plugin is up or while
// the network is down.
func (f *faults) syncRuntime(name string, now time.Time) {
	m, ok := f.w.fleet.members[name]
	if !ok {
		return
	}
	m.runtime.SetRuntimeReady(!f.runtimeDown[name])
	m.runtime.SetNetworkReady(!f.networkDown[name] && !now.Before(m.cniReady))
}

// schedule puts every timeline step on the engine: O(n log n) in the
// steps (a fleet cursor and the engine's barrier heap), and it stops when
// ctx is done, so that a long timeline does not hold up an interrupt.
func (f *faults) schedule(ctx context.Context) error {
	start := f.w.engine.Start()
	fleet := f.w.sc.Cursor()
	for i, st := range f.w.sc.Timeline {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if st.Do == "deviceHealth" {
			if err := f.checkDeviceHealth(st); err != nil {
				return err
			}
		}
		st, salt := st, fmt.Sprintf("timeline/%d", st.Index)
		var targets []string
		if nodeScoped[st.Do] {
			// Every shard chooses among the whole fleet, as one process
			// would, and applies the step to its own nodes.
			targets = slices.DeleteFunc(fleet.SelectNodesAt(st.Nodes, st.At, f.w.engine.Seed(), salt),
				func(name string) bool { return !f.w.owns(name) })
		}
		f.w.engine.At(start.Add(st.At), func(now time.Time) { f.apply(now, st, targets, true) })
		if st.For > 0 && reversible[st.Do] {
			f.w.engine.At(start.Add(st.At+st.For), func(now time.Time) { f.apply(now, st, targets, false) })
		}
	}
	return nil
}

// nodeScoped actions take a node selector; reversible ones end after `for`.
var (
	nodeScoped = map[string]bool{"partition": true, "stopKubelet": true, "startKubelet": true, "restartKubelet": true,
		"runtimeDown": true, "networkDown": true, "memoryPressure": true, "diskPressure": true, "pidPressure": true,
		"cordon": true, "uncordon": true, "deviceHealth": true}
	reversible = map[string]bool{"partition": true, "stopKubelet": true, "runtimeDown": true, "networkDown": true,
		"memoryPressure": true, "diskPressure": true, "pidPressure": true, "apiServerOutage": true,
		"apiServerLatency": true, "cordon": true, "deviceHealth": true}
)

// apply starts (on) or ends a step.
func (f *faults) apply(now time.Time, st scenarios.Step, targets []string, on bool) {
	event := sim.EventFaultStarted
	if !on {
		event = sim.EventFaultEnded
	}
	switch st.Do {
	case "apiServerOutage":
		f.outage = on
		f.w.engine.Trace(sim.Record{Event: event, Type: st.Do})
		// The controller-manager could not renew its leader lease: it
		// stopped, and comes back with no memory of the nodes' heartbeats.
		if !on && f.w.control != nil && st.For >= leaderElectionRenewDeadline {
			f.w.control.restart()
		}
		return
	case "apiServerLatency":
		f.latency = 0
		if on {
			f.latency = st.Latency
		}
		f.w.engine.Trace(sim.Record{Event: event, Type: st.Do})
		return
	case "addNodes":
		f.w.fleet.add(f.w, st.Pool, st.Count)
		return
	case "deleteNodes":
		f.w.fleet.remove(f.w, st.Pool, st.Count)
		return
	case "checkpoint":
		f.checkpoint(now, st)
		return
	case "restore":
		if f.w.owns(st.Node) { // the shard of the node it restores to
			f.restore(now, st)
		}
		return
	}
	for _, name := range targets {
		f.w.engine.Trace(sim.Record{Event: event, Type: st.Do, Node: name})
		k, ok := f.w.observer.kubelets[name]
		if !ok {
			continue
		}
		switch st.Do {
		case "partition":
			f.partitioned[name] = on
		case "runtimeDown":
			f.runtimeDown[name] = on
			f.syncRuntime(name, now)
		case "networkDown":
			f.networkDown[name] = on
			f.syncRuntime(name, now)
		case "memoryPressure", "diskPressure", "pidPressure":
			p := k.Pressure()
			switch st.Do {
			case "memoryPressure":
				p.Memory = on
			case "diskPressure":
				p.Disk = on
			default:
				p.PID = on
			}
			k.SetPressure(now, p)
		case "stopKubelet":
			if on {
				f.w.fleet.stopKubelet(name)
			} else {
				f.w.fleet.startKubelet(name)
			}
		case "startKubelet":
			if !k.Running() {
				f.w.fleet.startKubelet(name)
			}
		case "restartKubelet":
			f.w.fleet.stopKubelet(name)
			f.w.fleet.startKubelet(name)
		case "cordon", "uncordon":
			f.w.setUnschedulable(name, st.Do == "cordon" == on)
		case "deviceHealth":
			f.setDeviceHealth(now, name, st, on)
		}
	}
}

// setUnschedulable cordons or uncordons a node as kubectl does.
func (w *world) setUnschedulable(name string, unschedulable bool) {
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, unschedulable)
	n, err := w.client.CoreV1().Nodes().Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return
	}
	w.observer.controllerWrote("nodes", n)
}

// deleteNode deletes a node and its lease, as an administrator (and the
// garbage collector, for the lease the node owns) would.
func (w *world) deleteNode(name string) {
	ctx := context.Background()
	if err := w.client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err == nil {
		w.tracker.deleted("nodes", "", name)
	}
	if err := w.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{}); err == nil {
		w.tracker.deleted("leases", corev1.NamespaceNodeLease, name)
	}
}

package run

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// ShardLease is how a shard's Lease is held: kubelet-style, renewed every
// quarter of its duration.
type ShardLease struct {
	// Namespace holds the Lease (default kube-node-lease, with the
	// nodes' own); it must exist.
	Namespace string
	// Identity is the holder's identity (required): the pod name, or host
	// name and process id.
	Identity string
	// Duration is leaseDurationSeconds (default DefaultShardLeaseDuration,
	// the kubelet's node Lease duration).
	Duration time.Duration
}

// DefaultShardLeaseDuration is a shard Lease's default duration, as a
// kubelet's node Lease.
const DefaultShardLeaseDuration = 40 * time.Second

// ErrShardLeaseLost ends a shard that could not renew its Lease in time:
// another process may hold the shard by now, so its nodes stopped.
var ErrShardLeaseLost = errors.New("lost the shard's Lease")

// ShardLeaseLabel is on every shard Lease: the shard, I-of-N.
const ShardLeaseLabel = "nodesim.dev/shard"

// serveShard waits until this process holds the shard's Lease (client-go's
// leader election on a coordination.k8s.io Lease), then runs the shard's
// nodes until ctx is done or the Lease is lost. A standby starts its nodes
// on the kubelet's restart path: they exist already, and each kubelet finds
// its Node registered and carries on from it. On an interrupt the nodes
// stop first, then the Lease is released, so a standby takes over at once
// and no node ever runs in two processes.
func serveShard(ctx context.Context, sc *scenarios.Scenario, backend apiserver.Backend, o ServeOptions, rm *runMetrics) error {
	l := o.Lease
	if l.Identity == "" {
		return &InputError{errors.New("shard Lease: no holder identity")}
	}
	if l.Namespace == "" {
		l.Namespace = corev1.NamespaceNodeLease
	}
	if l.Duration == 0 {
		l.Duration = DefaultShardLeaseDuration
	}
	// Kubelet-style: renewed every quarter of the duration; given up
	// after three quarters without a renewal, before another may take it.
	renew := l.Duration / 4
	deadline := l.Duration * 3 / 4
	cfg := restclient.CopyConfig(backend.RESTConfig())
	cfg.Timeout = max(time.Second, deadline/2) // one hung request must not lose the Lease
	cfg.UserAgent = "nodesim-shard"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	name := o.Shard.LeaseName()
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: l.Namespace, Name: name},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: l.Identity},
		Labels:     map[string]string{ShardLeaseLabel: fmt.Sprintf("%d-of-%d", o.Shard.Index, o.Shard.Count)},
	}

	// The election runs on a context of its own, ended only once the
	// nodes have stopped (or never started), so that the Lease is
	// released after them.
	electing, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElecting()
	var (
		mu      sync.Mutex
		leading bool
		served  = make(chan error, 1)
	)
	stopWaiting := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !leading {
			stopElecting() // a standby interrupted: nothing to stop first
		}
	})
	defer stopWaiting()
	fmt.Fprintf(o.Log, "nodesim: shard %s: waiting for Lease %s/%s as %s\n", o.Shard, l.Namespace, name, l.Identity)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            name,
		LeaseDuration:   l.Duration,
		RenewDeadline:   deadline,
		RetryPeriod:     renew,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaseHeld context.Context) {
				mu.Lock()
				if ctx.Err() != nil {
					mu.Unlock()
					stopElecting()
					served <- nil
					return
				}
				leading = true
				mu.Unlock()
				fmt.Fprintf(o.Log, "nodesim: shard %s: holding Lease %s/%s; starting its nodes\n", o.Shard, l.Namespace, name)
				// The nodes run while the Lease is held and until
				// interrupted.
				running, stop := context.WithCancel(leaseHeld)
				defer stop()
				defer context.AfterFunc(ctx, stop)()
				// Against a real cluster virtual time is the wall clock:
				// a standby's starts when it takes over.
				shardOpts := o
				shardOpts.Start = time.Now()
				served <- serveNodes(running, sc, backend, shardOpts, rm)
				stopElecting() // release the Lease now that the nodes stopped
			},
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return &InputError{fmt.Errorf("shard Lease: %w", err)}
	}
	elector.Run(electing)
	mu.Lock()
	started := leading
	mu.Unlock()
	if !started && ctx.Err() != nil {
		return nil // interrupted while standing by
	}
	// The election ends otherwise only once it was won: the nodes ran,
	// or are about to find the Lease already lost.
	err = <-served
	if err == nil && ctx.Err() == nil {
		fmt.Fprintf(o.Log, "nodesim: shard %s: lost Lease %s/%s; its nodes stopped\n", o.Shard, l.Namespace, name)
		return fmt.Errorf("shard %s: %w %s/%s", o.Shard, ErrShardLeaseLost, l.Namespace, name)
	}
	return err
}

package node

import (
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/sim"
)

// renewInterval is a quarter of the lease duration (10 s for 40 s).
func (k *Kubelet) renewInterval() time.Duration {
	return time.Duration(float64(time.Duration(k.set.leaseDurationSeconds)*time.Second) * nodeLeaseRenewIntervalFraction)
}

// leaseLoop renews the node's Lease every renew interval, jittered 4 %,
// starting at once.
func (k *Kubelet) leaseLoop(p *sim.Proc) {
	for {
		k.leaseSync(p)
		p.Sleep(k.jitter(k.renewInterval(), heartbeatJitter))
	}
}

// leaseSync updates the lease from the cached copy; if that fails it gets
// or creates the lease (with backoff) and updates that.
func (k *Kubelet) leaseSync(p *sim.Proc) {
	if k.latestLease != nil {
		if err := k.retryUpdateLease(p, k.latestLease); err == nil {
			return
		}
	}
	lease, created := k.backoffEnsureLease(p)
	k.latestLease = lease
	if !created && lease != nil {
		_ = k.retryUpdateLease(p, lease) // the kubelet logs and waits for the next interval
	}
}

// backoffEnsureLease gets or creates the lease, retrying after 200 ms,
// doubling up to 7 s.
func (k *Kubelet) backoffEnsureLease(p *sim.Proc) (*coordinationv1.Lease, bool) {
	sleep := 100 * time.Millisecond
	for {
		lease, created, err := k.ensureLease(p)
		if err == nil {
			return lease, created
		}
		sleep = min(2*sleep, leaseMaxBackoff)
		p.Sleep(sleep)
	}
}

// ensureLease returns the lease, creating it if it does not exist. A lease
// that cannot get its owner reference yet (the Node is not registered) is
// not created this time.
func (k *Kubelet) ensureLease(p *sim.Proc) (*coordinationv1.Lease, bool, error) {
	leases := k.clients.Coordination.Leases(corev1.NamespaceNodeLease)
	lease, err := leases.Get(k.ctx(), k.cfg.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		toCreate, err := k.newLease(p, nil)
		if err != nil {
			return nil, false, nil
		}
		created, err := leases.Create(k.ctx(), toCreate, metav1.CreateOptions{})
		if err != nil {
			k.en.Trace(sim.Record{Event: sim.EventLeaseRenewFailed, Node: k.cfg.Name, Error: TraceError(err)})
			return nil, false, err
		}
		k.traceRenewed()
		k.wrote("leases", created)
		return created, true, nil
	case err != nil:
		return nil, false, err
	}
	return lease, false, nil
}

// retryUpdateLease updates the lease up to five times at once; a conflict
// refreshes the base first.
func (k *Kubelet) retryUpdateLease(p *sim.Proc, base *coordinationv1.Lease) error {
	leases := k.clients.Coordination.Leases(corev1.NamespaceNodeLease)
	for range maxUpdateRetries {
		toUpdate, err := k.newLease(p, base)
		if err != nil {
			continue
		}
		lease, err := leases.Update(k.ctx(), toUpdate, metav1.UpdateOptions{})
		if err == nil {
			k.latestLease = lease
			k.traceRenewed()
			k.wrote("leases", lease)
			return nil
		}
		k.en.Trace(sim.Record{Event: sim.EventLeaseRenewFailed, Node: k.cfg.Name, Error: TraceError(err)})
		if apierrors.IsConflict(err) {
			base, _ = k.backoffEnsureLease(p)
		}
	}
	return fmt.Errorf("failed %d attempts to update lease", maxUpdateRetries)
}

func (k *Kubelet) traceRenewed() {
	if k.cfg.TraceAllHeartbeats {
		k.en.Trace(sim.Record{Event: sim.EventLeaseRenewed, Node: k.cfg.Name})
	}
}

// newLease is base (or a new lease) with the holder, duration and a fresh
// renew time, owned by the Node once the Node exists.
func (k *Kubelet) newLease(p *sim.Proc, base *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	var lease *coordinationv1.Lease
	if base == nil {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: k.cfg.Name, Namespace: corev1.NamespaceNodeLease},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(k.cfg.Name)},
		}
	} else {
		lease = base.DeepCopy()
	}
	lease.Spec.LeaseDurationSeconds = ptr.To(k.set.leaseDurationSeconds)
	lease.Spec.RenewTime = &metav1.MicroTime{Time: p.Now()}
	if len(lease.OwnerReferences) == 0 {
		node, err := k.clients.Core.Nodes().Get(k.ctx(), k.cfg.Name, metav1.GetOptions{})
		if err != nil {
			return lease, err
		}
		if node == nil {
			return lease, errors.New("nil node")
		}
		lease.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: corev1.SchemeGroupVersion.Version, Kind: "Node", Name: k.cfg.Name, UID: node.UID,
		}}
	}
	return lease, nil
}

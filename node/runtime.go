package node

import (
	"errors"
	"fmt"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// RuntimeCondition is one condition of the container runtime's status (the
// CRI's RuntimeReady and NetworkReady).
type RuntimeCondition struct {
	Type    string
	Status  bool
	Reason  string
	Message string
}

// String is how the kubelet prints a runtime condition in node messages.
func (c RuntimeCondition) String() string {
	return fmt.Sprintf("%s=%t reason:%s message:%s", c.Type, c.Status, c.Reason, c.Message)
}

// RuntimeStatus is the container runtime's answer to a status call.
type RuntimeStatus struct {
	RuntimeReady RuntimeCondition
	NetworkReady RuntimeCondition
}

// Runtime is what the kubelet asks its container runtime about its health.
type Runtime interface {
	Status(now time.Time) (RuntimeStatus, error)
}

// StartupRuntime is a container runtime that is up from the start and whose
// pod network (CNI) becomes ready a while after the kubelet starts, as on a
// node whose network plugin runs as a DaemonSet.
type StartupRuntime struct {
	// Started is when the node started.
	Started time.Time
	// NetworkReadyAfter is how long the network plugin takes.
	NetworkReadyAfter time.Duration
}

// Status reports the runtime ready and the network ready once its time came.
func (r *StartupRuntime) Status(now time.Time) (RuntimeStatus, error) {
	s := RuntimeStatus{
		RuntimeReady: RuntimeCondition{Type: "RuntimeReady", Status: true},
		NetworkReady: RuntimeCondition{Type: "NetworkReady", Status: true},
	}
	if now.Before(r.Started.Add(r.NetworkReadyAfter)) {
		s.NetworkReady = RuntimeCondition{Type: "NetworkReady", Status: false,
			Reason: "NetworkPluginNotReady", Message: "Network plugin returns error: cni plugin not initialized"}
	}
	return s, nil
}

// runtimeState is what the kubelet last learned of its runtime.
type runtimeState struct {
	lastBaseRuntimeSync time.Time
	networkError        error
	runtimeError        error
}

// updateRuntimeUp polls the runtime's status, as the kubelet does at start,
// every 5 s and on each fast status check.
func (k *Kubelet) updateRuntimeUp(now time.Time) {
	s, err := k.runtime.Status(now)
	if err != nil {
		return // the sanity check failed: the last good sync ages
	}
	if !s.NetworkReady.Status {
		k.runtimeState.networkError = fmt.Errorf("container runtime network not ready: %v", s.NetworkReady)
	} else {
		k.runtimeState.networkError = nil
	}
	if !s.RuntimeReady.Status {
		k.runtimeState.runtimeError = fmt.Errorf("container runtime not ready: %v", s.RuntimeReady)
		return
	}
	k.runtimeState.runtimeError = nil
	k.runtimeState.lastBaseRuntimeSync = now
}

// runtimeErrors is what keeps the node from being Ready on the runtime's
// side.
func (s *runtimeState) runtimeErrors(now time.Time) error {
	var errs []error
	if s.lastBaseRuntimeSync.IsZero() {
		errs = append(errs, errors.New("container runtime status check may not have completed yet"))
	} else if !s.lastBaseRuntimeSync.Add(maxWaitForContainerRuntime).After(now) {
		errs = append(errs, errors.New("container runtime is down"))
	}
	if s.runtimeError != nil {
		errs = append(errs, s.runtimeError)
	}
	return utilerrors.NewAggregate(errs)
}

func (s *runtimeState) networkErrors() error {
	if s.networkError == nil {
		return nil
	}
	return utilerrors.NewAggregate([]error{s.networkError})
}

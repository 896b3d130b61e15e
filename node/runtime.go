package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

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

// CRI is the container runtime the kubelet drives: the CRI v1 runtime and
// image services (called in process, with the kubelet's entity in the
// context so that they take virtual time), and the container logs the
// kubelet reads from the runtime's log files.
type CRI interface {
	runtimeapi.RuntimeServiceServer
	runtimeapi.ImageServiceServer
	ContainerLog(ctx context.Context, containerID string) ([]byte, error)
}

// runtimeState is what the kubelet last learned of its runtime.
type runtimeState struct {
	lastBaseRuntimeSync time.Time
	networkError        error
	runtimeError        error
	// handlers are the runtime handlers and what each supports (user
	// namespaces, recursive read-only mounts), from the last status.
	handlers []*runtimeapi.RuntimeHandler
	// features are the runtime's features, from the last status (nil
	// before one).
	features *runtimeapi.RuntimeFeatures
}

// handlerFeatures is what the runtime handler of that name supports, as
// its last status said ("" is the default handler).
func (s *runtimeState) handlerFeatures(name string) *runtimeapi.RuntimeHandlerFeatures {
	for _, h := range s.handlers {
		if h.GetName() == name {
			return h.GetFeatures()
		}
	}
	return nil
}

// updateRuntimeUp polls the runtime's status, as the kubelet does at start,
// every 5 s and on each fast status check.
func (k *Kubelet) updateRuntimeUp(now time.Time) {
	resp, err := k.cri.Status(k.ctx(), &runtimeapi.StatusRequest{})
	if err != nil || resp.GetStatus() == nil {
		return // the sanity check failed: the last good sync ages
	}
	k.runtimeState.handlers = resp.GetRuntimeHandlers()
	k.runtimeState.features = resp.GetFeatures()
	var runtimeReady, networkReady *RuntimeCondition
	for _, c := range resp.GetStatus().GetConditions() {
		cond := &RuntimeCondition{Type: c.GetType(), Status: c.GetStatus(), Reason: c.GetReason(), Message: c.GetMessage()}
		switch c.GetType() {
		case runtimeapi.RuntimeReady:
			runtimeReady = cond
		case runtimeapi.NetworkReady:
			networkReady = cond
		}
	}
	if runtimeReady == nil {
		runtimeReady = &RuntimeCondition{Type: runtimeapi.RuntimeReady}
	}
	if networkReady == nil {
		networkReady = &RuntimeCondition{Type: runtimeapi.NetworkReady}
	}
	if !networkReady.Status {
		k.runtimeState.networkError = fmt.Errorf("container runtime network not ready: %v", *networkReady)
	} else {
		k.runtimeState.networkError = nil
	}
	if !runtimeReady.Status {
		k.runtimeState.runtimeError = fmt.Errorf("container runtime not ready: %v", *runtimeReady)
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

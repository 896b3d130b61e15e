// Package devices is a virtual node's device manager and the fake device
// plugins a scenario declares, speaking the kubelet's device plugin API
// (k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1) over real gRPC on unix
// sockets, as pkg/kubelet/cm/devicemanager does.
//
// A Manager serves the Registration service on DIR/kubelet.sock, dials each
// plugin that registers, consumes its ListAndWatch stream and keeps the
// devices of each resource with their health. The kubelet asks it for the
// node's capacity and allocatable (Resources), admits pods (Admit, which
// allocates as the kubelet's admission does), gets the Allocate response to
// put into a container's config (ContainerOptions) and frees a pod's devices
// (Release).
//
// # Determinism
//
// gRPC delivers on its own goroutines in wall time, while the simulation is
// deterministic on virtual time. The rules that reconcile the two:
//
//   - A FakePlugin given its Manager (FakePluginConfig.Manager) returns from
//     Start only once the manager lists its devices, from SetHealthy only once
//     the manager has applied the new health, and from Stop only once the
//     manager has marked its devices unhealthy. So with fake plugins the
//     manager's view changes only inside a call the integrator makes.
//   - Time is read only on the caller's goroutine: from the sim entity in the
//     context (sim.EntityFrom) when there is one, else from
//     ManagerConfig.Clock. The stop time of a plugin that went away is
//     stamped at the first manager call after the disconnect was seen (for a
//     FakePlugin: inside its Stop), never on a gRPC goroutine; its devices
//     are removed (capacity 0) at the first call more than
//     EndpointStopGracePeriod later.
//   - Device choice is deterministic: devices are taken in the order the
//     plugin listed them (after its preferred allocation, if it offers one),
//     never in map order.
//   - Generation counts changes of what Resources returns; Changed gives a
//     channel closed at the next state change, so a kubelet knows to post
//     its node status. An external plugin (not a FakePlugin) changes the view
//     whenever its stream delivers; WaitFor waits for a condition on it.
//
// This package reads no wall clock, does not sleep and uses no global
// randomness; it touches only files inside its device plugin directory.
package devices

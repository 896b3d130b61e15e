package devices

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

// ReasonUnexpectedAdmissionError is the reason of a pod the device manager
// refuses (upstream admission.ErrorReasonUnexpected).
const ReasonUnexpectedAdmissionError = "UnexpectedAdmissionError"

// Admit allocates the devices pod asks for, as the kubelet's admission does
// (the topology manager's Admit with policy none, which calls the device
// manager's Allocate for each init container, then each app container). It
// answers as upstream when it cannot: reason UnexpectedAdmissionError and
// "Allocate failed due to <why>, which is unexpected", for example
// "Allocate failed due to requested number of devices unavailable for
// example.com/gpu. Requested: 2, Available: 1, which is unexpected". A
// refused pod holds no device afterwards.
//
// Resources no plugin ever registered are not the device manager's: Admit
// lets them through, as upstream does (the kubelet's resource fit check
// refuses them). Devices of non-restartable init containers are reused by
// the containers after them, as upstream's devicesToReuse.
func (m *Manager) Admit(ctx context.Context, pod *corev1.Pod) (reason, message string, ok bool) {
	m.allocMu.Lock()
	defer m.allocMu.Unlock()
	uid := string(pod.UID)
	reuse := map[string][]string{}
	fail := func(err error) (string, string, bool) {
		m.Release(uid)
		return ReasonUnexpectedAdmissionError, fmt.Sprintf("Allocate failed due to %v, which is unexpected", err), false
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if err := m.allocateContainer(ctx, uid, c, reuse); err != nil {
			return fail(err)
		}
		restartable := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		for res, a := range m.containerAllocations(uid, c.Name) {
			if restartable {
				reuse[res] = slices.DeleteFunc(reuse[res], func(id string) bool { return slices.Contains(a.ids, id) })
			} else {
				for _, id := range a.ids {
					if !slices.Contains(reuse[res], id) {
						reuse[res] = append(reuse[res], id)
					}
				}
			}
		}
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if err := m.allocateContainer(ctx, uid, c, reuse); err != nil {
			return fail(err)
		}
		for res, a := range m.containerAllocations(uid, c.Name) {
			reuse[res] = slices.DeleteFunc(reuse[res], func(id string) bool { return slices.Contains(a.ids, id) })
		}
	}
	return "", "", true
}

// allocateContainer allocates each device plugin resource in c's limits
// (extended resources cannot be overcommitted, so limits equal requests), in
// resource name order.
func (m *Manager) allocateContainer(ctx context.Context, podUID string, c *corev1.Container, reuse map[string][]string) error {
	for _, name := range sortedKeys(c.Resources.Limits) {
		if !m.isDevicePluginResource(ctx, name) {
			continue
		}
		q := c.Resources.Limits[corev1.ResourceName(name)]
		if _, err := m.allocate(ctx, podUID, c.Name, name, int(q.Value()), reuse[name]); err != nil {
			return err
		}
	}
	return nil
}

// containerAllocations is a copy of what a container holds, by resource.
func (m *Manager) containerAllocations(podUID, container string) map[string]*allocation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*allocation{}
	for res, a := range m.pods[podUID][container] {
		out[res] = a
	}
	return out
}

// isDevicePluginResource says whether the manager handles name: a plugin
// lists it, or devices of it are still allocated (upstream's rule).
func (m *Manager) isDevicePluginResource(ctx context.Context, name string) bool {
	now := m.now(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settleLocked(now)
	if rs := m.resources[name]; rs != nil && rs.listed {
		return true
	}
	return len(m.inUseLocked(name)) > 0
}

// Allocate gives n devices of resource to a pod's container: n free healthy
// devices, chosen by the plugin's GetPreferredAllocation when its options
// offer it and otherwise in the order the plugin lists them, then the
// plugin's Allocate over gRPC. The assignment is recorded until Release. A
// container that already holds the resource gets its response again. Errors
// read as upstream's (see Admit).
func (m *Manager) Allocate(ctx context.Context, podUID, containerName, resource string, n int) (*pluginapi.ContainerAllocateResponse, error) {
	m.allocMu.Lock()
	defer m.allocMu.Unlock()
	return m.allocate(ctx, podUID, containerName, resource, n, nil)
}

// allocate is Allocate with allocMu held; reusable devices (from init
// containers of the same pod) are taken first.
func (m *Manager) allocate(ctx context.Context, podUID, container, res string, n int, reusable []string) (*pluginapi.ContainerAllocateResponse, error) {
	if n < 0 {
		return nil, fmt.Errorf("pod %q container %q requests %d devices of %s: the count must not be negative", podUID, container, n, res)
	}
	now := m.now(ctx)
	m.mu.Lock()
	m.settleLocked(now)
	existing := m.pods[podUID][container][res]
	if existing != nil && len(existing.ids) != n {
		m.mu.Unlock()
		return nil, fmt.Errorf("pod %q container %q changed request for resource %q from %d to %d", podUID, container, res, len(existing.ids), n)
	}
	rs := m.resources[res]
	if rs == nil || !rs.listed {
		m.mu.Unlock()
		return nil, fmt.Errorf("cannot allocate unregistered device %s", res)
	}
	var healthy []string
	for _, id := range rs.ids {
		if rs.healthy[id] {
			healthy = append(healthy, id)
		}
	}
	if len(healthy) == 0 {
		m.mu.Unlock()
		return nil, fmt.Errorf("no healthy devices present; cannot allocate unhealthy devices %s", res)
	}
	if existing != nil {
		m.mu.Unlock()
		for _, id := range existing.ids {
			if !slices.Contains(healthy, id) {
				return nil, fmt.Errorf("previously allocated devices are no longer healthy; cannot allocate unhealthy devices %s", res)
			}
		}
		return existing.resp, nil
	}
	if n == 0 {
		m.mu.Unlock()
		return nil, nil
	}
	var chosen []string
	for _, id := range reusable {
		if len(chosen) < n {
			chosen = append(chosen, id)
		}
	}
	inUse := m.inUseLocked(res)
	var available []string
	for _, id := range healthy {
		if !inUse[id] && !slices.Contains(chosen, id) {
			available = append(available, id)
		}
	}
	e := rs.endpoint
	stopped := rs.stopped
	m.mu.Unlock()

	if needed := n - len(chosen); needed > 0 {
		if len(available) < needed {
			return nil, fmt.Errorf("requested number of devices unavailable for %s. Requested: %d, Available: %d", res, needed, len(available))
		}
		if stopped || e == nil {
			return nil, fmt.Errorf("endpoint %s has been stopped", res)
		}
		if e.opts.GetGetPreferredAllocationAvailable() {
			callCtx, cancel := m.bound(ctx)
			resp, err := e.client.GetPreferredAllocation(callCtx, &pluginapi.PreferredAllocationRequest{
				ContainerRequests: []*pluginapi.ContainerPreferredAllocationRequest{{
					AvailableDeviceIDs:   append(slices.Clone(chosen), available...),
					MustIncludeDeviceIDs: chosen,
					AllocationSize:       int32(n),
				}},
			})
			cancel()
			if err != nil {
				return nil, fmt.Errorf("device plugin GetPreferredAllocation rpc failed with err: %w", err)
			}
			if len(resp.GetContainerResponses()) > 0 {
				for _, id := range resp.ContainerResponses[0].DeviceIDs {
					if len(chosen) < n && slices.Contains(available, id) && !slices.Contains(chosen, id) {
						chosen = append(chosen, id)
					}
				}
			}
		}
		for _, id := range available {
			if len(chosen) < n && !slices.Contains(chosen, id) {
				chosen = append(chosen, id)
			}
		}
	}
	if stopped || e == nil {
		return nil, fmt.Errorf("endpoint %s has been stopped", res)
	}
	callCtx, cancel := m.bound(ctx)
	resp, err := e.client.Allocate(callCtx, &pluginapi.AllocateRequest{
		ContainerRequests: []*pluginapi.ContainerAllocateRequest{{DevicesIds: chosen}},
	})
	cancel()
	if err != nil {
		return nil, err
	}
	if len(resp.ContainerResponses) == 0 {
		return nil, fmt.Errorf("no containers return in allocation response %v", resp)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pods[podUID] == nil {
		m.pods[podUID] = map[string]map[string]*allocation{}
	}
	if m.pods[podUID][container] == nil {
		m.pods[podUID][container] = map[string]*allocation{}
	}
	m.pods[podUID][container][res] = &allocation{ids: chosen, resp: resp.ContainerResponses[0]}
	return resp.ContainerResponses[0], nil
}

// inUseLocked is the set of res's devices allocated to any container.
func (m *Manager) inUseLocked(res string) map[string]bool {
	in := map[string]bool{}
	for _, containers := range m.pods {
		for _, byRes := range containers {
			if a := byRes[res]; a != nil {
				for _, id := range a.ids {
					in[id] = true
				}
			}
		}
	}
	return in
}

// Release frees every device a pod holds, as upstream's
// UpdateAllocatedDevices does once the pod is no longer active.
func (m *Manager) Release(podUID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pods[podUID]; ok {
		delete(m.pods, podUID)
		m.changedLocked(false)
	}
}

// Allocated is the devices of resource held by a pod's container, in the
// order they were allocated (nil if none).
func (m *Manager) Allocated(podUID, containerName, resource string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.pods[podUID][containerName][resource]; a != nil {
		return slices.Clone(a.ids)
	}
	return nil
}

// Free is how many healthy devices of resource no container holds.
func (m *Manager) Free(ctx context.Context, resource string) int {
	now := m.now(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settleLocked(now)
	rs := m.resources[resource]
	if rs == nil || !rs.listed {
		return 0
	}
	inUse := m.inUseLocked(resource)
	free := 0
	for _, id := range rs.ids {
		if rs.healthy[id] && !inUse[id] {
			free++
		}
	}
	return free
}

// ContainerOptions is what a container's config gets from its devices: the
// Allocate responses of each resource it holds, merged in resource name
// order (environment, mounts, device nodes, annotations, CDI devices; the
// first value of a key wins). Before, it calls PreStartContainer on the
// plugins whose options ask for it, as the kubelet does at container start.
// It returns nil when the container holds no device.
func (m *Manager) ContainerOptions(ctx context.Context, podUID, containerName string) (*pluginapi.ContainerAllocateResponse, error) {
	type preStart struct {
		e   *endpoint
		ids []string
	}
	var calls []preStart
	var resps []*pluginapi.ContainerAllocateResponse
	m.mu.Lock()
	byRes := m.pods[podUID][containerName]
	for _, res := range sortedKeys(byRes) {
		a := byRes[res]
		resps = append(resps, a.resp)
		rs := m.resources[res]
		if rs == nil || rs.endpoint == nil {
			m.mu.Unlock()
			return nil, fmt.Errorf("endpoint not found in cache for a registered resource: %s", res)
		}
		if !rs.endpoint.opts.GetPreStartRequired() {
			continue
		}
		if rs.stopped {
			m.mu.Unlock()
			return nil, fmt.Errorf("device plugin PreStartContainer rpc failed with err: endpoint %s has been stopped", res)
		}
		calls = append(calls, preStart{rs.endpoint, slices.Clone(a.ids)})
	}
	m.mu.Unlock()
	if len(resps) == 0 {
		return nil, nil
	}
	for _, c := range calls {
		callCtx, cancel := m.bound(ctx)
		_, err := c.e.client.PreStartContainer(callCtx, &pluginapi.PreStartContainerRequest{DevicesIds: c.ids})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("device plugin PreStartContainer rpc failed with err: %w", err)
		}
	}
	return mergeResponses(resps), nil
}

// mergeResponses merges Allocate responses into one; for a repeated key or
// path the first wins.
func mergeResponses(resps []*pluginapi.ContainerAllocateResponse) *pluginapi.ContainerAllocateResponse {
	out := &pluginapi.ContainerAllocateResponse{}
	mounts, devices, cdi := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range resps {
		for _, k := range sortedKeys(r.Envs) {
			if _, ok := out.Envs[k]; !ok {
				if out.Envs == nil {
					out.Envs = map[string]string{}
				}
				out.Envs[k] = r.Envs[k]
			}
		}
		for _, k := range sortedKeys(r.Annotations) {
			if _, ok := out.Annotations[k]; !ok {
				if out.Annotations == nil {
					out.Annotations = map[string]string{}
				}
				out.Annotations[k] = r.Annotations[k]
			}
		}
		for _, mt := range r.Mounts {
			if !mounts[mt.ContainerPath] {
				mounts[mt.ContainerPath] = true
				out.Mounts = append(out.Mounts, mt)
			}
		}
		for _, d := range r.Devices {
			if !devices[d.ContainerPath] {
				devices[d.ContainerPath] = true
				out.Devices = append(out.Devices, d)
			}
		}
		for _, d := range r.CdiDevices {
			if !cdi[d.Name] {
				cdi[d.Name] = true
				out.CdiDevices = append(out.CdiDevices, d)
			}
		}
	}
	return out
}

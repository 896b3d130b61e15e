package node

import (
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodesim/nodesim/node/kernel"
	"github.com/nodesim/nodesim/sim"
)

// DefaultEvictionPressureTransitionPeriod is
// evictionPressureTransitionPeriod: a pressure condition stays True this
// long after its eviction signal clears.
const DefaultEvictionPressureTransitionPeriod = 5 * time.Minute

// Pressure says which resources the node is short of (eviction signals
// past their thresholds).
type Pressure struct {
	Memory, Disk, PID bool
}

// SetPressure changes the node's eviction signals at time now; the status
// loop reports them at its next run.
func (k *Kubelet) SetPressure(now time.Time, p Pressure) {
	for _, s := range []struct {
		on   bool
		last *time.Time
	}{{p.Memory, &k.pressureSeen.memory}, {p.Disk, &k.pressureSeen.disk}, {p.PID, &k.pressureSeen.pid}} {
		if s.on {
			*s.last = now
		}
	}
	// A signal that clears now was on until now.
	if k.pressure.Memory && !p.Memory {
		k.pressureSeen.memory = now
	}
	if k.pressure.Disk && !p.Disk {
		k.pressureSeen.disk = now
	}
	if k.pressure.PID && !p.PID {
		k.pressureSeen.pid = now
	}
	k.pressure = p
}

// Pressure is the node's eviction signals.
func (k *Kubelet) Pressure() Pressure { return k.pressure }

// pressureNow is the pressure the eviction manager reports: a signal seen
// within the transition period still counts.
func (k *Kubelet) pressureNow(now time.Time) Pressure {
	held := func(on bool, last time.Time) bool {
		return on || (!last.IsZero() && now.Sub(last) < DefaultEvictionPressureTransitionPeriod)
	}
	return Pressure{
		Memory: held(k.pressure.Memory, k.pressureSeen.memory),
		Disk:   held(k.pressure.Disk, k.pressureSeen.disk),
		PID:    held(k.pressure.PID, k.pressureSeen.pid),
	}
}

// statusLoop is syncNodeStatus every nodeStatusUpdateFrequency (jittered
// 4 %), after one runtime poll, as the kubelet starts it.
func (k *Kubelet) statusLoop(p *sim.Proc) {
	// BirthCry: the kubelet says it started, before it registers.
	k.recordNodeEvent(corev1.EventTypeNormal, EventStartingKubelet, "Starting kubelet.")
	k.updateRuntimeUp(p.Now())
	for {
		k.syncNodeStatus(p)
		p.Sleep(k.jitter(k.set.statusUpdateFrequency, heartbeatJitter))
	}
}

// syncNodeStatus registers the node if it is not yet, then updates its
// status.
func (k *Kubelet) syncNodeStatus(p *sim.Proc) {
	k.statusBusy = true
	defer func() { k.statusBusy = false }()
	if !k.registered {
		k.registerWithAPIServer(p)
		if k.registered && k.set.cgroupWarning != "" {
			// The container manager's warning on a cgroup v1 host, once a
			// boot, as an event on the Node.
			k.event(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.cfg.Name}}, corev1.EventTypeWarning, kernel.ReasonCgroupV1, k.set.cgroupWarning)
		}
	}
	_ = k.updateNodeStatus(p) // the kubelet logs and waits for the next period
}

// updateNodeStatus tries up to five times to update the node's status.
func (k *Kubelet) updateNodeStatus(p *sim.Proc) error {
	for i := range nodeStatusUpdateRetry {
		if err := k.tryUpdateNodeStatus(p, i); err == nil {
			return nil
		}
	}
	return errors.New("update node status exceeds retry count")
}

// tryUpdateNodeStatus posts the status if it changed or the report period
// passed. The first try starts from the kubelet's own view of the node;
// retries GET it from the API server.
func (k *Kubelet) tryUpdateNodeStatus(p *sim.Proc, try int) error {
	original := k.node
	if try > 0 {
		got, err := k.clients.Core.Nodes().Get(k.ctx(), k.cfg.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		k.setNode(got)
		original = k.node
	}
	if original == nil {
		return errors.New("node not found")
	}
	k.updatePodCIDR(original)
	node, changed := k.updateNode(p.Now(), original)
	if !changed && !k.isUpdateStatusPeriodExpired(p.Now()) {
		return nil
	}
	// A change (or a restart) draws a new random offset for the next
	// report; a post because the period expired keeps the cadence.
	if changed || k.lastStatusReportTime.IsZero() {
		k.delayAfterNodeStatusChange = k.calculateDelay()
	} else {
		k.delayAfterNodeStatusChange = 0
	}
	return k.patchNodeStatus(p, original, node, changed)
}

func (k *Kubelet) isUpdateStatusPeriodExpired(now time.Time) bool {
	return now.Sub(k.lastStatusReportTime) >= k.set.statusReportFrequency+k.delayAfterNodeStatusChange
}

// calculateDelay is a random offset of -50 %..+50 % of the report period.
func (k *Kubelet) calculateDelay() time.Duration {
	return time.Duration(float64(k.set.statusReportFrequency) * (-0.5 + k.en.Rand().Float64()))
}

// patchNodeStatus posts the difference between original and node as a
// strategic-merge patch of nodes/status.
func (k *Kubelet) patchNodeStatus(p *sim.Proc, original, node *corev1.Node, changed bool) error {
	updated, err := k.patchStatus(original, node)
	if err != nil {
		return err
	}
	k.lastStatusReportTime = p.Now()
	k.setNode(updated)
	if changed || k.cfg.TraceAllHeartbeats {
		k.en.Trace(sim.Record{Event: sim.EventNodeStatusPosted, Node: k.cfg.Name})
	}
	if k.observer != nil {
		k.observer.NodeWritten(k.en, updated)
	}
	return nil
}

// patchStatus posts node's status (and metadata) as a strategic-merge patch
// against original, as the kubelet's PatchNodeStatus does. (Its fix-up for
// changed addresses is not needed: a virtual node's addresses never change.)
func (k *Kubelet) patchStatus(original, node *corev1.Node) (*corev1.Node, error) {
	oldData, err := json.Marshal(original)
	if err != nil {
		return nil, err
	}
	diff := node.DeepCopy()
	diff.Spec = original.Spec
	newData, err := json.Marshal(diff)
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Node{})
	if err != nil {
		return nil, err
	}
	return k.clients.Core.Nodes().Patch(k.ctx(), k.cfg.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
}

// updateNode runs the status setters on a copy of original and says whether
// anything but heartbeat times changed.
func (k *Kubelet) updateNode(now time.Time, original *corev1.Node) (*corev1.Node, bool) {
	node := original.DeepCopy()
	k.setNodeStatus(now, node)
	return node, nodeStatusHasChanged(&original.Status, &node.Status)
}

// fastStatusUpdateOnce posts the first Ready status as soon as the node is
// ready instead of at the next status period: every 100 ms until then, for
// at most 120 s.
func (k *Kubelet) fastStatusUpdateOnce(p *sim.Proc) {
	start := p.Now()
	for !k.fastNodeStatusUpdate(p, p.Now().Sub(start) >= nodeReadyGracePeriod) {
		p.Sleep(fastStatusUpdatePeriod)
	}
}

func (k *Kubelet) fastNodeStatusUpdate(p *sim.Proc, timeout bool) bool {
	if timeout {
		return true
	}
	original := k.node
	if original == nil || k.statusBusy {
		return false
	}
	ready := findCondition(original.Status.Conditions, corev1.NodeReady)
	if ready == nil {
		return false
	}
	if ready.Status == corev1.ConditionTrue {
		return true
	}
	k.updateRuntimeUp(p.Now())
	// While the runtime or its network is not ready, the status computed
	// below would have Ready False, which this update never posts: skip
	// computing it (the same outcome, without a copy of the Node every
	// 100 ms per starting node).
	if k.runtimeState.runtimeErrors(p.Now()) != nil || k.runtimeState.networkErrors() != nil {
		return false
	}
	node, changed := k.updateNode(p.Now(), original)
	if !changed {
		return false
	}
	if ready := findCondition(node.Status.Conditions, corev1.NodeReady); ready == nil || ready.Status == corev1.ConditionFalse {
		return false
	}
	if err := k.patchNodeStatus(p, original, node, true); err != nil {
		k.syncNodeStatus(p)
	}
	return true
}

// setNodeStatus runs the kubelet's status setters, in the kubelet's order
// (defaultNodeStatusFuncs), recording the events they record.
func (k *Kubelet) setNodeStatus(now time.Time, node *corev1.Node) {
	k.setAddresses(node)
	k.setMachineInfo(node)
	k.setVersionInfo(node)
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = k.set.port
	k.setImages(now, node)
	node.Status.NodeInfo.OperatingSystem = k.cfg.OperatingSystem
	node.Status.NodeInfo.Architecture = k.cfg.Architecture
	k.setRuntimeHandlers(node)
	k.setNodeFeatures(node)
	t := metav1.NewTime(now)
	pressure := k.pressureNow(now)
	for _, c := range []struct {
		typ                       corev1.NodeConditionType
		on                        bool
		trueReason, trueMessage   string
		falseReason, falseMessage string
		trueEvent, falseEvent     string
	}{
		{corev1.NodeMemoryPressure, pressure.Memory,
			"KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
			"KubeletHasSufficientMemory", "kubelet has sufficient memory available",
			EventNodeHasInsufficientMem, EventNodeHasSufficientMemory},
		{corev1.NodeDiskPressure, pressure.Disk,
			"KubeletHasDiskPressure", "kubelet has disk pressure",
			"KubeletHasNoDiskPressure", "kubelet has no disk pressure",
			EventNodeHasDiskPressure, EventNodeHasNoDiskPressure},
		{corev1.NodePIDPressure, pressure.PID,
			"KubeletHasInsufficientPID", "kubelet has insufficient PID available",
			"KubeletHasSufficientPID", "kubelet has sufficient PID available",
			EventNodeHasInsufficientPID, EventNodeHasSufficientPID},
	} {
		if flipped := setPressureCondition(node, t, c.typ, c.on, c.trueReason, c.trueMessage, c.falseReason, c.falseMessage); flipped {
			ev := c.falseEvent
			if c.on {
				ev = c.trueEvent
			}
			k.recordNodeStatusEvent(corev1.EventTypeNormal, ev)
		}
	}
	if flipped, ready := k.setReadyCondition(node, t); flipped {
		ev := EventNodeNotReady
		if ready {
			ev = EventNodeReady
		}
		k.recordNodeStatusEvent(corev1.EventTypeNormal, ev)
	}
}

// imageCacheUpdatePeriod is how often the kubelet's image manager lists
// the runtime's images into the cache that status.images reads.
const imageCacheUpdatePeriod = 30 * time.Second

// setImages is the kubelet's Images setter: up to nodeStatusMaxImages
// images, largest first (ties: higher ID first), each with up to five
// names, repo digests before repo tags.
func (k *Kubelet) setImages(now time.Time, node *corev1.Node) {
	if k.imagesListed.IsZero() || now.Sub(k.imagesListed) >= imageCacheUpdatePeriod {
		if resp, err := k.cri.ListImages(k.ctx(), &runtimeapi.ListImagesRequest{}); err == nil {
			k.images = nodeImages(resp.GetImages(), k.set.nodeStatusMaxImages)
			k.imagesListed = now
		}
	}
	node.Status.Images = slices.Clone(k.images)
}

// maxNamesPerImageInNodeStatus is how many names status.images gives an
// image.
const maxNamesPerImageInNodeStatus = 5

// nodeImages is status.images from the runtime's images.
func nodeImages(images []*runtimeapi.Image, maxImages int32) []corev1.ContainerImage {
	images = slices.Clone(images)
	slices.SortStableFunc(images, func(a, b *runtimeapi.Image) int {
		if a.GetSize() != b.GetSize() {
			return cmp.Compare(b.GetSize(), a.GetSize())
		}
		return cmp.Compare(b.GetId(), a.GetId())
	})
	if maxImages > -1 && int(maxImages) < len(images) {
		images = images[:maxImages]
	}
	var out []corev1.ContainerImage
	for _, im := range images {
		names := append(slices.Clone(im.GetRepoDigests()), im.GetRepoTags()...)
		if len(names) > maxNamesPerImageInNodeStatus {
			names = names[:maxNamesPerImageInNodeStatus]
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: int64(im.GetSize())})
	}
	return out
}

// setRuntimeHandlers is the kubelet's RuntimeHandlers setter: every
// handler of the runtime's last status with what it supports (the
// UserNamespacesSupport and RecursiveReadOnlyMounts gates are locked on in
// v1.37).
func (k *Kubelet) setRuntimeHandlers(node *corev1.Node) {
	handlers := k.runtimeState.handlers
	node.Status.RuntimeHandlers = make([]corev1.NodeRuntimeHandler, len(handlers))
	for i, h := range handlers {
		rro, userns := h.GetFeatures().GetRecursiveReadOnlyMounts(), h.GetFeatures().GetUserNamespaces()
		node.Status.RuntimeHandlers[i] = corev1.NodeRuntimeHandler{
			Name:     h.GetName(),
			Features: &corev1.NodeRuntimeHandlerFeatures{RecursiveReadOnlyMounts: &rro, UserNamespaces: &userns},
		}
	}
}

// setNodeFeatures is the kubelet's NodeFeatures setter: what the runtime
// supports (the SupplementalGroupsPolicy gate is locked on in v1.37);
// nothing before the runtime's first status.
func (k *Kubelet) setNodeFeatures(node *corev1.Node) {
	f := k.runtimeState.features
	if f == nil {
		return
	}
	sgp := f.GetSupplementalGroupsPolicy()
	node.Status.Features = &corev1.NodeFeatures{SupplementalGroupsPolicy: &sgp}
}

// updatePodCIDR passes the pod CIDRs the node IPAM controller gave the
// node on to the runtime, as the kubelet does when it sees them change.
func (k *Kubelet) updatePodCIDR(node *corev1.Node) {
	if len(node.Spec.PodCIDRs) == 0 {
		return
	}
	cidrs := strings.Join(node.Spec.PodCIDRs, ",")
	if cidrs == k.podCIDRs {
		return
	}
	if _, err := k.cri.UpdateRuntimeConfig(k.ctx(), &runtimeapi.UpdateRuntimeConfigRequest{
		RuntimeConfig: &runtimeapi.RuntimeConfig{NetworkConfig: &runtimeapi.NetworkConfig{PodCidr: cidrs}},
	}); err == nil {
		k.podCIDRs = cidrs
	}
}

func (k *Kubelet) setAddresses(node *corev1.Node) {
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: k.cfg.InternalIP.String()},
		{Type: corev1.NodeHostName, Address: k.cfg.Name},
	}
}

func (k *Kubelet) setMachineInfo(node *corev1.Node) {
	node.Status.NodeInfo.MachineID = k.machineID
	node.Status.NodeInfo.SystemUUID = k.systemUUID
	if old := node.Status.NodeInfo.BootID; old != "" && old != k.bootID && !k.rebootRecorded {
		// Once a boot, as the kubelet's sync.Once does.
		k.rebootRecorded = true
		k.recordNodeEvent(corev1.EventTypeWarning, EventNodeRebooted,
			"Node "+k.cfg.Name+" has been rebooted, boot id: "+k.bootID)
	}
	node.Status.NodeInfo.BootID = k.bootID
	node.Status.Capacity = k.capacity()
	node.Status.Allocatable = k.allocatable()
}

func (k *Kubelet) setVersionInfo(node *corev1.Node) {
	node.Status.NodeInfo.KernelVersion = k.cfg.KernelVersion
	node.Status.NodeInfo.OSImage = k.cfg.OSImage
	node.Status.NodeInfo.ContainerRuntimeVersion = k.cfg.ContainerRuntimeVersion
	node.Status.NodeInfo.KubeletVersion = k.cfg.KubeletVersion
}

// capacity is the machine's, with the hugepage sizes the kubelet always
// reports, pods from maxPods, and the device plugins' resources.
func (k *Kubelet) capacity() corev1.ResourceList {
	c := k.cfg.Capacity.DeepCopy()
	if c == nil {
		c = corev1.ResourceList{}
	}
	c[corev1.ResourcePods] = *resource.NewQuantity(k.set.maxPods, resource.DecimalSI)
	if k.cfg.Devices != nil {
		devices, _ := k.cfg.Devices.Resources(k.ctx())
		maps.Copy(c, devices)
	}
	for _, hp := range []corev1.ResourceName{"hugepages-1Gi", "hugepages-2Mi"} {
		if _, ok := c[hp]; !ok {
			c[hp] = *resource.NewQuantity(0, resource.BinarySI)
		}
	}
	return c
}

// allocatable is capacity less systemReserved, kubeReserved and the hard
// eviction thresholds, clamped at zero.
func (k *Kubelet) allocatable() corev1.ResourceList {
	capacity := k.capacity()
	out := corev1.ResourceList{}
	for name, q := range capacity {
		v := q.DeepCopy()
		for _, reserved := range []corev1.ResourceList{k.set.systemReserved, k.set.kubeReserved} {
			if r, ok := reserved[name]; ok {
				v.Sub(r)
			}
		}
		if threshold, ok := evictionThreshold(k.set.evictionHard, name, q); ok {
			v.Sub(threshold)
		}
		if v.Sign() < 0 {
			v = *resource.NewQuantity(0, q.Format)
		}
		out[name] = v
	}
	if k.cfg.Devices != nil {
		// Only healthy devices can be allocated.
		_, healthy := k.cfg.Devices.Resources(k.ctx())
		maps.Copy(out, healthy)
	}
	return out
}

// evictionThreshold is the hard eviction threshold that reduces allocatable
// for a resource: memory.available for memory, nodefs.available for
// ephemeral storage; a percentage is of capacity.
func evictionThreshold(hard map[string]string, name corev1.ResourceName, capacity resource.Quantity) (resource.Quantity, bool) {
	signal := map[corev1.ResourceName]string{
		corev1.ResourceMemory:           "memory.available",
		corev1.ResourceEphemeralStorage: "nodefs.available",
	}[name]
	value, ok := hard[signal]
	if signal == "" || !ok {
		return resource.Quantity{}, false
	}
	if pct, isPct := parsePercent(value); isPct {
		return *resource.NewQuantity(int64(float64(capacity.Value())*pct/100), capacity.Format), true
	}
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return resource.Quantity{}, false
	}
	return q, true
}

func parsePercent(s string) (float64, bool) {
	if len(s) < 2 || s[len(s)-1] != '%' {
		return 0, false
	}
	var v float64
	for _, c := range s[:len(s)-1] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + float64(c-'0')
	}
	return v, true
}

// setPressureCondition is the kubelet's Memory/Disk/PIDPressure setter: the
// heartbeat moves every time, the transition time only on a flip. It says
// whether the status flipped (a new condition flips from Unknown), when
// the kubelet records an event.
func setPressureCondition(node *corev1.Node, now metav1.Time, typ corev1.NodeConditionType, pressure bool,
	trueReason, trueMessage, falseReason, falseMessage string) bool {
	condition := findCondition(node.Status.Conditions, typ)
	if condition == nil {
		node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{Type: typ, Status: corev1.ConditionUnknown})
		condition = &node.Status.Conditions[len(node.Status.Conditions)-1]
	}
	condition.LastHeartbeatTime = now
	switch {
	case pressure && condition.Status != corev1.ConditionTrue:
		condition.Status, condition.Reason, condition.Message = corev1.ConditionTrue, trueReason, trueMessage
		condition.LastTransitionTime = now
		return true
	case !pressure && condition.Status != corev1.ConditionFalse:
		condition.Status, condition.Reason, condition.Message = corev1.ConditionFalse, falseReason, falseMessage
		condition.LastTransitionTime = now
		return true
	}
	return false
}

// setReadyCondition is the kubelet's Ready setter: True with KubeletReady
// unless the runtime, the network or missing capacity say otherwise. It
// says whether an existing condition's status flipped (when the kubelet
// records NodeReady or NodeNotReady) and whether the node is ready.
func (k *Kubelet) setReadyCondition(node *corev1.Node, now metav1.Time) (flipped, isReady bool) {
	ready := corev1.NodeCondition{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", Message: "kubelet is posting ready status",
		LastHeartbeatTime: now,
	}
	errs := []error{k.runtimeState.runtimeErrors(now.Time), k.runtimeState.networkErrors()}
	var missing []string
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods, corev1.ResourceEphemeralStorage} {
		if _, ok := node.Status.Capacity[name]; !ok {
			missing = append(missing, string(name))
		}
	}
	if len(missing) > 0 {
		errs = append(errs, errors.New("missing node capacity for resources: "+strings.Join(missing, ", ")))
	}
	if err := utilerrors.NewAggregate(errs); err != nil {
		ready = corev1.NodeCondition{
			Type: corev1.NodeReady, Status: corev1.ConditionFalse,
			Reason: "KubeletNotReady", Message: err.Error(),
			LastHeartbeatTime: now,
		}
	}
	isReady = ready.Status == corev1.ConditionTrue
	if old := findCondition(node.Status.Conditions, corev1.NodeReady); old != nil {
		if old.Status == ready.Status {
			ready.LastTransitionTime = old.LastTransitionTime
		} else {
			ready.LastTransitionTime = now
			flipped = true
		}
		*old = ready
		return flipped, isReady
	}
	ready.LastTransitionTime = now
	node.Status.Conditions = append(node.Status.Conditions, ready)
	return false, isReady
}

func findCondition(conditions []corev1.NodeCondition, typ corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conditions {
		if conditions[i].Type == typ {
			return &conditions[i]
		}
	}
	return nil
}

// nodeStatusHasChanged compares two statuses ignoring heartbeat times.
func nodeStatusHasChanged(original, status *corev1.NodeStatus) bool {
	if nodeConditionsHaveChanged(original.Conditions, status.Conditions) {
		return true
	}
	if !resourceListsEqual(original.Capacity, status.Capacity) || !resourceListsEqual(original.Allocatable, status.Allocatable) {
		return true
	}
	// The rest, compared as upstream does, on shallow copies without the
	// parts compared above: no deep copy of the whole status, and no
	// reflection over quantities, on a path every node takes every 10 s.
	a, b := *original, *status
	if a.Phase != b.Phase || !slices.Equal(a.Addresses, b.Addresses) || a.DaemonEndpoints != b.DaemonEndpoints ||
		!nodeInfoEqual(a.NodeInfo, b.NodeInfo) {
		return true
	}
	a.Conditions, b.Conditions = nil, nil
	a.Capacity, b.Capacity = nil, nil
	a.Allocatable, b.Allocatable = nil, nil
	a.Addresses, b.Addresses = nil, nil
	a.NodeInfo, b.NodeInfo = corev1.NodeSystemInfo{}, corev1.NodeSystemInfo{}
	return !apiequality.Semantic.DeepEqual(&a, &b)
}

func nodeInfoEqual(a, b corev1.NodeSystemInfo) bool {
	if (a.Swap == nil) != (b.Swap == nil) || a.Swap != nil && !apiequality.Semantic.DeepEqual(a.Swap, b.Swap) {
		return false
	}
	a.Swap, b.Swap = nil, nil
	return a == b
}

// resourceListsEqual compares quantities by value, as the semantic
// equality does.
func resourceListsEqual(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for name, q := range a {
		other, ok := b[name]
		if !ok || q.Cmp(other) != 0 {
			return false
		}
	}
	return true
}

// nodeConditionsHaveChanged compares conditions by type, ignoring their
// heartbeat times.
func nodeConditionsHaveChanged(original, conditions []corev1.NodeCondition) bool {
	if len(original) != len(conditions) {
		return true
	}
	for i := range conditions {
		c := &conditions[i]
		o := findCondition(original, c.Type)
		if o == nil || o.Status != c.Status || o.Reason != c.Reason || o.Message != c.Message ||
			!o.LastTransitionTime.Equal(&c.LastTransitionTime) {
			return true
		}
	}
	return false
}

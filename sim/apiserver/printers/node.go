package printers

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
)

const (
	// nodeRoleLabelPrefix marks a role by a label key node-role.kubernetes.io/<role>.
	nodeRoleLabelPrefix = "node-role.kubernetes.io/"
	// nodeRoleLabel marks a role by the value of the label kubernetes.io/role.
	nodeRoleLabel = "kubernetes.io/role"
)

// NodeTable prints *corev1.Node and *corev1.NodeList the way `kubectl get
// nodes` shows them: NAME, STATUS, ROLES, AGE, VERSION and, for -o wide,
// INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME.
func NodeTable(c clock.PassiveClock) rest.TableConvertor {
	info := corev1.NodeSystemInfo{}.SwaggerDoc()
	addresses := corev1.NodeStatus{}.SwaggerDoc()["addresses"]
	return &table[corev1.Node, corev1.NodeList]{
		kind:  "Node",
		clock: c,
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			{Name: "Status", Type: "string", Description: "The status of the node"},
			{Name: "Roles", Type: "string", Description: "The roles of the node"},
			ageColumn(),
			{Name: "Version", Type: "string", Description: info["kubeletVersion"]},
			{Name: "Internal-IP", Type: "string", Priority: 1, Description: addresses},
			{Name: "External-IP", Type: "string", Priority: 1, Description: addresses},
			{Name: "OS-Image", Type: "string", Priority: 1, Description: info["osImage"]},
			{Name: "Kernel-Version", Type: "string", Priority: 1, Description: info["kernelVersion"]},
			{Name: "Container-Runtime", Type: "string", Priority: 1, Description: info["containerRuntimeVersion"]},
		},
		row:   nodeRow,
		items: func(l *corev1.NodeList) []corev1.Node { return l.Items },
	}
}

func nodeRow(n *corev1.Node, a ages) metav1.TableRow {
	roles := strings.Join(nodeRoles(n), ",")
	if roles == "" {
		roles = "<none>"
	}
	info := n.Status.NodeInfo
	kernel := orUnknown(info.KernelVersion)
	if info.Architecture != "" {
		kernel += " (" + info.Architecture + ")"
	}
	return metav1.TableRow{
		Object: runtime.RawExtension{Object: n},
		Cells: []interface{}{
			n.Name,
			nodeStatus(n),
			roles,
			a.since(n.CreationTimestamp),
			info.KubeletVersion,
			nodeAddress(n, corev1.NodeInternalIP),
			nodeAddress(n, corev1.NodeExternalIP),
			orUnknown(info.OSImage),
			kernel,
			orUnknown(info.ContainerRuntimeVersion),
		},
	}
}

// nodeStatus is "Ready", "NotReady" or "Unknown" from the Ready condition
// (the last one wins if it is listed twice), followed by
// ",SchedulingDisabled" for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			status = string(corev1.NodeReady)
		} else {
			status = "Not" + string(corev1.NodeReady)
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles lists, sorted and without duplicates, the roles named by
// node-role.kubernetes.io/<role> label keys and by a non-empty
// kubernetes.io/role label value.
func nodeRoles(n *corev1.Node) []string {
	seen := map[string]bool{}
	for k, v := range n.Labels {
		role := ""
		switch {
		case strings.HasPrefix(k, nodeRoleLabelPrefix):
			role = strings.TrimPrefix(k, nodeRoleLabelPrefix)
		case k == nodeRoleLabel:
			role = v
		}
		if role != "" {
			seen[role] = true
		}
	}
	roles := make([]string, 0, len(seen))
	for r := range seen {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// nodeAddress is the first address of the given type, or "<none>".
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, addr := range n.Status.Addresses {
		if addr.Type == t {
			return addr.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

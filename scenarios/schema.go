package scenarios

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/internal/hostfile"
	"github.com/nodesim/nodesim/node/config"
	"github.com/nodesim/nodesim/node/kernel"
)

// The schema of each mapping of a scenario file. The later fields are those
// INTERFACE.md defines that this version of nodesim does not implement:
// they are rejected as such rather than as unknown.
var (
	documentSchema = schema{fields: []string{"apiVersion", "kind", "metadata", "spec"}}
	metadataSchema = schema{fields: []string{"name"}}
	specSchema     = schema{
		fields: []string{"seed", "duration", "kubernetesVersion", "nodeEndpoints", "controlPlane", "nodePools", "workloads", "timeline", "expect"},
	}
	poolSchema = schema{
		fields: []string{"name", "count", "labels", "registerWithTaints", "taints", "capacity",
			"kernelVersion", "cgroupVersion", "osImage", "containerRuntime", "architecture", "networkReadyAfter",
			"kubeletConfig", "kubeletConfigDropins", "kubeletConfigDir", "devicePlugins",
			"kubeProxyMode", "kubeProxyNFTablesSkipKernelVersionCheck", "swap"},
	}
	taintSchema        = schema{fields: []string{"key", "value", "effect"}}
	devicePluginSchema = schema{fields: []string{"resourceName", "count"}}
)

// required reports the fields of mapping n that are missing, at line (the
// line of the mapping's key, or of its first key). It says nothing when n
// is not a mapping: that was reported already.
func (d *decoder) required(n *yaml.Node, line int, path string, got []entry, names ...string) {
	if resolve(n).Kind != yaml.MappingNode {
		return
	}
	for _, name := range names {
		found := false
		for _, e := range got {
			found = found || e.key == name
		}
		if !found {
			d.addf(line, join(path, name), "required")
		}
	}
}

// document parses a whole scenario file; it returns nil when the file has
// problems, which are then in d.errs.
func (d *decoder) document(data []byte) *Scenario {
	root := d.parseYAML(data)
	if root == nil {
		return nil
	}
	root = resolve(root)
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			d.addf(0, "", "empty document: a scenario needs apiVersion, kind, metadata and spec")
		} else {
			d.addf(root.Line, "", "a scenario must be a mapping with apiVersion, kind, metadata and spec, not %s", describe(root))
		}
		return nil
	}
	s := &Scenario{File: d.file, Seed: DefaultSeed, KubernetesVersion: DefaultKubernetesVersion}
	top := d.fields(root, "", documentSchema)
	d.required(root, root.Line, "", top, "apiVersion", "kind", "metadata", "spec")
	for _, e := range top {
		switch e.key {
		case "apiVersion":
			if v, ok := d.text(e.value, e.key); ok && v != APIVersion {
				d.addf(e.value.Line, e.key, "must be %s, not %q", APIVersion, v)
			}
		case "kind":
			if v, ok := d.text(e.value, e.key); ok && v != Kind {
				d.addf(e.value.Line, e.key, "must be %s, not %q", Kind, v)
			}
		case "metadata":
			d.metadata(e, s)
		case "spec":
			d.spec(e, s)
		}
	}
	return s
}

func (d *decoder) metadata(m entry, s *Scenario) {
	got := d.fields(m.value, m.key, metadataSchema)
	d.required(m.value, m.keyNode.Line, m.key, got, "name")
	for _, e := range got {
		path := join(m.key, e.key)
		if v, ok := d.text(e.value, path); ok {
			if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
				d.addf(e.value.Line, path, "invalid name %q: %s", v, msgs[0])
				continue
			}
			s.Name = v
		}
	}
}

// specOrder is the order spec's sections are parsed in, whatever their
// order in the file: each may refer to the ones before it (a timeline step
// to pools and workloads, an expectation to the timeline's fleet changes).
var specOrder = []string{"seed", "duration", "kubernetesVersion", "nodeEndpoints", "controlPlane", "nodePools", "workloads", "timeline", "expect"}

func (d *decoder) spec(sp entry, s *Scenario) {
	got := d.fields(sp.value, sp.key, specSchema)
	d.required(sp.value, sp.keyNode.Line, sp.key, got, "duration")
	slices.SortStableFunc(got, func(a, b entry) int {
		return cmp.Compare(slices.Index(specOrder, a.key), slices.Index(specOrder, b.key))
	})
	var controlPlane *entry
	for _, e := range got {
		path := join(sp.key, e.key)
		switch e.key {
		case "seed":
			var seed uint64
			if e.value.Kind != yaml.ScalarNode || e.value.Tag != "!!int" || e.value.Decode(&seed) != nil {
				d.addf(e.value.Line, path, "must be a whole number from 0 to %d, not %s", uint64(math.MaxUint64), describe(e.value))
				continue
			}
			s.Seed = seed
		case "duration":
			if v, ok := d.duration(e.value, path); ok {
				if v <= 0 {
					d.addf(e.value.Line, path, "must be more than 0")
					continue
				}
				s.Duration = v
			}
		case "kubernetesVersion":
			if v, ok := d.text(e.value, path); ok {
				if msg := checkKubernetesVersion(v); msg != "" {
					d.addf(e.value.Line, path, "%s", msg)
					continue
				}
				s.KubernetesVersion = v
			}
		case "nodeEndpoints":
			if v, ok := d.boolean(e.value, path); ok {
				s.NoNodeEndpoints = !v
			}
		case "controlPlane":
			controlPlane = &e
		case "nodePools":
			before := len(d.errs)
			d.nodePools(e, path, s)
			d.badPools = len(d.errs) > before
		case "workloads":
			before := len(d.errs)
			d.workloads(e, path, s)
			d.badWorkloads = len(d.errs) > before
		case "timeline":
			before := len(d.errs)
			d.timeline(e, path, s)
			d.badTimeline = len(d.errs) > before
		case "expect":
			d.expect(e, path, s)
		}
	}
	// The defaults depend on kubernetesVersion, wherever the file has it.
	s.ControlPlane = DefaultControlPlane(s.KubernetesVersion)
	if controlPlane != nil {
		d.controlPlane(*controlPlane, join(sp.key, controlPlane.key), &s.ControlPlane)
	}
}

func (d *decoder) nodePools(e entry, path string, s *Scenario) {
	names := make(map[string]int) // pool name -> line of its first use
	total := 0
	items := d.sequence(e.value, path)
	if len(items) > MaxPools {
		d.addf(e.keyNode.Line, path, "%d pools, more than the %d a scenario may have", len(items), MaxPools)
		return
	}
	for i, item := range items {
		p, nameLine, ok := d.pool(item, index(path, i), s.KubernetesVersion)
		if !ok {
			continue
		}
		if first, dup := names[p.Name]; dup {
			d.addf(nameLine, index(path, i)+".name", "duplicate pool name %q (first at line %d)", p.Name, first)
			continue
		}
		names[p.Name] = nameLine
		total += p.Count // each count is at most MaxNodes, so this cannot overflow
		s.NodePools = append(s.NodePools, p)
	}
	if total > MaxNodes {
		d.addf(e.keyNode.Line, path, "%d nodes in all, more than the %d a scenario may have", total, MaxNodes)
	}
}

// pool parses one node pool. ok is false when a problem was recorded.
func (d *decoder) pool(n *yaml.Node, path, kubernetesVersion string) (p NodePool, nameLine int, ok bool) {
	before := len(d.errs)
	p = NodePool{
		Capacity:          DefaultCapacity(),
		KernelVersion:     DefaultKernelVersion,
		CgroupVersion:     DefaultCgroupVersion,
		OSImage:           DefaultOSImage,
		ContainerRuntime:  DefaultContainerRuntime,
		Architecture:      DefaultArchitecture,
		NetworkReadyAfter: DefaultNetworkReadyAfter,
		KubeProxyMode:     DefaultKubeProxyMode,
	}
	kc := kubeletEntries{lines: map[string]int{}}
	got := d.fields(n, path, poolSchema)
	d.required(n, n.Line, path, got, "name", "count")
	var labelLines map[string]int
	var taintsKey string
	for _, e := range got {
		f := join(path, e.key)
		switch e.key {
		case "name":
			nameLine = e.value.Line
			if v, ok := d.text(e.value, f); ok {
				if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
					d.addf(e.value.Line, f, "invalid pool name %q: %s", v, msgs[0])
					continue
				}
				p.Name = v
			}
		case "count":
			if v, ok := d.integer(e.value, f); ok {
				if v < 0 || v > MaxNodes {
					d.addf(e.value.Line, f, "must be from 0 to %d, not %d", MaxNodes, v)
					continue
				}
				p.Count = int(v)
			}
		case "labels":
			p.Labels, labelLines = d.labels(e.value, f)
		case "registerWithTaints", "taints":
			if taintsKey != "" {
				d.addf(e.keyNode.Line, f, "the pool already has %s: give its taints once", taintsKey)
				continue
			}
			taintsKey = e.key
			p.Taints = d.taints(e.value, f)
		case "capacity":
			d.capacity(e.value, f, p.Capacity)
		case "kernelVersion":
			if v, ok := d.text(e.value, f); ok {
				if msg := checkKernelVersion(v); msg != "" {
					d.addf(e.value.Line, f, "%s", msg)
					continue
				}
				p.KernelVersion = v
			}
		case "cgroupVersion":
			if v, ok := d.integer(e.value, f); ok {
				if v != 1 && v != 2 {
					d.addf(e.value.Line, f, "must be 1 or 2, not %d", v)
					continue
				}
				p.CgroupVersion = int(v)
			}
		case "osImage":
			if v, ok := d.text(e.value, f); ok {
				if msg := checkOSImage(v); msg != "" {
					d.addf(e.value.Line, f, "%s", msg)
					continue
				}
				p.OSImage = v
			}
		case "containerRuntime":
			if v, ok := d.text(e.value, f); ok {
				if !runtimeVersion.MatchString(v) {
					d.addf(e.value.Line, f, "must be containerd://X.Y.Z or cri-o://X.Y.Z, not %q", v)
					continue
				}
				p.ContainerRuntime = v
			}
		case "architecture":
			if v, ok := d.text(e.value, f); ok {
				if v != "amd64" && v != "arm64" {
					d.addf(e.value.Line, f, "must be amd64 or arm64, not %q", v)
					continue
				}
				p.Architecture = v
			}
		case "networkReadyAfter":
			if v, ok := d.duration(e.value, f); ok {
				if v < 0 {
					d.addf(e.value.Line, f, "must not be negative")
					continue
				}
				p.NetworkReadyAfter = v
			}
		case "kubeletConfig":
			kc.base = &e
		case "kubeletConfigDropins":
			kc.dropins = &e
		case "kubeletConfigDir":
			kc.dir = &e
		case "devicePlugins":
			p.DevicePlugins = d.devicePlugins(e.value, f)
		case "kubeProxyMode":
			if v, ok := d.text(e.value, f); ok {
				if v != KubeProxyModeIPTables && v != KubeProxyModeNFTables && v != KubeProxyModeIPVS {
					d.addf(e.value.Line, f, "must be iptables, nftables or ipvs, not %q", v)
					continue
				}
				p.KubeProxyMode = v
				kc.proxyLine = e.value.Line
			}
		case "kubeProxyNFTablesSkipKernelVersionCheck":
			p.KubeProxyNFTablesSkipKernelVersionCheck, _ = d.boolean(e.value, f)
		case "swap":
			p.Swap, _ = d.boolean(e.value, f)
			kc.swapLine = e.value.Line
		}
		if e.key == "kernelVersion" || e.key == "cgroupVersion" {
			kc.lines[e.key] = e.value.Line
		}
	}
	if len(d.errs) == before {
		// The kubelet's configuration and what it checks against the
		// host, only for a pool otherwise good: one mistake, one error.
		kc.poolLine, kc.poolName = n.Line, p.Name
		p.KubeletConfig = d.kubeletConfig(kc, path, kubernetesVersion)
		if p.KubeletConfig != nil {
			d.hostChecks(p, kc, path)
		}
	}
	d.labelsAgreeWithPool(p, labelLines, path)
	if p.Name != "" {
		if width := len(p.Name) + 1 + digits(p.Count); width > validation.DNS1123LabelMaxLength {
			d.addf(nameLine, join(path, "name"), "node names like %q would have %d characters, more than the %d the kubernetes.io/hostname label allows",
				p.NodeName(0), width, validation.DNS1123LabelMaxLength)
		}
	}
	return p, nameLine, len(d.errs) == before
}

// duration parses a Go duration (time.ParseDuration): 90s, 30m, 1h30m.
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	v, ok := d.text(n, path)
	if !ok {
		return 0, false
	}
	dur, err := time.ParseDuration(v)
	if err != nil {
		d.addf(n.Line, path, "invalid duration %q: use Go duration syntax such as 90s, 30m or 1h30m", v)
		return 0, false
	}
	return dur, true
}

// labels parses a pool's labels and returns them with the line of each value.
func (d *decoder) labels(n *yaml.Node, path string) (map[string]string, map[string]int) {
	labels := make(map[string]string)
	lines := make(map[string]int)
	for _, e := range d.mapping(n, path) {
		f := join(path, e.key)
		v, ok := "", true // an empty label value (key: or key: "") is allowed
		if !isNull(e.value) {
			v, ok = d.text(e.value, f)
		}
		if !ok {
			continue
		}
		if msg := checkLabel(e.key, v); msg != "" {
			d.addf(e.keyNode.Line, f, "%s", msg)
			continue
		}
		labels[e.key] = v
		lines[e.key] = e.value.Line
	}
	return labels, lines
}

// labelsAgreeWithPool rejects labels the kubelet sets itself that would
// contradict the node it describes.
func (d *decoder) labelsAgreeWithPool(p NodePool, lines map[string]int, path string) {
	for _, key := range sortedKeys(p.Labels) {
		v := p.Labels[key]
		f := join(join(path, "labels"), key)
		switch key {
		case corev1.LabelHostname:
			d.addf(lines[key], f, "set by the kubelet to each node's name; a pool cannot set it")
		case corev1.LabelOSStable, "beta.kubernetes.io/os":
			if v != "linux" {
				d.addf(lines[key], f, "must be linux, the only operating system nodesim's nodes run, not %q", v)
			}
		case corev1.LabelArchStable, "beta.kubernetes.io/arch":
			if v != p.Architecture {
				d.addf(lines[key], f, "%q contradicts the pool's architecture %q", v, p.Architecture)
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// taints parses registerWithTaints: a list of {key, value, effect}
// mappings or of "key[=value]:Effect" strings, as for the kubelet's
// --register-with-taints.
func (d *decoder) taints(n *yaml.Node, path string) []corev1.Taint {
	var taints []corev1.Taint
	firstLine := make(map[string]int) // key:effect -> line
	for i, item := range d.sequence(n, path) {
		f := index(path, i)
		var t corev1.Taint
		switch item.Kind {
		case yaml.ScalarNode:
			s, ok := d.text(item, f)
			if !ok {
				continue
			}
			var msg string
			if t, msg = parseTaint(s); msg != "" {
				d.addf(item.Line, f, "%s", msg)
				continue
			}
		default:
			got := d.fields(item, f, taintSchema)
			d.required(item, item.Line, f, got, "key", "effect")
			for _, e := range got {
				v, ok := d.text(e.value, join(f, e.key))
				switch {
				case !ok:
				case e.key == "key":
					t.Key = v
				case e.key == "value":
					t.Value = v
				case e.key == "effect":
					t.Effect = corev1.TaintEffect(v)
				}
			}
			if t.Key == "" || t.Effect == "" {
				continue
			}
			if msg := checkTaint(t); msg != "" {
				d.addf(item.Line, f, "%s", msg)
				continue
			}
		}
		id := t.Key + ":" + string(t.Effect)
		if line, dup := firstLine[id]; dup {
			d.addf(item.Line, f, "duplicate taint %s (first at line %d): taints must be unique by key and effect", id, line)
			continue
		}
		firstLine[id] = item.Line
		taints = append(taints, t)
	}
	return taints
}

// capacity parses a pool's capacity into c, which holds the defaults.
func (d *decoder) capacity(n *yaml.Node, path string, c corev1.ResourceList) {
	for _, e := range d.mapping(n, path) {
		f := join(path, e.key)
		if msg := checkResourceName(e.key); msg != "" {
			d.addf(e.keyNode.Line, f, "%s", msg)
			continue
		}
		v := e.value
		if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!int" && v.Tag != "!!float") {
			d.addf(v.Line, f, "must be a quantity such as \"8\", 500m or 32Gi, not %s", describe(v))
			continue
		}
		q, msg := checkQuantity(corev1.ResourceName(e.key), v.Value)
		if msg != "" {
			d.addf(v.Line, f, "%s", msg)
			continue
		}
		c[corev1.ResourceName(e.key)] = q
	}
}

// kubeletEntries are the pool fields that make its kubelet configuration
// and the lines of those the host checks point at.
type kubeletEntries struct {
	base, dropins, dir *entry
	poolName           string
	poolLine           int
	proxyLine          int
	swapLine           int
	lines              map[string]int // kernelVersion, cgroupVersion -> line
}

// kubeletConfig loads a pool's kubelet configuration (node/config); nil
// after recording the problems.
func (d *decoder) kubeletConfig(kc kubeletEntries, path, kubernetesVersion string) *kubeletconfigv1beta1.KubeletConfiguration {
	in := config.Input{}
	if m := kubernetesVersion; strings.HasPrefix(m, "1.") {
		in.KubernetesMinor, _ = strconv.Atoi(m[2:])
	}
	var names map[string]entry // inline drop-in name -> its entry
	if kc.base != nil {
		data, ok := d.inlineDocument(kc.base.value, join(path, kc.base.key))
		if !ok {
			return nil
		}
		in.Base = data
	}
	if kc.dropins != nil && kc.dir != nil {
		d.addf(kc.dir.keyNode.Line, join(path, kc.dir.key), "the pool already has kubeletConfigDropins: give kubeletConfigDropins or kubeletConfigDir, not both")
		return nil
	}
	var dirPath string
	if kc.dropins != nil {
		f := join(path, kc.dropins.key)
		names = map[string]entry{}
		in.Dropins = []config.Document{}
		for _, e := range d.mapping(kc.dropins.value, f) {
			if strings.ContainsAny(e.key, `/\`) || e.key == "." || e.key == ".." {
				d.addf(e.keyNode.Line, join(f, e.key), "a drop-in name is a file name, without directories")
				return nil
			}
			var data []byte
			if !isNull(e.value) {
				var ok bool
				if data, ok = d.inlineDocument(e.value, join(f, e.key)); !ok {
					return nil
				}
			}
			names[e.key] = e
			in.Dropins = append(in.Dropins, config.Document{Name: e.key, Data: data})
		}
	}
	if kc.dir != nil {
		f := join(path, kc.dir.key)
		v, ok := d.text(kc.dir.value, f)
		if !ok {
			return nil
		}
		dirPath = v
		if !filepath.IsAbs(dirPath) {
			dirPath = filepath.Join(filepath.Dir(d.file), dirPath)
		}
		docs, err := config.ReadDir(dirPath)
		if err != nil {
			d.addf(kc.dir.value.Line, f, "pool %q: %v", kc.poolName, err)
			return nil
		}
		in.Dropins = docs
	}
	res, err := config.Load(in)
	if err == nil {
		return res.Config
	}
	var errs config.Errors
	if !errors.As(err, &errs) {
		d.addf(kc.poolLine, path, "pool %q: kubelet configuration: %v", kc.poolName, err)
		return nil
	}
	for _, e := range errs {
		field := e.Field()
		switch {
		case e.Dropin == "" && kc.base != nil:
			d.addf(nodeLine(kc.base.keyNode, kc.base.value, e.Path), joinPath(join(path, kc.base.key), field),
				"pool %q, kubeletConfig: %s", kc.poolName, e.Message)
		case e.Dropin == "":
			// A default no document sets: only an invalid combination
			// with something set elsewhere gets here.
			d.addf(kc.poolLine, joinPath(join(path, "kubeletConfig"), field), "pool %q, kubelet configuration: %s", kc.poolName, e.Message)
		case kc.dropins != nil:
			de := names[e.Dropin]
			d.addf(nodeLine(de.keyNode, de.value, e.Path), joinPath(join(join(path, kc.dropins.key), e.Dropin), field),
				"pool %q, drop-in %s: %s", kc.poolName, e.Dropin, e.Message)
		default:
			// A file of kubeletConfigDir: its own file and line.
			file := filepath.Join(dirPath, filepath.FromSlash(e.Dropin))
			d.errs = append(d.errs, &Error{File: file, Line: fileLine(file, e.Path), Field: field,
				Message: fmt.Sprintf("pool %q (%s), drop-in %s: %s", kc.poolName, d.file, e.Dropin, e.Message)})
		}
	}
	return nil
}

// joinPath appends a config field path (already joined) to a scenario
// field path.
func joinPath(path, field string) string {
	switch {
	case field == "":
		return path
	case strings.HasPrefix(field, "["):
		return path + field
	}
	return path + "." + field
}

// inlineDocument turns an inline YAML document into JSON for node/config,
// aliases and merge keys resolved.
func (d *decoder) inlineDocument(n *yaml.Node, path string) ([]byte, bool) {
	if !d.charge() {
		return nil, false
	}
	var v any
	if err := n.Decode(&v); err != nil {
		d.addf(n.Line, path, "cannot read the document: %v", err)
		return nil, false
	}
	data, err := json.Marshal(v)
	if err != nil {
		d.addf(n.Line, path, "cannot read the document (keys must be strings): %v", err)
		return nil, false
	}
	return data, true
}

// nodeLine is the line of the key at path inside the document value,
// or of the deepest part of path it has; key is the document's own key.
func nodeLine(key, value *yaml.Node, path []string) int {
	line := key.Line
	n := resolve(value)
	for _, k := range path {
		if n.Kind != yaml.MappingNode {
			break
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if kn := resolve(n.Content[i]); kn.Kind == yaml.ScalarNode && kn.Value == k {
				line, n, found = n.Content[i].Line, resolve(n.Content[i+1]), true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

// fileLine is nodeLine in a drop-in file; 0 when it cannot be read.
func fileLine(file string, path []string) int {
	data, err := hostfile.ReadFile(file, config.MaxFileSize)
	if err != nil {
		return 0
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	root := doc.Content[0]
	line := nodeLine(&yaml.Node{Line: 0}, root, path)
	if line == 0 {
		return root.Line
	}
	return line
}

// boolean returns a scalar that is a YAML boolean.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		d.addf(n.Line, path, "must be true or false, not %s", describe(n))
		return false, false
	}
	return v, true
}

// devicePlugins parses a pool's devicePlugins.
func (d *decoder) devicePlugins(n *yaml.Node, path string) []DevicePlugin {
	var out []DevicePlugin
	first := map[string]int{}
	for i, item := range d.sequence(n, path) {
		f := index(path, i)
		got := d.fields(item, f, devicePluginSchema)
		d.required(item, item.Line, f, got, "resourceName", "count")
		var dp DevicePlugin
		good := true
		for _, e := range got {
			ef := join(f, e.key)
			switch e.key {
			case "resourceName":
				v, ok := d.text(e.value, ef)
				if !ok {
					good = false
					continue
				}
				if msg := checkExtendedResource(v); msg != "" {
					d.addf(e.value.Line, ef, "%s", msg)
					good = false
					continue
				}
				if line, dup := first[v]; dup {
					d.addf(e.value.Line, ef, "duplicate device plugin %s (first at line %d)", v, line)
					good = false
					continue
				}
				first[v] = e.value.Line
				dp.ResourceName = v
			case "count":
				v, ok := d.integer(e.value, ef)
				if !ok {
					good = false
					continue
				}
				if v < 0 || v > MaxDevices {
					d.addf(e.value.Line, ef, "must be from 0 to %d, not %d", MaxDevices, v)
					good = false
					continue
				}
				dp.Count = int(v)
			}
		}
		if good && dp.ResourceName != "" {
			out = append(out, dp)
		}
	}
	return out
}

// hostChecks refuses a pool whose kubelet or kube-proxy would refuse to
// start on its nodes, with their messages (node/kernel).
func (d *decoder) hostChecks(p NodePool, kc kubeletEntries, path string) {
	v, err := kernel.Parse(p.KernelVersion)
	if err != nil {
		line := cmp.Or(kc.lines["kernelVersion"], kc.poolLine)
		d.addf(line, join(path, "kernelVersion"), "%v", err)
		return
	}
	if p.KubeProxyMode == KubeProxyModeNFTables {
		if err := kernel.CheckKubeProxyNFTables(v, p.KubeProxyNFTablesSkipKernelVersionCheck); err != nil {
			d.addf(cmp.Or(kc.proxyLine, kc.poolLine), join(path, "kubeProxyMode"), "pool %q: kube-proxy refuses nftables mode on kernel %s: %v", p.Name, p.KernelVersion, err)
		}
	}
	if _, err := kernel.CheckCgroup(p.CgroupVersion, ptr.Deref(p.KubeletConfig.FailCgroupV1, true)); err != nil {
		d.addf(cmp.Or(kc.lines["cgroupVersion"], kc.poolLine), join(path, "cgroupVersion"),
			"pool %q: the kubelet refuses to start: %v (set failCgroupV1: false in the kubelet configuration to run on cgroup v1)", p.Name, err)
	}
	if _, err := kernel.CheckSwap(v, p.Swap, ptr.Deref(p.KubeletConfig.FailSwapOn, true)); err != nil {
		d.addf(cmp.Or(kc.swapLine, kc.poolLine), join(path, "swap"),
			"pool %q: the kubelet refuses to start: %v (failSwapOn: false in the kubelet configuration)", p.Name, err)
	}
}

package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/nodesim/nodesim/node/config"
)

const header = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"

// decodeDefaulted decodes a document and defaults it as a loaded base
// file is: what a configuration written out in full comes to.
func decodeDefaulted(t *testing.T, doc string) *kubeletconfigv1beta1.KubeletConfiguration {
	t.Helper()
	res, err := config.Load(config.Input{Base: []byte(doc)})
	if err != nil {
		t.Fatalf("load %q: %v", doc, err)
	}
	return res.Config
}

func load(t *testing.T, base string, dropins ...config.Document) *kubeletconfigv1beta1.KubeletConfiguration {
	t.Helper()
	in := config.Input{Dropins: dropins}
	if base != "" {
		in.Base = []byte(base)
	}
	if in.Dropins == nil {
		in.Dropins = []config.Document{}
	}
	res, err := config.Load(in)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return res.Config
}

// TestDefaultsMatchUpstream compares the defaults with upstream's own
// test data of a defaulted v1beta1 KubeletConfiguration
// (pkg/kubelet/apis/config/scheme/testdata/KubeletConfiguration/after),
// plus the hard eviction thresholds the kubelet adds after loading.
func TestDefaultsMatchUpstream(t *testing.T) {
	data, err := os.ReadFile("testdata/upstream-defaulted-v1beta1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	want["evictionHard"] = map[string]any{
		"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%",
		"imagefs.available": "15%", "imagefs.inodesFree": "5%",
	}
	for _, in := range []config.Input{{}, {Base: []byte(header)}, {Base: []byte(header), Dropins: []config.Document{}}} {
		res, err := config.Load(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := yaml.Marshal(res.Config)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := yaml.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		// Upstream's file comes from an object without TypeMeta set.
		got["apiVersion"], got["kind"] = config.APIVersion, config.Kind
		if d := diff("defaults", got, want); d != "" {
			t.Error(d)
		}
	}
}

// The three examples of "Kubelet Configuration Directory Merging" (seed
// section 5), verbatim but for the indentation the seed's text lost.
var seedExamples = []struct {
	name, base, dropin, want string
}{
	{
		name: "structure fields",
		base: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: "5m"
    cacheUnauthorizedTTL: "30s"
serializeImagePulls: false
address: "192.168.0.1"
`,
		dropin: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authorization:
  mode: AlwaysAllow
  webhook:
    cacheAuthorizedTTL: "8m"
    cacheUnauthorizedTTL: "45s"
address: "192.168.0.8"
`,
		want: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
serializeImagePulls: false
authorization:
  mode: AlwaysAllow
  webhook:
    cacheAuthorizedTTL: "8m"
    cacheUnauthorizedTTL: "45s"
address: "192.168.0.8"
`,
	},
	{
		name: "lists",
		base: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
serializeImagePulls: false
clusterDNS:
  - "192.168.0.9"
  - "192.168.0.8"
`,
		dropin: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
clusterDNS:
  - "192.168.0.2"
  - "192.168.0.3"
  - "192.168.0.5"
`,
		want: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
serializeImagePulls: false
clusterDNS:
  - "192.168.0.2"
  - "192.168.0.3"
  - "192.168.0.5"
`,
	},
	{
		name: "maps, including nested structures",
		base: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
serializeImagePulls: false
featureGates:
  AllAlpha: false
  MemoryQoS: true
staticPodURLHeader:
  kubelet-api-support:
    - "Authorization: 234APSDFA"
    - "X-Custom-Header: 123"
  custom-static-pod:
    - "Authorization: 223EWRWER"
    - "X-Custom-Header: 456"
`,
		dropin: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates:
  MemoryQoS: false
  KubeletTracing: true
  DynamicResourceAllocation: true
staticPodURLHeader:
  custom-static-pod:
    - "Authorization: 223EWRWER"
    - "X-Custom-Header: 345"
`,
		want: `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: 20250
serializeImagePulls: false
featureGates:
  AllAlpha: false
  MemoryQoS: false
  KubeletTracing: true
  DynamicResourceAllocation: true
staticPodURLHeader:
  kubelet-api-support:
    - "Authorization: 234APSDFA"
    - "X-Custom-Header: 123"
  custom-static-pod:
    - "Authorization: 223EWRWER"
    - "X-Custom-Header: 345"
`,
	},
}

// TestSeedExamples: base + drop-in gives exactly the documented result
// (with every other field at its default, as the kubelet would have it).
func TestSeedExamples(t *testing.T) {
	for _, ex := range seedExamples {
		t.Run(ex.name, func(t *testing.T) {
			got := load(t, ex.base, config.Document{Name: "10-dropin.conf", Data: []byte(ex.dropin)})
			want := decodeDefaulted(t, ex.want)
			if d := diff("merged configuration", got, want); d != "" {
				t.Error(d)
			}
		})
	}
	// Spot checks that do not depend on decodeDefaulted.
	c := load(t, seedExamples[0].base, config.Document{Name: "a.conf", Data: []byte(seedExamples[0].dropin)})
	if c.Port != 20250 || c.Address != "192.168.0.8" || c.Authorization.Mode != "AlwaysAllow" ||
		c.Authorization.Webhook.CacheAuthorizedTTL.Duration != 8*time.Minute || c.Authorization.Webhook.CacheUnauthorizedTTL.Duration != 45*time.Second ||
		*c.SerializeImagePulls {
		t.Errorf("example 1: %+v", c)
	}
	c = load(t, seedExamples[2].base, config.Document{Name: "a.conf", Data: []byte(seedExamples[2].dropin)})
	wantGates := map[string]bool{"AllAlpha": false, "MemoryQoS": false, "KubeletTracing": true, "DynamicResourceAllocation": true}
	if !reflect.DeepEqual(c.FeatureGates, wantGates) {
		t.Errorf("featureGates = %v, want %v", c.FeatureGates, wantGates)
	}
	if got := c.StaticPodURLHeader["custom-static-pod"]; !reflect.DeepEqual(got, []string{"Authorization: 223EWRWER", "X-Custom-Header: 345"}) {
		t.Errorf("staticPodURLHeader[custom-static-pod] = %v", got)
	}
	if got := c.StaticPodURLHeader["kubelet-api-support"]; len(got) != 2 {
		t.Errorf("staticPodURLHeader[kubelet-api-support] = %v, want kept", got)
	}
}

func doc(name, body string) config.Document {
	return config.Document{Name: name, Data: []byte(header + body)}
}

func TestMergeRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		base    string
		dropins []config.Document
		check   func(c *kubeletconfigv1beta1.KubeletConfiguration) string
	}{
		{"lexical order, later wins", header + "maxPods: 10\n",
			[]config.Document{doc("20-b.conf", "maxPods: 30\n"), doc("10-a.conf", "maxPods: 20\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("maxPods", c.MaxPods, int32(30))
			}},
		{"non-.conf names skipped", header + "maxPods: 10\n",
			[]config.Document{doc("99-z.yaml", "maxPods: 99\n"), doc("10-a.conf.bak", "maxPods: 98\n"), doc("10-a.conf", "maxPods: 20\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("maxPods", c.MaxPods, int32(20))
			}},
		{"subdirectory files in walk order", header,
			[]config.Document{doc("b-1.conf", "maxPods: 3\n"), doc("b/x.conf", "maxPods: 2\n"), doc("a.conf", "maxPods: 1\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string { return diff("maxPods", c.MaxPods, int32(3)) }},
		{"eviction map keys merge into the defaults", header,
			[]config.Document{doc("10.conf", "evictionHard: {memory.available: 500Mi}\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("evictionHard", c.EvictionHard, map[string]string{"memory.available": "500Mi", "nodefs.available": "10%",
					"nodefs.inodesFree": "5%", "imagefs.available": "15%", "imagefs.inodesFree": "5%"})
			}},
		{"base evictionHard replaces the defaults", header + "evictionHard: {memory.available: 1Gi}\n", nil,
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("evictionHard", c.EvictionHard, map[string]string{"memory.available": "1Gi"})
			}},
		{"mergeDefaultEvictionSettings", header + "mergeDefaultEvictionSettings: true\nevictionHard: {memory.available: 1Gi}\n", nil,
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("evictionHard", len(c.EvictionHard), 5)
			}},
		{"null deletes and is re-defaulted", header + "maxPods: 10\n",
			[]config.Document{doc("10.conf", "maxPods: null\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("maxPods", c.MaxPods, int32(110))
			}},
		{"report frequency defaulted from the base, not re-derived", header,
			[]config.Document{doc("10.conf", "nodeStatusUpdateFrequency: 20s\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("update", c.NodeStatusUpdateFrequency.Duration, 20*time.Second) +
					diff("report", c.NodeStatusReportFrequency.Duration, 5*time.Minute)
			}},
		{"report frequency follows an explicit update frequency in one file", header + "nodeStatusUpdateFrequency: 20s\n", nil,
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("report", c.NodeStatusReportFrequency.Duration, 20*time.Second)
			}},
		{"lists replaced whole", header + "allowedUnsafeSysctls: [kernel.msg*, net.core.somaxconn]\n",
			[]config.Document{doc("10.conf", "allowedUnsafeSysctls: [net.ipv4.route.min_pmtu]\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("sysctls", c.AllowedUnsafeSysctls, []string{"net.ipv4.route.min_pmtu"})
			}},
		{"JSON drop-in", header, []config.Document{{Name: "10.conf", Data: []byte(`{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","maxPods":7}`)}},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string { return diff("maxPods", c.MaxPods, int32(7)) }},
		{"drop-ins without a base", "", []config.Document{doc("10.conf", "systemReserved: {cpu: 500m}\nkubeReserved: {memory: 1Gi}\n")},
			func(c *kubeletconfigv1beta1.KubeletConfiguration) string {
				return diff("system", c.SystemReserved, map[string]string{"cpu": "500m"}) + diff("mode", c.Authorization.Mode, kubeletconfigv1beta1.KubeletAuthorizationModeWebhook)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := tc.check(load(t, tc.base, tc.dropins...)); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	res, err := config.Load(config.Input{Dropins: []config.Document{doc("b.txt", ""), doc("a.conf", ""), {Name: "README", Data: nil}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff("skipped", res.Skipped, []string{"README", "b.txt"}); d != "" {
		t.Error(d)
	}
}

// diff compares as JSON, so that a difference prints readably.
func diff[T any](what string, got, want T) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	return fmt.Sprintf("%s:\ngot  %s\nwant %s\n", what, g, w)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		base    string
		dropin  string
		dropinN string
		field   string
		msg     string
	}{
		{"empty drop-in", "", "", "10-a.conf", "", "empty"},
		{"whitespace drop-in", "", "  \n\n", "10-a.conf", "", "empty"},
		{"null drop-in", "", "~\n", "10-a.conf", "", "empty"},
		{"no apiVersion", "", "kind: KubeletConfiguration\nmaxPods: 3\n", "10-a.conf", "apiVersion", "required: must be kubelet.config.k8s.io/v1beta1"},
		{"no kind", "", "apiVersion: kubelet.config.k8s.io/v1beta1\n", "10-a.conf", "kind", "required: must be KubeletConfiguration"},
		{"wrong apiVersion", "", "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n", "10-a.conf", "apiVersion", `must be kubelet.config.k8s.io/v1beta1, not "kubelet.config.k8s.io/v1"`},
		{"wrong kind", "", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n", "10-a.conf", "kind", `not "KubeProxyConfiguration"`},
		{"not a mapping", "", "- a\n", "10-a.conf", "", "must be a mapping"},
		{"unknown field", "", header + "maxPod: 3\n", "10-a.conf", "maxPod", `unknown field "maxPod" (did you mean "maxPods"?)`},
		{"field case", "", header + "MaxPods: 3\n", "10-a.conf", "MaxPods", `unknown field "MaxPods" (did you mean "maxPods"?)`},
		{"nested unknown field", "", header + "authorization:\n  webhook:\n    cacheAuthorizedTtl: 5m\n", "10-a.conf", "authorization.webhook.cacheAuthorizedTtl", `unknown field "cacheAuthorizedTtl" (did you mean "cacheAuthorizedTTL"?)`},
		{"wrong type", "", header + "maxPods: many\n", "10-a.conf", "maxPods", `must be a whole number (int32), not a string`},
		{"wrong type bool", "", header + "failSwapOn: 3\n", "10-a.conf", "failSwapOn", `must be true or false, not a number`},
		{"bad duration", "", header + "nodeStatusUpdateFrequency: often\n", "10-a.conf", "nodeStatusUpdateFrequency", `invalid duration`},
		{"map value type", "", header + "evictionHard:\n  memory.available: [1]\n", "10-a.conf", "evictionHard[memory.available]", "must be a string, not a list"},
		{"duplicate key", "", header + "maxPods: 1\nmaxPods: 2\n", "10-a.conf", "", `not valid YAML`},
		{"bad YAML", "", header + "maxPods: [\n", "10-a.conf", "", `not valid YAML`},
		{"base unknown field", header + "foo: 1\n", "", "", "foo", `unknown field "foo"`},
		{"base empty", " ", "", "", "", "empty"},
		// Validation, blamed on the document that set the value.
		{"lease duration", "", header + "nodeLeaseDurationSeconds: -1\n", "10-a.conf", "nodeLeaseDurationSeconds", "invalid configuration: nodeLeaseDurationSeconds must be greater than 0"},
		{"update frequency", "", header + "nodeStatusUpdateFrequency: -10s\n", "10-a.conf", "nodeStatusUpdateFrequency", "must be greater than 0"},
		{"maxPods", header + "maxPods: -1\n", "", "", "maxPods", "invalid configuration: maxPods (--max-pods) -1 must not be a negative number"},
		{"port", "", header + "port: 70000\n", "10-a.conf", "port", "invalid configuration: port (--port) 70000 must be between 1 and 65535, inclusive"},
		{"authorization mode", "", header + "authorization: {mode: RBAC}\n", "10-a.conf", "authorization.mode", "unknown authorization mode RBAC"},
		{"unsafe sysctl not namespaced", "", header + "allowedUnsafeSysctls: [vm.swappiness]\n", "10-a.conf", "allowedUnsafeSysctls", `the sysctls "vm.swappiness" are not known to be namespaced`},
		{"unsafe sysctl bad pattern", "", header + "allowedUnsafeSysctls: [\"net.*.x\"]\n", "10-a.conf", "allowedUnsafeSysctls", `must have at most 253 characters and match regex`},
		{"reserved resource", "", header + "systemReserved: {gpu: \"1\"}\n", "10-a.conf", "systemReserved.gpu", `cannot reserve "gpu" resource`},
		{"eviction signal", "", header + "evictionHard: {memory.free: 1Gi}\n", "10-a.conf", "evictionHard[memory.free]", `unsupported eviction signal memory.free`},
		{"locked gate", "", header + "featureGates: {NodeSwap: false}\n", "10-a.conf", "featureGates.NodeSwap", "cannot set feature gate NodeSwap to false, feature is locked to true"},
		{"unknown gate", "", header + "featureGates: {ContainerCheckpiont: true}\n", "10-a.conf", "featureGates.ContainerCheckpiont",
			"unrecognized feature gate: ContainerCheckpiont (did you mean ContainerCheckpoint?)"},
		{"unknown gate in base", header + "featureGates: {containercheckpoint: false}\n", "", "", "featureGates.containercheckpoint",
			"unrecognized feature gate: containercheckpoint (did you mean ContainerCheckpoint?)"},
		{"unknown gate far from any", header + "featureGates: {Zzzzzzzzzzzzzzzz: true}\n", "", "", "featureGates.Zzzzzzzzzzzzzzzz", "unrecognized feature gate: Zzzzzzzzzzzzzzzz"},
		{"update frequency below the floor", "", header + "nodeStatusUpdateFrequency: 1ns\n", "10-a.conf", "nodeStatusUpdateFrequency", "must be at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := config.Input{}
			if tc.base != "" {
				in.Base = []byte(tc.base)
			}
			if tc.dropinN != "" {
				in.Dropins = []config.Document{{Name: tc.dropinN, Data: []byte(tc.dropin)}}
			}
			res, err := config.Load(in)
			if err == nil {
				t.Fatalf("no error; config %+v", res.Config)
			}
			var e *config.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *config.Error", err, err)
			}
			if e.Dropin != tc.dropinN || e.Field() != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got dropin %q field %q message %q\nwant dropin %q field %q message containing %q", e.Dropin, e.Field(), e.Message, tc.dropinN, tc.field, tc.msg)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Error() = %q lacks %q", err.Error(), tc.msg)
			}
		})
	}
}

// TestBlame: a bad value is blamed on the last document that set it.
func TestBlame(t *testing.T) {
	_, err := config.Load(config.Input{
		Base:    []byte(header + "maxPods: -1\n"),
		Dropins: []config.Document{doc("10.conf", "maxPods: -2\n"), doc("20.conf", "port: 1\n")},
	})
	var e *config.Error
	if !errors.As(err, &e) || e.Dropin != "10.conf" || e.Field() != "maxPods" {
		t.Fatalf("err = %v, want maxPods blamed on 10.conf", err)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("20-b.conf", header+"maxPods: 20\n")
	write("10-a.conf", header+"maxPods: 10\n")
	write("sub/30.conf", header+"maxPods: 30\n")
	write("notes.txt", "not a config")
	docs, err := config.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range docs {
		names = append(names, d.Name)
	}
	if d := diff("names", names, []string{"10-a.conf", "20-b.conf", "notes.txt", "sub/30.conf"}); d != "" {
		t.Error(d)
	}
	res, err := config.Load(config.Input{Dropins: docs})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config.MaxPods != 30 || len(res.Skipped) != 1 {
		t.Errorf("maxPods %d skipped %v", res.Config.MaxPods, res.Skipped)
	}
	if _, err := config.ReadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing directory: no error")
	}
}

// TestReadDirSpecialFiles checks that a FIFO, socket or device ending in
// .conf is refused without being opened (a FIFO with no writer would hang
// this test), and one not ending in .conf is skipped, also unopened.
func TestReadDirSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(p string) error
		what string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "a named pipe (FIFO)"},
		{"socket", func(p string) error { _, err := net.Listen("unix", p); return err }, "a socket"},
		{"device", func(p string) error { return os.Symlink("/dev/null", p) }, "a character device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "10-a.conf"), []byte(header+"maxPods: 10\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(filepath.Join(dir, "20-b.conf")); err != nil {
				t.Skipf("make %s: %v", tc.name, err)
			}
			_, err := config.ReadDir(dir)
			if err == nil || !strings.Contains(err.Error(), "20-b.conf is "+tc.what) {
				t.Fatalf("ReadDir = %v, want 20-b.conf refused as %s", err, tc.what)
			}
			if err := os.Rename(filepath.Join(dir, "20-b.conf"), filepath.Join(dir, "20-b.skip")); err != nil {
				t.Fatal(err)
			}
			docs, err := config.ReadDir(dir)
			if err != nil || len(docs) != 2 || docs[1].Name != "20-b.skip" || docs[1].Data != nil {
				t.Fatalf("ReadDir = %+v, %v; want the non-.conf file listed, unread", docs, err)
			}
			// The directory itself must be one.
			if _, err := config.ReadDir(filepath.Join(dir, "20-b.skip")); err == nil || !strings.Contains(err.Error(), "is "+tc.what+", not a directory") {
				t.Fatalf("ReadDir of %s = %v, want it refused", tc.what, err)
			}
		})
	}
}

func TestFeatureEnabled(t *testing.T) {
	if !config.FeatureEnabled(nil, config.GateContainerCheckpoint) || config.FeatureEnabled(map[string]bool{"ContainerCheckpoint": false}, config.GateContainerCheckpoint) {
		t.Error("ContainerCheckpoint: default on, off when set false")
	}
	if config.FeatureEnabled(nil, "NoSuchGate") {
		t.Error("unknown gate on")
	}
}

func TestFailCgroupV1ByRelease(t *testing.T) {
	for minor, want := range map[int]bool{0: true, 37: true, 35: true, 34: false, 28: false} {
		res, err := config.Load(config.Input{KubernetesMinor: minor})
		if err != nil || *res.Config.FailCgroupV1 != want {
			t.Errorf("1.%d: failCgroupV1 %v, %v; want %v", minor, *res.Config.FailCgroupV1, err, want)
		}
	}
	res, err := config.Load(config.Input{KubernetesMinor: 28, Base: []byte(header + "failCgroupV1: true\n")})
	if err != nil || !*res.Config.FailCgroupV1 {
		t.Errorf("explicit failCgroupV1 lost: %v", err)
	}
}

package defaults

import (
	"reflect"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func barePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
}

// defaultedBarePod is barePod as kube-apiserver stores it.
func defaultedBarePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:                     "c",
				Image:                    "nginx",
				ImagePullPolicy:          corev1.PullAlways,
				TerminationMessagePath:   "/dev/termination-log",
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			DNSPolicy:                     corev1.DNSClusterFirst,
			SchedulerName:                 "default-scheduler",
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			SecurityContext:               &corev1.PodSecurityContext{},
			EnableServiceLinks:            ptr.To(true),
		},
	}
}

func TestBarePod(t *testing.T) {
	pod := barePod()
	DefaultPod(pod)
	if want := defaultedBarePod(); !reflect.DeepEqual(pod, want) {
		t.Errorf("defaulted bare pod:\n got  %+v\n want %+v", pod, want)
	}
	// Defaulting is idempotent.
	again := pod.DeepCopy()
	DefaultPod(again)
	if !reflect.DeepEqual(pod, again) {
		t.Errorf("second defaulting changed the pod:\n%+v\n%+v", pod, again)
	}
}

func TestSetFieldsAreKept(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		DNSPolicy:                     corev1.DNSDefault,
		SchedulerName:                 "my-scheduler",
		TerminationGracePeriodSeconds: ptr.To[int64](5),
		SecurityContext:               &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000)},
		EnableServiceLinks:            ptr.To(false),
		Containers: []corev1.Container{{
			Name: "c", Image: "nginx",
			ImagePullPolicy:          corev1.PullNever,
			TerminationMessagePath:   "/tmp/msg",
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			Ports:                    []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}},
		}},
	}}
	want := pod.DeepCopy()
	DefaultPod(pod)
	if !reflect.DeepEqual(pod, want) {
		t.Errorf("set fields changed:\n got  %+v\n want %+v", pod.Spec, want.Spec)
	}
}

func TestImagePullPolicy(t *testing.T) {
	const sha = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cases := map[string]corev1.PullPolicy{
		"nginx":                                  corev1.PullAlways,
		"nginx:latest":                           corev1.PullAlways,
		"nginx:1.25":                             corev1.PullIfNotPresent,
		"nginx:LATEST":                           corev1.PullIfNotPresent,
		"nginx@" + sha:                           corev1.PullIfNotPresent,
		"nginx:latest@" + sha:                    corev1.PullAlways,
		"nginx:1.25@" + sha:                      corev1.PullIfNotPresent,
		"library/nginx":                          corev1.PullAlways,
		"docker.io/library/nginx:1.25":           corev1.PullIfNotPresent,
		"index.docker.io/nginx":                  corev1.PullAlways,
		"localhost/app":                          corev1.PullAlways,
		"localhost:5000/app":                     corev1.PullAlways,
		"localhost:5000/app:v1":                  corev1.PullIfNotPresent,
		"registry.k8s.io/pause:3.10":             corev1.PullIfNotPresent,
		"registry.example.com:5000/team/app":     corev1.PullAlways,
		"[::1]:5000/app:latest":                  corev1.PullAlways,
		"Example.com/app":                        corev1.PullAlways, // upper case is fine in a registry
		"quay.io/some_org/some-app__x.y:v2-rc.1": corev1.PullIfNotPresent,
		// References that do not parse get IfNotPresent.
		"":                     corev1.PullIfNotPresent,
		"Nginx":                corev1.PullIfNotPresent,
		"ghcr.io/Org/app":      corev1.PullIfNotPresent,
		"nginx:":               corev1.PullIfNotPresent,
		"nginx@sha256:abc":     corev1.PullIfNotPresent,
		"nginx@md5:" + sha[7:]: corev1.PullIfNotPresent,
		"nginx@" + strings.ToUpper(sha[:7]) + sha[7:]: corev1.PullIfNotPresent,
		sha[7:]:                             corev1.PullIfNotPresent, // a bare image ID
		"nginx:" + strings.Repeat("t", 129): corev1.PullIfNotPresent,
		// The repository path (without registry) may be 255 long.
		"a/" + strings.Repeat("b", 254):                      corev1.PullIfNotPresent,
		"a/" + strings.Repeat("b", 253):                      corev1.PullAlways,
		"registry.example.com/a/" + strings.Repeat("b", 253): corev1.PullAlways,
		strings.Repeat("c", 248):                             corev1.PullIfNotPresent, // "library/ccc…" is 256 long
		strings.Repeat("c", 247):                             corev1.PullAlways,
	}
	for image, want := range cases {
		pod := &corev1.Pod{Spec: corev1.PodSpec{
			InitContainers:      []corev1.Container{{Name: "i", Image: image}},
			Containers:          []corev1.Container{{Name: "c", Image: image}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e", Image: image}}},
			Volumes:             []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: image}}}},
		}}
		DefaultPod(pod)
		got := []corev1.PullPolicy{
			pod.Spec.InitContainers[0].ImagePullPolicy,
			pod.Spec.Containers[0].ImagePullPolicy,
			pod.Spec.EphemeralContainers[0].ImagePullPolicy,
			pod.Spec.Volumes[0].Image.PullPolicy,
		}
		for _, g := range got {
			if g != want {
				t.Errorf("image %q: pull policies %v, want %s", image, got, want)
				break
			}
		}
	}
}

func TestRequestsFromLimits(t *testing.T) {
	limits := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("500m"),
		corev1.ResourceMemory: resource.MustParse("128Mi"),
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "i", Image: "busybox:1", Resources: corev1.ResourceRequirements{Limits: limits.DeepCopy()}}},
		Containers: []corev1.Container{
			{Name: "only-limits", Image: "app:1", Resources: corev1.ResourceRequirements{Limits: limits.DeepCopy()}},
			{Name: "some-requests", Image: "app:1", Resources: corev1.ResourceRequirements{
				Limits:   limits.DeepCopy(),
				Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
			}},
			{Name: "none", Image: "app:1"},
		},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", Image: "busybox:1", Resources: corev1.ResourceRequirements{Limits: limits.DeepCopy()},
		}}},
	}}
	DefaultPod(pod)

	checkList := func(name string, got corev1.ResourceList, want map[corev1.ResourceName]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
			return
		}
		for k, v := range want {
			q, ok := got[k]
			if !ok || q.Cmp(resource.MustParse(v)) != 0 {
				t.Errorf("%s: %s = %v, want %s", name, k, got[k], v)
			}
		}
	}
	checkList("init requests", pod.Spec.InitContainers[0].Resources.Requests, map[corev1.ResourceName]string{"cpu": "500m", "memory": "128Mi"})
	checkList("only-limits requests", pod.Spec.Containers[0].Resources.Requests, map[corev1.ResourceName]string{"cpu": "500m", "memory": "128Mi"})
	checkList("some-requests requests", pod.Spec.Containers[1].Resources.Requests, map[corev1.ResourceName]string{"cpu": "500m", "memory": "64Mi"})
	if r := pod.Spec.Containers[2].Resources; r.Requests != nil || r.Limits != nil {
		t.Errorf("container without resources got %+v", r)
	}
	if r := pod.Spec.EphemeralContainers[0].Resources.Requests; r != nil {
		t.Errorf("ephemeral container requests defaulted: %v", r)
	}

	// The copied request is a copy, not the limit itself.
	q := pod.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]
	q.Add(resource.MustParse("1"))
	pod.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = q
	if l := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]; l.Cmp(resource.MustParse("500m")) != 0 {
		t.Errorf("changing a defaulted request changed the limit to %v", l.String())
	}
}

func TestResourcesRoundUpToMilli(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "app:1", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.0001")},
		}}},
		Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1.0001")},
	}}
	DefaultPod(pod)
	for name, got := range map[string]resource.Quantity{
		"limit":   pod.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU],
		"request": pod.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU],
	} {
		if got.String() != "1m" {
			t.Errorf("%s = %s, want 1m", name, got.String())
		}
	}
	if got := pod.Spec.Overhead[corev1.ResourceCPU]; got.String() != "1001m" {
		t.Errorf("overhead = %s, want 1001m", got.String())
	}
}

func TestContainerDetails(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name: "c", Image: "app:1",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9090, HostPort: 19090, Protocol: corev1.ProtocolSCTP}},
			Env: []corev1.EnvVar{
				{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: "KEY", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "v", Path: "p", Key: "k"}}},
				{Name: "PLAIN", Value: "x"},
			},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}},
				PeriodSeconds: 3,
			},
			StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}},
			Lifecycle: &corev1.Lifecycle{
				PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/quit", Port: intstr.FromInt32(8080)}},
			},
		}},
	}}
	DefaultPod(pod)
	c := pod.Spec.Containers[0]

	wantPorts := []corev1.ContainerPort{
		{ContainerPort: 8080, HostPort: 8080, Protocol: corev1.ProtocolTCP},
		{ContainerPort: 9090, HostPort: 19090, Protocol: corev1.ProtocolSCTP},
	}
	if !reflect.DeepEqual(c.Ports, wantPorts) {
		t.Errorf("ports = %+v, want %+v", c.Ports, wantPorts)
	}
	if got := c.Env[0].ValueFrom.FieldRef.APIVersion; got != "v1" {
		t.Errorf("fieldRef apiVersion = %q, want v1", got)
	}
	if got := c.Env[1].ValueFrom.FileKeyRef.Optional; got == nil || *got {
		t.Errorf("fileKeyRef optional = %v, want false", got)
	}
	wantLiveness := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds:   1,
		PeriodSeconds:    10,
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}
	if !reflect.DeepEqual(c.LivenessProbe, wantLiveness) {
		t.Errorf("liveness = %+v, want %+v", c.LivenessProbe, wantLiveness)
	}
	if p := c.ReadinessProbe; p.PeriodSeconds != 3 || p.TimeoutSeconds != 1 || p.GRPC.Service == nil || *p.GRPC.Service != "" {
		t.Errorf("readiness = %+v", p)
	}
	if p := c.StartupProbe; p.FailureThreshold != 3 || p.HTTPGet != nil {
		t.Errorf("startup = %+v", p)
	}
	if h := c.Lifecycle.PreStop.HTTPGet; h.Path != "/quit" || h.Scheme != corev1.URISchemeHTTP {
		t.Errorf("preStop httpGet = %+v", h)
	}
}

func TestPodSpecDetails(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		DeprecatedServiceAccount:      "legacy",
		TerminationGracePeriodSeconds: ptr.To[int64](-5),
		Containers:                    []corev1.Container{{Name: "c", Image: "app:1"}},
	}}
	DefaultPod(pod)
	if pod.Spec.ServiceAccountName != "legacy" || pod.Spec.DeprecatedServiceAccount != "legacy" {
		t.Errorf("service account = %q/%q, want legacy/legacy", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; *g != 1 {
		t.Errorf("negative grace period became %d, want 1", *g)
	}

	pod = &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "new", DeprecatedServiceAccount: "old"}}
	DefaultPod(pod)
	if pod.Spec.ServiceAccountName != "new" || pod.Spec.DeprecatedServiceAccount != "new" {
		t.Errorf("service account = %q/%q, want new/new", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
}

func TestVolumes(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "empty"},
		{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
		{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{DefaultMode: ptr.To[int32](0o400)}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
		{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
			}}},
		}}}},
		{Name: "podinfo", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels"}},
		}}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
			VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: corev1.PersistentVolumeClaimSpec{
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			}},
		}}},
		{Name: "img", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "quay.io/data:v1", PullPolicy: corev1.PullNever}}},
	}}}
	DefaultPod(pod)
	v := pod.Spec.Volumes

	if v[0].EmptyDir == nil {
		t.Errorf("volume without source: %+v, want emptyDir", v[0].VolumeSource)
	}
	if m := v[1].Secret.DefaultMode; m == nil || *m != 0o644 {
		t.Errorf("secret defaultMode = %v, want 0644", m)
	}
	if m := v[2].ConfigMap.DefaultMode; *m != 0o400 {
		t.Errorf("configMap defaultMode = %o, want the given 0400", *m)
	}
	if ty := v[3].HostPath.Type; ty == nil || *ty != corev1.HostPathUnset {
		t.Errorf("hostPath type = %v, want \"\"", ty)
	}
	p := v[4].Projected
	if p.DefaultMode == nil || *p.DefaultMode != 0o644 {
		t.Errorf("projected defaultMode = %v", p.DefaultMode)
	}
	if e := p.Sources[0].ServiceAccountToken.ExpirationSeconds; e == nil || *e != 3600 {
		t.Errorf("token expirationSeconds = %v, want 3600", e)
	}
	if a := p.Sources[1].DownwardAPI.Items[0].FieldRef.APIVersion; a != "v1" {
		t.Errorf("projected downward API fieldRef apiVersion = %q", a)
	}
	if m := v[5].DownwardAPI.DefaultMode; m == nil || *m != 0o644 {
		t.Errorf("downwardAPI defaultMode = %v", m)
	}
	if m := v[6].Ephemeral.VolumeClaimTemplate.Spec.VolumeMode; m == nil || *m != corev1.PersistentVolumeFilesystem {
		t.Errorf("ephemeral claim volumeMode = %v", m)
	}
	if pp := v[7].Image.PullPolicy; pp != corev1.PullNever {
		t.Errorf("image volume pull policy = %s, want the given Never", pp)
	}
	for i := range v[:7] {
		if v[i].Image != nil {
			t.Errorf("volume %s got an image source", v[i].Name)
		}
	}
}

func TestPodStatusIPs(t *testing.T) {
	cases := []struct {
		ip      string
		ips     []string
		wantIP  string
		wantIPs []string
	}{
		{ip: "10.0.0.1", wantIP: "10.0.0.1", wantIPs: []string{"10.0.0.1"}},
		{ips: []string{"10.0.0.2", "fd00::2"}, wantIP: "10.0.0.2", wantIPs: []string{"10.0.0.2", "fd00::2"}},
		{ip: "10.0.0.3", ips: []string{"10.0.0.9", "fd00::9"}, wantIP: "10.0.0.3", wantIPs: []string{"10.0.0.3"}},
		{ip: "10.0.0.4", ips: []string{"10.0.0.4", "fd00::4"}, wantIP: "10.0.0.4", wantIPs: []string{"10.0.0.4", "fd00::4"}},
		{},
	}
	for _, c := range cases {
		pod := &corev1.Pod{Status: corev1.PodStatus{PodIP: c.ip}}
		for _, ip := range c.ips {
			pod.Status.PodIPs = append(pod.Status.PodIPs, corev1.PodIP{IP: ip})
		}
		DefaultPod(pod)
		var ips []string
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		if pod.Status.PodIP != c.wantIP || !reflect.DeepEqual(ips, c.wantIPs) {
			t.Errorf("podIP %q podIPs %v -> %q %v, want %q %v", c.ip, c.ips, pod.Status.PodIP, ips, c.wantIP, c.wantIPs)
		}
	}
}

func TestNode(t *testing.T) {
	node := &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}}}
	DefaultNode(node)
	if !reflect.DeepEqual(node.Status.Allocatable, node.Status.Capacity) {
		t.Errorf("allocatable = %v, want capacity %v", node.Status.Allocatable, node.Status.Capacity)
	}
	node.Status.Capacity[corev1.ResourcePods] = resource.MustParse("1")
	if q := node.Status.Allocatable[corev1.ResourcePods]; q.String() != "110" {
		t.Errorf("allocatable shares capacity's map: pods = %s", q.String())
	}
	if node.Status.Phase != "" || node.Status.Conditions != nil {
		t.Errorf("unexpected node status defaults: %+v", node.Status)
	}

	given := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3500m")}
	node = &corev1.Node{Status: corev1.NodeStatus{
		Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
		Allocatable: given.DeepCopy(),
	}}
	DefaultNode(node)
	if !reflect.DeepEqual(node.Status.Allocatable, given) {
		t.Errorf("set allocatable changed to %v", node.Status.Allocatable)
	}

	node = &corev1.Node{}
	DefaultNode(node)
	if node.Status.Allocatable != nil {
		t.Errorf("allocatable defaulted without capacity: %v", node.Status.Allocatable)
	}
}

func TestNamespace(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"owner": "a"}}}
	DefaultNamespace(ns)
	if want := map[string]string{"owner": "a", "kubernetes.io/metadata.name": "team-a"}; !reflect.DeepEqual(ns.Labels, want) {
		t.Errorf("labels = %v, want %v", ns.Labels, want)
	}
	if ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("phase = %q, want Active", ns.Status.Phase)
	}
	if ns.Spec.Finalizers != nil {
		t.Errorf("finalizers defaulted: %v (the strategy adds them, not defaulting)", ns.Spec.Finalizers)
	}

	ns = &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "tmp-", Labels: map[string]string{"kubernetes.io/metadata.name": "wrong"}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
	DefaultNamespace(ns)
	if ns.Labels["kubernetes.io/metadata.name"] != "wrong" || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("nameless namespace: labels %v phase %q", ns.Labels, ns.Status.Phase)
	}
	ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"kubernetes.io/metadata.name": "wrong"}}}
	DefaultNamespace(ns)
	if ns.Labels["kubernetes.io/metadata.name"] != "x" {
		t.Errorf("metadata.name label not corrected: %v", ns.Labels)
	}
}

func TestNilObjects(t *testing.T) {
	DefaultPod(nil)
	DefaultPodList(nil)
	DefaultNode(nil)
	DefaultNodeList(nil)
	DefaultNamespace(nil)
	DefaultNamespaceList(nil)
	if err := RegisterDefaults(nil); err == nil {
		t.Error("RegisterDefaults(nil): no error")
	}
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := coordinationv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := RegisterDefaults(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

func TestRegisterDefaults(t *testing.T) {
	scheme := newScheme(t)

	pod := barePod()
	scheme.Default(pod)
	if want := defaultedBarePod(); !reflect.DeepEqual(pod, want) {
		t.Errorf("scheme.Default(pod):\n got  %+v\n want %+v", pod, want)
	}

	list := &corev1.PodList{Items: []corev1.Pod{*barePod(), *barePod()}}
	scheme.Default(list)
	for i := range list.Items {
		if want := defaultedBarePod(); !reflect.DeepEqual(&list.Items[i], want) {
			t.Errorf("scheme.Default(podList) item %d: %+v", i, list.Items[i])
		}
	}

	node := &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}
	nodes := &corev1.NodeList{Items: []corev1.Node{*node.DeepCopy()}}
	scheme.Default(node)
	scheme.Default(nodes)
	for _, n := range []corev1.Node{*node, nodes.Items[0]} {
		if q := n.Status.Allocatable[corev1.ResourceCPU]; q.String() != "2" {
			t.Errorf("node allocatable cpu = %q, want 2", q.String())
		}
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	nsList := &corev1.NamespaceList{Items: []corev1.Namespace{*ns.DeepCopy()}}
	scheme.Default(ns)
	scheme.Default(nsList)
	for _, n := range []corev1.Namespace{*ns, nsList.Items[0]} {
		if n.Status.Phase != corev1.NamespaceActive || n.Labels["kubernetes.io/metadata.name"] != "n" {
			t.Errorf("namespace not defaulted: %+v", n)
		}
	}

	// Events and leases have no defaults.
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e"}}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l"}}
	wantEvent, wantLease := event.DeepCopy(), lease.DeepCopy()
	scheme.Default(event)
	scheme.Default(lease)
	if !reflect.DeepEqual(event, wantEvent) || !reflect.DeepEqual(lease, wantLease) {
		t.Errorf("event or lease changed by defaulting: %+v %+v", event, lease)
	}
}

// TestDecodeDefaults checks the path the API server takes: decoding a
// request body into the v1 type through a codec that defaults.
func TestDecodeDefaults(t *testing.T) {
	scheme := newScheme(t)
	codecs := serializer.NewCodecFactory(scheme)
	decoder := codecs.DecoderToVersion(codecs.UniversalDeserializer(), corev1.SchemeGroupVersion)
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},
		"spec":{"containers":[{"name":"c","image":"nginx:1.25","ports":[{"containerPort":80}]}]}}`
	obj, _, err := decoder.Decode([]byte(body), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		t.Fatalf("decoded %T, want *v1.Pod", obj)
	}
	c := pod.Spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent || c.Ports[0].Protocol != corev1.ProtocolTCP ||
		pod.Spec.RestartPolicy != corev1.RestartPolicyAlways || pod.Spec.SchedulerName != "default-scheduler" {
		t.Errorf("decoded pod not defaulted: %+v", pod.Spec)
	}
}

package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "web-0",
			Namespace:       "default",
			ResourceVersion: "3",
			Labels:          map[string]string{"app": "web"},
		},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{
				Name:  "init",
				Image: "busybox:1.36",
				Ports: []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}},
			}},
			Containers: []corev1.Container{{
				Name:                     "app",
				Image:                    "nginx:1.27",
				ImagePullPolicy:          corev1.PullIfNotPresent,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				Ports: []corev1.ContainerPort{
					{Name: "http", ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolTCP},
					{Name: "dns", ContainerPort: 53, HostPort: 8080, Protocol: corev1.ProtocolUDP},
				},
				Env: []corev1.EnvVar{{Name: "MODE", Value: "sim"}, {Name: "my.setting-1", Value: "x"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("100m"),
						corev1.ResourceMemory: resource.MustParse("128Mi"),
						"example.com/gpu":     resource.MustParse("1"),
					},
					Limits: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("500m"),
						corev1.ResourceMemory: resource.MustParse("256Mi"),
						"example.com/gpu":     resource.MustParse("1"),
					},
				},
			}, {
				Name:  "sidecar",
				Image: "envoy:1.30",
			}},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			DNSPolicy:                     corev1.DNSClusterFirst,
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
			ServiceAccountName:            "default",
			PriorityClassName:             "system-node-critical",
			Priority:                      ptr.To[int32](2000001000),
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: "example.com/dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule},
			},
			SecurityContext: &corev1.PodSecurityContext{
				Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: "1024 65535"}, {Name: "kernel/shm_rmid_forced", Value: "1"}},
			},
		},
	}
}

func TestValidatePod(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []want
	}{
		{name: "valid", mutate: func(*corev1.Pod) {}},
		{name: "fields kube-apiserver defaults may be empty", mutate: func(p *corev1.Pod) {
			p.Spec = corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			}}}
		}},
		{name: "namespace missing", mutate: func(p *corev1.Pod) { p.Namespace = "" },
			want: []want{required("metadata.namespace")}},
		{name: "namespace not a DNS label", mutate: func(p *corev1.Pod) { p.Namespace = "a.b" },
			want: []want{invalid("metadata.namespace")}},
		{name: "name not a DNS subdomain", mutate: func(p *corev1.Pod) { p.Name = "Web_0" },
			want: []want{invalid("metadata.name")}},
		{name: "invalid label", mutate: func(p *corev1.Pod) { p.Labels["app"] = "-web" },
			want: []want{invalid("metadata.labels")}},

		// Containers.
		{name: "no containers", mutate: func(p *corev1.Pod) { p.Spec.Containers = nil },
			want: []want{required("spec.containers")}},
		{name: "container name missing", mutate: func(p *corev1.Pod) { p.Spec.Containers[1].Name = "" },
			want: []want{required("spec.containers[1].name")}},
		{name: "container name not a DNS label", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Name = "App_1" },
			want: []want{invalid("spec.containers[0].name")}},
		{name: "duplicate container name", mutate: func(p *corev1.Pod) { p.Spec.Containers[1].Name = "app" },
			want: []want{duplicate("spec.containers[1].name")}},
		{name: "init container named like a container", mutate: func(p *corev1.Pod) { p.Spec.InitContainers[0].Name = "sidecar" },
			want: []want{duplicate("spec.initContainers[0].name")}},
		{name: "duplicate init container name", mutate: func(p *corev1.Pod) {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init", Image: "busybox"})
		}, want: []want{duplicate("spec.initContainers[1].name")}},
		{name: "image missing", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			want: []want{required("spec.containers[0].image")}},
		{name: "init image missing", mutate: func(p *corev1.Pod) { p.Spec.InitContainers[0].Image = "" },
			want: []want{required("spec.initContainers[0].image")}},
		{name: "image with surrounding whitespace", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" },
			want: []want{invalid("spec.containers[0].image").withDetail("must not have leading or trailing whitespace")}},
		{name: "unknown imagePullPolicy", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" },
			want: []want{notSupported("spec.containers[0].imagePullPolicy")}},
		{name: "unknown terminationMessagePolicy", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].TerminationMessagePolicy = "Log" },
			want: []want{notSupported("spec.containers[0].terminationMessagePolicy")}},
		{name: "sidecar init container", mutate: func(p *corev1.Pod) {
			p.Spec.InitContainers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		}},
		{name: "unknown container restartPolicy", mutate: func(p *corev1.Pod) {
			p.Spec.InitContainers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicy("Sometimes"))
		}, want: []want{notSupported("spec.initContainers[0].restartPolicy")}},
		{name: "restart rules without restartPolicy", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].RestartPolicyRules = []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestart}}
		}, want: []want{required("spec.containers[0].restartPolicy")}},
		{name: "env var name missing", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Env[0].Name = "" },
			want: []want{required("spec.containers[0].env[0].name")}},
		{name: "env var name with =", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Env[1].Name = "A=B" },
			want: []want{invalid("spec.containers[0].env[1].name")}},

		// Ports.
		{name: "containerPort missing", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 },
			want: []want{required("spec.containers[0].ports[0].containerPort")}},
		{name: "containerPort out of range", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 },
			want: []want{invalid("spec.containers[0].ports[0].containerPort").withDetail("between 1 and 65535")}},
		{name: "hostPort out of range", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[1].HostPort = -1 },
			want: []want{invalid("spec.containers[0].ports[1].hostPort")}},
		{name: "unknown protocol", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "HTTP" },
			want: []want{notSupported("spec.containers[0].ports[0].protocol")}},
		{name: "invalid port name", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "http_port" },
			want: []want{invalid("spec.containers[0].ports[0].name")}},
		{name: "duplicate port name", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[1].Name = "http" },
			want: []want{duplicate("spec.containers[0].ports[1].name")}},
		{name: "host port used by two containers", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Ports = []corev1.ContainerPort{{ContainerPort: 81, HostPort: 8080, Protocol: corev1.ProtocolTCP}}
		}, want: []want{duplicate("spec.containers[1].ports[0].hostPort")}},
		{name: "host port clash with the default protocol", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Ports = []corev1.ContainerPort{{ContainerPort: 81, HostPort: 8080}}
		}, want: []want{duplicate("spec.containers[1].ports[0].hostPort")}},
		{name: "same host port on another host IP", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Ports = []corev1.ContainerPort{{ContainerPort: 81, HostPort: 8080, HostIP: "10.0.0.1"}}
		}},
		{name: "host port used twice in one init container", mutate: func(p *corev1.Pod) {
			p.Spec.InitContainers[0].Ports = append(p.Spec.InitContainers[0].Ports, corev1.ContainerPort{ContainerPort: 9090, HostPort: 8080})
		}, want: []want{duplicate("spec.initContainers[0].ports[1].hostPort")}},
		{name: "init containers may reuse each other's host ports", mutate: func(p *corev1.Pod) {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{
				Name: "init-2", Image: "busybox", Ports: []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}},
			})
		}},

		// Resources.
		{name: "unknown unprefixed resource", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Resources.Limits = corev1.ResourceList{"foo": resource.MustParse("1")}
		},
			want: []want{
				invalid("spec.containers[1].resources.limits[foo]").withDetail("must be a standard resource type or fully qualified"),
				invalid("spec.containers[1].resources.limits[foo]").withDetail("must be a standard resource for containers"),
			}},
		{name: "standard resource not for containers", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Resources.Requests = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
		}, want: []want{invalid("spec.containers[1].resources.requests[pods]").withDetail("must be a standard resource for containers")}},
		{name: "resource name not a qualified name", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Resources.Limits = corev1.ResourceList{"example.com/bad name": resource.MustParse("1")}
		}, want: []want{
			invalid("spec.containers[1].resources.limits[example.com/bad name]").withDetail("name part"),
			invalid("spec.containers[1].resources.limits[example.com/bad name]").withDetail("doesn't follow extended resource name standard"),
		}},
		{name: "kubernetes.io resource is native", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Resources.Requests = corev1.ResourceList{"kubernetes.io/widget": resource.MustParse("500m")}
		}},
		{name: "hugepages with cpu", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[1].Resources.Limits = corev1.ResourceList{"hugepages-2Mi": resource.MustParse("4Mi"), corev1.ResourceCPU: resource.MustParse("1")}
			p.Spec.Containers[1].Resources.Requests = corev1.ResourceList{"hugepages-2Mi": resource.MustParse("4Mi")}
		}},
		{name: "negative request", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("-1")
		},
			want: []want{invalid("spec.containers[0].resources.requests[memory]").withDetail("must be greater than or equal to 0")}},
		{name: "negative limit", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("-1")
		},
			want: []want{
				invalid("spec.containers[0].resources.limits[cpu]"),
				invalid("spec.containers[0].resources.requests").withDetail("must be less than or equal to cpu limit of -1"),
			}},
		{name: "request above limit", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
		},
			want: []want{invalid("spec.containers[0].resources.requests").withDetail("must be less than or equal to cpu limit of 500m")}},
		{name: "extended resource request below limit", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = resource.MustParse("2")
		},
			want: []want{invalid("spec.containers[0].resources.requests").withDetail("must be equal to example.com/gpu limit of 2")}},
		{name: "extended resource request without limit", mutate: func(p *corev1.Pod) { delete(p.Spec.Containers[0].Resources.Limits, "example.com/gpu") },
			want: []want{required("spec.containers[0].resources.limits").withDetail("Limit must be set for non overcommitable resources")}},
		{name: "fractional extended resource", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse("500m")
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = resource.MustParse("500m")
		}, want: []want{
			invalid("spec.containers[0].resources.requests[example.com/gpu]").withDetail("must be an integer"),
			invalid("spec.containers[0].resources.limits[example.com/gpu]").withDetail("must be an integer"),
		}},

		// Pod-level fields.
		{name: "unknown restartPolicy", mutate: func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" },
			want: []want{notSupported("spec.restartPolicy")}},
		{name: "unknown dnsPolicy", mutate: func(p *corev1.Pod) { p.Spec.DNSPolicy = "Cluster" },
			want: []want{notSupported("spec.dnsPolicy")}},
		{name: "unknown preemptionPolicy", mutate: func(p *corev1.Pod) { p.Spec.PreemptionPolicy = ptr.To(corev1.PreemptionPolicy("Always")) },
			want: []want{notSupported("spec.preemptionPolicy")}},
		{name: "empty preemptionPolicy", mutate: func(p *corev1.Pod) { p.Spec.PreemptionPolicy = ptr.To(corev1.PreemptionPolicy("")) },
			want: []want{required("spec.preemptionPolicy")}},
		{name: "negative terminationGracePeriodSeconds", mutate: func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1) },
			want: []want{invalid("spec.terminationGracePeriodSeconds")}},
		{name: "zero activeDeadlineSeconds", mutate: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](0) },
			want: []want{invalid("spec.activeDeadlineSeconds").withDetail("between 1 and 2147483647")}},
		{name: "invalid nodeSelector key", mutate: func(p *corev1.Pod) { p.Spec.NodeSelector["bad key"] = "x" },
			want: []want{invalid("spec.nodeSelector")}},
		{name: "invalid nodeSelector value", mutate: func(p *corev1.Pod) { p.Spec.NodeSelector["zone"] = "a b" },
			want: []want{invalid("spec.nodeSelector")}},
		{name: "nodeName not a DNS subdomain", mutate: func(p *corev1.Pod) { p.Spec.NodeName = "Node_1" },
			want: []want{invalid("spec.nodeName")}},
		{name: "serviceAccountName not a DNS subdomain", mutate: func(p *corev1.Pod) { p.Spec.ServiceAccountName = "Default" },
			want: []want{invalid("spec.serviceAccountName")}},
		{name: "priorityClassName not a DNS subdomain", mutate: func(p *corev1.Pod) { p.Spec.PriorityClassName = "high_priority" },
			want: []want{invalid("spec.priorityClassName")}},
		{name: "hostname not a DNS label", mutate: func(p *corev1.Pod) { p.Spec.Hostname = "web.0" },
			want: []want{invalid("spec.hostname")}},
		{name: "subdomain not a DNS label", mutate: func(p *corev1.Pod) { p.Spec.Subdomain = "Web" },
			want: []want{invalid("spec.subdomain")}},
		{name: "runtimeClassName not a DNS subdomain", mutate: func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr.To("gVisor") },
			want: []want{invalid("spec.runtimeClassName")}},
		{name: "invalid scheduling gate", mutate: func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "bad gate"}} },
			want: []want{invalid("spec.schedulingGates[0]")}},
		{name: "duplicate scheduling gate", mutate: func(p *corev1.Pod) {
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}, {Name: "example.com/wait"}}
		}, want: []want{duplicate("spec.schedulingGates[1]")}},
		{name: "nodeName with scheduling gates", mutate: func(p *corev1.Pod) {
			p.Spec.NodeName = "node-1"
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
		}, want: []want{forbidden("spec.nodeName").withDetail("cannot be set until all schedulingGates have been cleared")}},
		{name: "ephemeral containers on create", mutate: func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, want: []want{forbidden("spec.ephemeralContainers")}},
		{name: "mirror pod bound to a node", mutate: func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
			p.Spec.NodeName = "node-1"
		}},
		{name: "mirror pod without nodeName", mutate: func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"} },
			want: []want{invalid("metadata.annotations[kubernetes.io/config.mirror]").withDetail("must set spec.nodeName")}},

		// Tolerations.
		{name: "toleration matching everything", mutate: func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}},
		{name: "toleration with default operator", mutate: func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Value: "v"}}
		}},
		{name: "toleration key not a qualified name", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Key = "bad key" },
			want: []want{invalid("spec.tolerations[1].key")}},
		{name: "toleration without key must use Exists", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Key = "" },
			want: []want{invalid("spec.tolerations[1].operator").withDetail("operator must be Exists when `key` is empty")}},
		{name: "unknown toleration operator", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Operator = "In" },
			want: []want{notSupported("spec.tolerations[1].operator")}},
		{name: "comparison operator is not enabled", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Operator = corev1.TolerationOpGt },
			want: []want{notSupported("spec.tolerations[1].operator")}},
		{name: "Exists with a value", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[0].Value = "x" },
			want: []want{invalid("spec.tolerations[0].operator").withDetail("value must be empty when `operator` is 'Exists'")}},
		{name: "Equal with an invalid value", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Value = "bad value" },
			want: []want{invalid("spec.tolerations[1].operator")}},
		{name: "tolerationSeconds without NoExecute", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].TolerationSeconds = ptr.To[int64](60) },
			want: []want{invalid("spec.tolerations[1].effect").withDetail("effect must be 'NoExecute' when `tolerationSeconds` is set")}},
		{name: "unknown toleration effect", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Effect = "NoAdmit" },
			want: []want{notSupported("spec.tolerations[1].effect")}},
		{name: "empty toleration effect matches all", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Effect = "" }},

		// Sysctls.
		{name: "sysctl name missing", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.Sysctls[0].Name = "" },
			want: []want{required("spec.securityContext.sysctls[0].name")}},
		{name: "sysctl name malformed", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.Sysctls[1].Name = "Kernel.SHM" },
			want: []want{invalid("spec.securityContext.sysctls[1].name").withDetail("must have at most 253 characters and match regex")}},
		{name: "sysctl name too long", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.Sysctls[1].Name = "kernel." + strings.Repeat("a", 250) },
			want: []want{invalid("spec.securityContext.sysctls[1].name")}},
		{name: "duplicate sysctl", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.Sysctls[1].Name = "net.ipv4.ip_local_port_range" },
			want: []want{duplicate("spec.securityContext.sysctls[1].name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := validPod()
			tt.mutate(pod)
			expectErrors(t, ValidatePod(pod), tt.want...)
		})
	}
}

const podUpdateForbiddenPrefix = "pod updates may not change fields other than " +
	"`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`," +
	"`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"

func TestValidatePodUpdate(t *testing.T) {
	specForbidden := forbidden("spec").withDetail(podUpdateForbiddenPrefix)
	tests := []struct {
		name   string
		old    func(*corev1.Pod)
		mutate func(*corev1.Pod)
		want   []want
	}{
		{name: "unchanged", mutate: func(*corev1.Pod) {}},
		{name: "labels and annotations may change", mutate: func(p *corev1.Pod) {
			p.Labels["tier"] = "front"
			p.Annotations = map[string]string{"example.com/note": "x"}
		}},
		{name: "resourceVersion missing", mutate: func(p *corev1.Pod) { p.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
		{name: "namespace changed", mutate: func(p *corev1.Pod) { p.Namespace = "other" },
			want: []want{invalid("metadata.namespace").withDetail("field is immutable")}},
		{name: "invalid label", mutate: func(p *corev1.Pod) { p.Labels["bad key"] = "x" },
			want: []want{invalid("metadata.labels")}},
		{name: "images may change", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Image = "nginx:1.28"
			p.Spec.InitContainers[0].Image = "busybox:1.37"
		}},
		{name: "new image must be valid", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28 " },
			want: []want{invalid("spec.containers[0].image")}},
		{name: "activeDeadlineSeconds set", mutate: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](600) }},
		{name: "activeDeadlineSeconds lowered", old: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](600) },
			mutate: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](300) }},
		{name: "activeDeadlineSeconds raised", old: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](300) },
			mutate: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](600) },
			want:   []want{invalid("spec.activeDeadlineSeconds").withDetail("must be less than or equal to previous value")}},
		{name: "activeDeadlineSeconds unset", old: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](300) },
			mutate: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil },
			want:   []want{invalid("spec.activeDeadlineSeconds").withDetail("must not update from a positive integer to nil value")}},
		{name: "activeDeadlineSeconds negative", mutate: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](-5) },
			want: []want{
				invalid("spec.activeDeadlineSeconds").withDetail("between 1 and"),
				invalid("spec.activeDeadlineSeconds").withDetail("between 0 and"),
			}},
		{name: "toleration added", mutate: func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "example.com/spot", Operator: corev1.TolerationOpExists})
		}},
		{name: "tolerationSeconds changed", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptr.To[int64](60) }},
		{name: "toleration removed", mutate: func(p *corev1.Pod) { p.Spec.Tolerations = p.Spec.Tolerations[1:] },
			want: []want{forbidden("spec.tolerations").withDetail("existing toleration can not be modified except its tolerationSeconds")}},
		{name: "toleration modified", mutate: func(p *corev1.Pod) { p.Spec.Tolerations[1].Value = "other" },
			want: []want{forbidden("spec.tolerations")}},
		{name: "terminationGracePeriodSeconds raised from negative to 1", old: func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1) },
			mutate: func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](1) }},
		{name: "terminationGracePeriodSeconds changed", mutate: func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](60) },
			want: []want{specForbidden}},
		{name: "scheduling gate removed", old: func(p *corev1.Pod) {
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}, {Name: "example.com/b"}}
		}, mutate: func(p *corev1.Pod) { p.Spec.SchedulingGates = p.Spec.SchedulingGates[1:] }},
		{name: "scheduling gate added", old: func(p *corev1.Pod) {
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}}
		}, mutate: func(p *corev1.Pod) {
			p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "example.com/b"})
		}, want: []want{forbidden("spec.schedulingGates[1].name").withDetail("only deletion is allowed, but found new scheduling gate 'example.com/b'")}},
		{name: "nodeName set by update", mutate: func(p *corev1.Pod) { p.Spec.NodeName = "node-1" },
			want: []want{specForbidden}},
		{name: "nodeName changed", old: func(p *corev1.Pod) { p.Spec.NodeName = "node-1" },
			mutate: func(p *corev1.Pod) { p.Spec.NodeName = "node-2" },
			want:   []want{specForbidden}},
		{name: "resources changed", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("1")
		},
			want: []want{specForbidden}},
		{name: "restartPolicy changed", mutate: func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want: []want{specForbidden}},
		{name: "container added", mutate: func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "extra", Image: "busybox"})
		}, want: []want{forbidden("spec.containers").withDetail("pod updates may not add or remove containers")}},
		{name: "init container removed", mutate: func(p *corev1.Pod) { p.Spec.InitContainers = nil },
			want: []want{forbidden("spec.initContainers").withDetail("pod updates may not add or remove containers")}},
		{name: "mirror annotation added", mutate: func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} },
			want: []want{
				forbidden("metadata.annotations[kubernetes.io/config.mirror]").withDetail("may not add mirror pod annotation"),
				invalid("metadata.annotations[kubernetes.io/config.mirror]"),
			}},
		{name: "mirror annotation removed", old: func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
			p.Spec.NodeName = "node-1"
		}, mutate: func(p *corev1.Pod) { p.Annotations = nil },
			want: []want{forbidden("metadata.annotations[kubernetes.io/config.mirror]").withDetail("may not remove or update mirror pod annotation")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validPod()
			if tt.old != nil {
				tt.old(old)
			}
			pod := old.DeepCopy()
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			expectErrors(t, ValidatePodUpdate(pod, old), tt.want...)
		})
	}
}

// TestValidatePodUpdateForbiddenDiff checks the whole message kube-apiserver
// gives when a pod update changes a field it may not: the list of updatable
// fields, then a diff of the spec.
func TestValidatePodUpdateForbiddenDiff(t *testing.T) {
	old := validPod()
	pod := old.DeepCopy()
	pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](60)
	pod.Spec.Containers[0].Image = "nginx:1.28" // allowed, so absent from the diff

	errs := ValidatePodUpdate(pod, old)
	if len(errs) != 1 {
		t.Fatalf("want one error, got %s", describe(errs))
	}
	detail := errs[0].Detail
	if !strings.HasPrefix(detail, podUpdateForbiddenPrefix) {
		t.Fatalf("detail does not start with the upstream message:\n%s", detail)
	}
	diff := strings.TrimPrefix(detail, podUpdateForbiddenPrefix)
	for _, line := range []string{`- "terminationGracePeriodSeconds": 30,`, `+ "terminationGracePeriodSeconds": 60,`} {
		if !strings.Contains(diff, line) {
			t.Errorf("diff lacks %q:\n%s", line, diff)
		}
	}
	if strings.Contains(diff, "nginx") {
		t.Errorf("diff shows the allowed image change:\n%s", diff)
	}
}

func runningPod() *corev1.Pod {
	pod := validPod()
	pod.Spec.NodeName = "node-1"
	pod.Status = corev1.PodStatus{
		Phase:    corev1.PodRunning,
		QOSClass: corev1.PodQOSBurstable,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, ObservedGeneration: 1},
			{Type: "example.com/Warm", Status: corev1.ConditionFalse},
		},
		HostIP:  "10.0.0.1",
		HostIPs: []corev1.HostIP{{IP: "10.0.0.1"}},
		PodIP:   "10.244.1.5",
		PodIPs:  []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00:10:244:1::5"}},
		InitContainerStatuses: []corev1.ContainerStatus{
			{Name: "init", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}},
		},
		ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			{Name: "sidecar", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}},
		},
	}
	return pod
}

// restartSidecar makes the sidecar container's status running again after it
// terminated with exitCode.
func restartSidecar(exitCode int32) (old, mutate func(*corev1.Pod)) {
	old = func(p *corev1.Pod) { p.Status.ContainerStatuses[1].State.Terminated.ExitCode = exitCode }
	mutate = func(p *corev1.Pod) {
		p.Status.ContainerStatuses[1].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	}
	return old, mutate
}

func TestValidatePodStatusUpdate(t *testing.T) {
	type tc struct {
		name   string
		old    func(*corev1.Pod)
		mutate func(*corev1.Pod)
		want   []want
	}
	withRestart := func(name string, exitCode int32, setup func(*corev1.Pod), wants ...want) tc {
		old, mutate := restartSidecar(exitCode)
		return tc{name: name, old: func(p *corev1.Pod) { setup(p); old(p) }, mutate: mutate, want: wants}
	}
	sidecarState := forbidden("status.containerStatuses[1].state").withDetail("may not be transitioned to non-terminated state")

	tests := []tc{
		{name: "unchanged", mutate: func(*corev1.Pod) {}},
		{name: "phase and conditions may change", mutate: func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.Conditions[1].Status = corev1.ConditionFalse
			p.Status.Message = "done"
		}},
		{name: "resourceVersion missing", mutate: func(p *corev1.Pod) { p.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
		{name: "unknown phase", mutate: func(p *corev1.Pod) { p.Status.Phase = "Done" },
			want: []want{notSupported("status.phase")}},
		{name: "custom condition type not a qualified name", mutate: func(p *corev1.Pod) { p.Status.Conditions[2].Type = "warm up" },
			want: []want{invalid("status.conditions[2].Type")}},
		{name: "condition observedGeneration negative", mutate: func(p *corev1.Pod) { p.Status.Conditions[0].ObservedGeneration = -1 },
			want: []want{invalid("status.conditions[0].observedGeneration").withDetail("must be a non-negative integer")}},
		{name: "observedGeneration negative", mutate: func(p *corev1.Pod) { p.Status.ObservedGeneration = -1 },
			want: []want{invalid("status.observedGeneration")}},
		{name: "nodeName changed", mutate: func(p *corev1.Pod) { p.Spec.NodeName = "node-2" },
			want: []want{forbidden("status.nodeName").withDetail("may not be changed directly")}},
		{name: "nominatedNodeName on a pending pod", old: func(p *corev1.Pod) { p.Spec.NodeName = "" },
			mutate: func(p *corev1.Pod) { p.Status.NominatedNodeName = "node-2" }},
		{name: "nominatedNodeName invalid", old: func(p *corev1.Pod) { p.Spec.NodeName = "" },
			mutate: func(p *corev1.Pod) { p.Status.NominatedNodeName = "Node_2" },
			want:   []want{invalid("status.nominatedNodeName")}},
		{name: "nominatedNodeName on a bound pod", mutate: func(p *corev1.Pod) { p.Status.NominatedNodeName = "node-2" },
			want: []want{forbidden("status.nominatedNodeName").withDetail("may not be set on pods that are already bound to a node")}},
		{name: "qosClass changed", mutate: func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSGuaranteed },
			want: []want{invalid("status.qosClass").withDetail("field is immutable")}},
		{name: "mirror annotation removed", old: func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} },
			mutate: func(p *corev1.Pod) { p.Annotations = nil },
			want:   []want{forbidden("metadata.annotations[kubernetes.io/config.mirror]")}},

		// Pod and host IPs.
		{name: "podIP alone", mutate: func(p *corev1.Pod) { p.Status.PodIPs = nil }},
		{name: "podIP that disagrees with podIPs wins", mutate: func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "bogus"}} }},
		{name: "podIP invalid", mutate: func(p *corev1.Pod) { p.Status.PodIP, p.Status.PodIPs = "10.244.1", nil },
			want: []want{invalid("status.podIPs[0]")}},
		{name: "podIPs entry invalid", mutate: func(p *corev1.Pod) { p.Status.PodIPs[1].IP = "fd00::zz" },
			want: []want{invalid("status.podIPs[1]")}},
		{name: "podIP with leading zeros", mutate: func(p *corev1.Pod) { p.Status.PodIP, p.Status.PodIPs = "010.244.1.5", nil },
			want: []want{invalid("status.podIPs[0]")}},
		{name: "invalid podIP already stored may stay", old: func(p *corev1.Pod) { p.Status.PodIP, p.Status.PodIPs = "010.244.1.5", nil }},
		{name: "two IPv4 podIPs", mutate: func(p *corev1.Pod) { p.Status.PodIPs[1].IP = "10.244.1.6" },
			want: []want{invalid("status.podIPs").withDetail("may specify no more than one IP for each IP family")}},
		{name: "hostIP differs from hostIPs[0]", mutate: func(p *corev1.Pod) { p.Status.HostIP = "10.0.0.2" },
			want: []want{invalid("status.hostIPs[0].ip").withDetail("must be equal to `hostIP`")}},
		{name: "hostIPs entry invalid", mutate: func(p *corev1.Pod) { p.Status.HostIP, p.Status.HostIPs[0].IP = "10.0.0", "10.0.0" },
			want: []want{invalid("status.hostIPs[0]")}},
		{name: "dual-stack hostIPs", mutate: func(p *corev1.Pod) { p.Status.HostIPs = append(p.Status.HostIPs, corev1.HostIP{IP: "fd00::1"}) }},
		{name: "two IPv6 hostIPs", mutate: func(p *corev1.Pod) {
			p.Status.HostIP = "fd00::1"
			p.Status.HostIPs = []corev1.HostIP{{IP: "fd00::1"}, {IP: "fd00::2"}}
		}, want: []want{invalid("status.hostIPs")}},

		// Terminated containers coming back.
		withRestart("restartPolicy Always restarts", 0, func(*corev1.Pod) {}),
		withRestart("restartPolicy Never does not restart", 1, func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }, sidecarState),
		withRestart("restartPolicy OnFailure restarts a failure", 1, func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }),
		withRestart("restartPolicy OnFailure does not restart a success", 0, func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, sidecarState),
		withRestart("container restartPolicy overrides the pod's", 0, func(p *corev1.Pod) {
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Spec.Containers[1].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		}),
		withRestart("container restartPolicy OnFailure does not restart a success", 0, func(p *corev1.Pod) {
			p.Spec.Containers[1].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyOnFailure)
		}, sidecarState),
		withRestart("matching restart rule restarts", 42, func(p *corev1.Pod) {
			p.Spec.Containers[1].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			p.Spec.Containers[1].RestartPolicyRules = []corev1.ContainerRestartRule{{
				Action:    corev1.ContainerRestartRuleActionRestart,
				ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42}},
			}}
		}),
		withRestart("restart rule that does not match", 1, func(p *corev1.Pod) {
			p.Spec.Containers[1].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			p.Spec.Containers[1].RestartPolicyRules = []corev1.ContainerRestartRule{{
				Action:    corev1.ContainerRestartRuleActionRestart,
				ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42}},
			}}
		}, sidecarState),
		withRestart("NotIn restart rule matches other codes", 1, func(p *corev1.Pod) {
			p.Spec.Containers[1].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			p.Spec.Containers[1].RestartPolicyRules = []corev1.ContainerRestartRule{{
				Action:    corev1.ContainerRestartRuleActionRestart,
				ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpNotIn, Values: []int32{0}},
			}}
		}),
		withRestart("a RestartAllContainers rule anywhere lets every container restart", 0, func(p *corev1.Pod) {
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Spec.Containers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			p.Spec.Containers[0].RestartPolicyRules = []corev1.ContainerRestartRule{{
				Action:    corev1.ContainerRestartRuleActionRestartAllContainers,
				ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{9}},
			}}
		}),
		{name: "init container restarted under restartPolicy Never", old: func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			mutate: func(p *corev1.Pod) {
				p.Status.InitContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
			}, want: []want{forbidden("status.initContainerStatuses[0].state")}},
		{name: "sidecar init container restarted under restartPolicy Never", old: func(p *corev1.Pod) {
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Spec.InitContainers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		}, mutate: func(p *corev1.Pod) {
			p.Status.InitContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}},
		{name: "status for a container the spec lacks", old: func(p *corev1.Pod) {
			p.Status.ContainerStatuses[1].Name = "ghost"
		}, mutate: func(p *corev1.Pod) {
			p.Status.ContainerStatuses[1].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}, want: []want{sidecarState}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := runningPod()
			if tt.old != nil {
				tt.old(old)
			}
			pod := old.DeepCopy()
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			expectErrors(t, ValidatePodStatusUpdate(pod, old), tt.want...)
		})
	}
}

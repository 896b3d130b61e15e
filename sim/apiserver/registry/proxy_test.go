package registry

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestConvertURLValuesToPodLogOptions(t *testing.T) {
	since := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	want := corev1.PodLogOptions{
		Container: "c", Follow: true, Previous: false, Timestamps: true,
		SinceTime: &since, TailLines: ptrTo(int64(3)), LimitBytes: ptrTo(int64(100)),
	}
	var got corev1.PodLogOptions
	in := url.Values{
		"container": {"c", "ignored"}, "follow": {"1"}, "previous": {"false"}, "timestamps": {"true"},
		"sinceTime": {"2026-01-02T03:04:05Z"}, "tailLines": {"3"}, "limitBytes": {"100"}, "unknown": {"x"},
	}
	if err := ConvertURLValuesToPodLogOptions(&in, &got); err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// What LogLocation sends the kubelet decodes back to the same options.
	back := logParams(&got)
	var again corev1.PodLogOptions
	if err := ConvertURLValuesToPodLogOptions(&back, &again); err != nil {
		t.Fatal(err)
	}
	if again.Container = "c"; !apiequality.Semantic.DeepEqual(again, want) {
		t.Errorf("round trip through %s: %+v", back.Encode(), again)
	}
	for _, bad := range []url.Values{{"tailLines": {"x"}}, {"sinceTime": {"yesterday"}}} {
		if err := ConvertURLValuesToPodLogOptions(&bad, &got); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}

func TestAddConnectConversions(t *testing.T) {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := AddConnectConversions(s); err != nil {
		t.Fatal(err)
	}
	codec := runtime.NewParameterCodec(s)
	var proxy corev1.NodeProxyOptions
	if err := codec.DecodeParameters(url.Values{"path": {"configz"}}, corev1.SchemeGroupVersion, &proxy); err != nil || proxy.Path != "configz" {
		t.Errorf("node proxy options: %+v %v", proxy, err)
	}
	var logs corev1.PodLogOptions
	if err := codec.DecodeParameters(url.Values{"container": {"c"}, "tailLines": {"2"}}, corev1.SchemeGroupVersion, &logs); err != nil || logs.Container != "c" || *logs.TailLines != 2 {
		t.Errorf("pod log options: %+v %v", logs, err)
	}
}

func TestValidatePodLogOptions(t *testing.T) {
	stream := corev1.LogStreamStdout
	for _, c := range []struct {
		opts corev1.PodLogOptions
		want string
	}{
		{corev1.PodLogOptions{}, ""},
		{corev1.PodLogOptions{TailLines: ptrTo(int64(-1))}, "tailLines: Invalid value: -1: must be greater than or equal to 0"},
		{corev1.PodLogOptions{LimitBytes: ptrTo(int64(0))}, "limitBytes: Invalid value: 0: must be greater than 0"},
		{corev1.PodLogOptions{SinceSeconds: ptrTo(int64(0))}, "sinceSeconds: Invalid value: 0: must be greater than 0"},
		{corev1.PodLogOptions{SinceSeconds: ptrTo(int64(5)), SinceTime: &metav1.Time{}}, "at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{corev1.PodLogOptions{Stream: &stream}, "stream: Forbidden: may not be specified"},
	} {
		got := validatePodLogOptions(&c.opts).ToAggregate()
		switch {
		case c.want == "" && got != nil:
			t.Errorf("%+v: %v", c.opts, got)
		case c.want != "" && (got == nil || !strings.Contains(got.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", c.opts, got, c.want)
		}
	}
}

func TestLogContainer(t *testing.T) {
	pod := func(names ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
		}
		return p
	}
	if got, err := logContainer("", pod("only")); err != nil || got != "only" {
		t.Errorf("single container: %q %v", got, err)
	}
	withInit := pod("a", "b")
	withInit.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"", pod(), "a container name must be specified for pod p"},
		{"", withInit, "a container name must be specified for pod p, choose one of: [init a b]"},
		{"zzz", withInit, "container zzz is not valid for pod p"},
	} {
		_, err := logContainer(c.name, c.pod)
		if !apierrors.IsBadRequest(err) || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.name, err, c.want)
		}
	}
	if got, err := logContainer("init", withInit); err != nil || got != "init" {
		t.Errorf("init container: %q %v", got, err)
	}
}

// nodeGetter serves fixed nodes.
type nodeGetter map[string]*corev1.Node

func (g nodeGetter) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if n, ok := g[name]; ok {
		return n, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, name)
}

func TestConnectionInfo(t *testing.T) {
	conn := KubeletConnection{Transport: http.DefaultTransport}
	if err := conn.complete(); err != nil {
		t.Fatal(err)
	}
	nodes := nodeGetter{
		"a": {Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeHostName, Address: "a"},
				{Type: corev1.NodeInternalIP, Address: "127.1.0.7"},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 12345}},
		}},
		"no-port":      {Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "no-port"}}}},
		"no-addresses": {},
	}
	ctx := context.Background()
	if got, err := conn.connectionInfo(ctx, nodes, "a"); err != nil || got != (kubeletInfo{host: "127.1.0.7", port: "12345"}) {
		t.Errorf("InternalIP and the reported port: %+v %v", got, err)
	}
	if got, err := conn.connectionInfo(ctx, nodes, "no-port"); err != nil || got != (kubeletInfo{host: "no-port", port: "10250"}) {
		t.Errorf("Hostname and the default port: %+v %v", got, err)
	}
	if _, err := conn.connectionInfo(ctx, nodes, "no-addresses"); err == nil || !strings.Contains(err.Error(), "no preferred addresses found") {
		t.Errorf("no addresses: %v", err)
	}
	if _, err := conn.connectionInfo(ctx, nodes, "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("missing node: %v", err)
	}
	if err := (&KubeletConnection{}).complete(); err == nil {
		t.Error("a connection without transport completed")
	}
}

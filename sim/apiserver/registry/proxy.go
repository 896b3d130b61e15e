package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
	"k8s.io/apiserver/pkg/registry/rest"
)

// DefaultKubeletPort is --kubelet-port: the port used when a node reports
// none in status.daemonEndpoints.kubeletEndpoint.
const DefaultKubeletPort = 10250

// DefaultKubeletPreferredAddressTypes is --kubelet-preferred-address-types
// as kubeadm sets it: the node's InternalIP first.
var DefaultKubeletPreferredAddressTypes = []corev1.NodeAddressType{
	corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName,
}

// KubeletConnection is how the API server reaches kubelets: the transport
// with its kubelet client certificate (--kubelet-client-certificate) for
// the kubelet port, a transport for any other port of a node, and how a
// node's address is picked.
type KubeletConnection struct {
	// Transport reaches a kubelet's port over HTTPS with the API server's
	// kubelet client identity.
	Transport http.RoundTripper
	// ProxyTransport reaches other ports (nodes/https:NAME:PORT/proxy).
	ProxyTransport http.RoundTripper
	// PreferredAddressTypes is --kubelet-preferred-address-types (default
	// DefaultKubeletPreferredAddressTypes).
	PreferredAddressTypes []corev1.NodeAddressType
	// DefaultPort is --kubelet-port (default DefaultKubeletPort).
	DefaultPort int
}

func (c *KubeletConnection) complete() error {
	if c.Transport == nil {
		return fmt.Errorf("registry: kubelet connection: a transport is required")
	}
	if c.ProxyTransport == nil {
		c.ProxyTransport = c.Transport
	}
	if len(c.PreferredAddressTypes) == 0 {
		c.PreferredAddressTypes = DefaultKubeletPreferredAddressTypes
	}
	if c.DefaultPort == 0 {
		c.DefaultPort = DefaultKubeletPort
	}
	return nil
}

// kubeletInfo is a node's kubelet endpoint (kubelet client ConnectionInfo).
type kubeletInfo struct {
	host, port string
}

// connectionInfo reads the node and picks its address and kubelet port, as
// kube-apiserver's NodeConnectionInfoGetter does.
func (c *KubeletConnection) connectionInfo(ctx context.Context, nodes rest.Getter, name string) (kubeletInfo, error) {
	ctx = genericapirequest.WithNamespace(ctx, metav1.NamespaceNone)
	obj, err := nodes.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return kubeletInfo{}, err
	}
	node := obj.(*corev1.Node)
	host := ""
	for _, t := range c.PreferredAddressTypes {
		for _, a := range node.Status.Addresses {
			if a.Type == t && host == "" {
				host = a.Address
			}
		}
	}
	if host == "" {
		return kubeletInfo{}, fmt.Errorf("no preferred addresses found; known addresses: %v", node.Status.Addresses)
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = c.DefaultPort
	}
	return kubeletInfo{host: host, port: strconv.Itoa(port)}, nil
}

// NodeProxyREST serves nodes/proxy: any method, with the path after
// .../proxy/ passed to the node's kubelet. Unlike kube-apiserver it does
// not refuse loopback addresses: virtual nodes live in 127.0.0.0/8.
type NodeProxyREST struct {
	nodes rest.Getter
	conn  KubeletConnection
}

var _ rest.Connecter = &NodeProxyREST{}

// NewNodeProxyREST serves nodes/proxy for the nodes of store.
func NewNodeProxyREST(store *Store, conn KubeletConnection) (*NodeProxyREST, error) {
	if err := conn.complete(); err != nil {
		return nil, err
	}
	return &NodeProxyREST{nodes: store, conn: conn}, nil
}

var proxyMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// New returns an empty NodeProxyOptions.
func (r *NodeProxyREST) New() runtime.Object { return &corev1.NodeProxyOptions{} }

// Destroy does nothing: the node store owns the storage.
func (r *NodeProxyREST) Destroy() {}

// ConnectMethods are the methods proxied.
func (r *NodeProxyREST) ConnectMethods() []string { return proxyMethods }

// NewConnectOptions: the rest of the URL path goes into "path".
func (r *NodeProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.NodeProxyOptions{}, true, "path"
}

// Connect returns a handler proxying to the node's kubelet. id is NAME,
// or SCHEME:NAME:PORT for another port of the node.
func (r *NodeProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	proxyOpts, ok := opts.(*corev1.NodeProxyOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", opts)
	}
	scheme, name, port, valid := utilnet.SplitSchemeNamePort(id)
	if !valid {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	info, err := r.conn.connectionInfo(ctx, r.nodes, name)
	if err != nil {
		return nil, err
	}
	location := &url.URL{Scheme: "https", Host: net.JoinHostPort(info.host, info.port)}
	transport := r.conn.Transport
	if port != "" && port != info.port {
		if scheme == "" {
			scheme = "http"
		}
		location = &url.URL{Scheme: scheme, Host: net.JoinHostPort(info.host, port)}
		transport = r.conn.ProxyTransport
	}
	location.Path = utilnet.JoinPreservingTrailingSlash(location.Path, proxyOpts.Path)
	return proxy.NewUpgradeAwareHandler(location, transport, true, false, proxy.NewErrorResponder(responder)), nil
}

// PodLogREST serves pods/log by streaming the kubelet's
// /containerLogs/{namespace}/{pod}/{container}.
type PodLogREST struct {
	pods  rest.Getter
	nodes rest.Getter
	conn  KubeletConnection
}

var (
	_ rest.GetterWithOptions = &PodLogREST{}
	_ rest.StorageMetadata   = &PodLogREST{}
)

// NewPodLogREST serves pods/log for the pods of pods, on the nodes of nodes.
func NewPodLogREST(pods, nodes *Store, conn KubeletConnection) (*PodLogREST, error) {
	if err := conn.complete(); err != nil {
		return nil, err
	}
	return &PodLogREST{pods: pods, nodes: nodes, conn: conn}, nil
}

// New returns an empty Pod, as upstream's LogREST does.
func (r *PodLogREST) New() runtime.Object { return &corev1.Pod{} }

// Destroy does nothing: the pod store owns the storage.
func (r *PodLogREST) Destroy() {}

// ProducesMIMETypes: a log is text.
func (r *PodLogREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

// ProducesObject: a log is a string.
func (r *PodLogREST) ProducesObject(string) any { return "" }

// NewGetOptions: the options are PodLogOptions, from the query.
func (r *PodLogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &corev1.PodLogOptions{}, false, ""
}

// Get returns a stream of the container's log from its node's kubelet.
func (r *PodLogREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	logOpts, ok := opts.(*corev1.PodLogOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", opts)
	}
	if errs := validatePodLogOptions(logOpts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("PodLogOptions").GroupKind(), name, errs)
	}
	obj, err := r.pods.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	pod := obj.(*corev1.Pod)
	container, err := logContainer(logOpts.Container, pod)
	if err != nil {
		return nil, err
	}
	streamer := &genericrest.LocationStreamer{
		ContentType:     "text/plain",
		Flush:           logOpts.Follow,
		ResponseChecker: genericrest.NewGenericHttpResponseChecker(corev1.Resource("pods/log"), name),
		RedirectChecker: genericrest.PreventRedirects,
	}
	if pod.Spec.NodeName == "" {
		// Not scheduled: an empty log, as upstream.
		return streamer, nil
	}
	info, err := r.conn.connectionInfo(ctx, r.nodes, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	streamer.Location = &url.URL{
		Scheme:   "https",
		Host:     net.JoinHostPort(info.host, info.port),
		Path:     fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container),
		RawQuery: logParams(logOpts).Encode(),
	}
	streamer.Transport = r.conn.Transport
	return streamer, nil
}

// logParams are the kubelet query parameters of the options (LogLocation).
func logParams(o *corev1.PodLogOptions) url.Values {
	params := url.Values{}
	if o.Follow {
		params.Add("follow", "true")
	}
	if o.Previous {
		params.Add("previous", "true")
	}
	if o.Timestamps {
		params.Add("timestamps", "true")
	}
	if o.SinceSeconds != nil {
		params.Add("sinceSeconds", strconv.FormatInt(*o.SinceSeconds, 10))
	}
	if o.SinceTime != nil {
		params.Add("sinceTime", o.SinceTime.Format(time.RFC3339))
	}
	if o.TailLines != nil {
		params.Add("tailLines", strconv.FormatInt(*o.TailLines, 10))
	}
	if o.LimitBytes != nil {
		params.Add("limitBytes", strconv.FormatInt(*o.LimitBytes, 10))
	}
	return params
}

// logContainer picks the container as upstream's validateContainer: the
// only one when none is named, else it must exist.
func logContainer(name string, pod *corev1.Pod) (string, error) {
	var all []string
	for _, c := range pod.Spec.InitContainers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		all = append(all, c.Name)
	}
	if name == "" {
		switch len(pod.Spec.Containers) {
		case 1:
			return pod.Spec.Containers[0].Name, nil
		case 0:
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, all))
	}
	for _, c := range all {
		if c == name {
			return name, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// validatePodLogOptions is upstream's ValidatePodLogOptions with the
// PodLogsQuerySplitStreams gate off (its 1.37 default).
func validatePodLogOptions(o *corev1.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if o.TailLines != nil && *o.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *o.TailLines, "must be greater than or equal to 0"))
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *o.LimitBytes, "must be greater than 0"))
	}
	switch {
	case o.SinceSeconds != nil && o.SinceTime != nil:
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *o.SinceSeconds, "must be greater than 0"))
	}
	if o.Stream != nil {
		errs = append(errs, field.Forbidden(field.NewPath("stream"), "may not be specified"))
	}
	return errs
}

// AddConnectConversions registers how the query of a pods/log, nodes/proxy
// or pods/proxy request becomes its options (kube-apiserver's generated
// Convert_url_Values_To_v1_*), which the k8s.io/api types do not carry.
func AddConnectConversions(s *runtime.Scheme) error {
	if err := s.AddConversionFunc((*url.Values)(nil), (*corev1.PodLogOptions)(nil), func(a, b any, scope conversion.Scope) error {
		return ConvertURLValuesToPodLogOptions(a.(*url.Values), b.(*corev1.PodLogOptions))
	}); err != nil {
		return err
	}
	if err := s.AddConversionFunc((*url.Values)(nil), (*corev1.NodeProxyOptions)(nil), func(a, b any, scope conversion.Scope) error {
		return runtime.Convert_Slice_string_To_string(ptrTo((*a.(*url.Values))["path"]), &b.(*corev1.NodeProxyOptions).Path, scope)
	}); err != nil {
		return err
	}
	return s.AddConversionFunc((*url.Values)(nil), (*corev1.PodProxyOptions)(nil), func(a, b any, scope conversion.Scope) error {
		return runtime.Convert_Slice_string_To_string(ptrTo((*a.(*url.Values))["path"]), &b.(*corev1.PodProxyOptions).Path, scope)
	})
}

func ptrTo[T any](v T) *T { return &v }

// ConvertURLValuesToPodLogOptions decodes PodLogOptions from a query as
// kube-apiserver and the kubelet do: the first value of each parameter,
// booleans true unless "0" or "false", numbers base 10, times RFC 3339.
func ConvertURLValuesToPodLogOptions(in *url.Values, out *corev1.PodLogOptions) error {
	q := *in
	*out = corev1.PodLogOptions{TypeMeta: out.TypeMeta}
	get := func(key string) (*[]string, bool) {
		v, ok := q[key]
		return &v, ok && len(v) > 0
	}
	if v, ok := get("container"); ok {
		out.Container = (*v)[0]
	}
	for key, dst := range map[string]*bool{
		"follow": &out.Follow, "previous": &out.Previous, "timestamps": &out.Timestamps,
		"insecureSkipTLSVerifyBackend": &out.InsecureSkipTLSVerifyBackend,
	} {
		if v, ok := get(key); ok {
			if err := runtime.Convert_Slice_string_To_bool(v, dst, nil); err != nil {
				return err
			}
		}
	}
	for key, dst := range map[string]**int64{
		"sinceSeconds": &out.SinceSeconds, "tailLines": &out.TailLines, "limitBytes": &out.LimitBytes,
	} {
		if v, ok := get(key); ok {
			if err := runtime.Convert_Slice_string_To_Pointer_int64(v, dst, nil); err != nil {
				return err
			}
		}
	}
	if v, ok := get("sinceTime"); ok {
		if err := metav1.Convert_Slice_string_To_Pointer_v1_Time(v, &out.SinceTime, nil); err != nil {
			return err
		}
	}
	if v, ok := get("stream"); ok {
		stream := (*v)[0]
		out.Stream = &stream
	}
	return nil
}

package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(testServer.CACert()) {
		t.Fatal("CA does not parse")
	}
	return pool
}

func TestKubeletServingCert(t *testing.T) {
	ip := net.ParseIP("127.1.0.20")
	cert, err := testServer.KubeletServingCert("cert-node", []net.IP{ip})
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if leaf.Subject.CommonName != "system:node:cert-node" || len(leaf.Subject.Organization) != 1 || leaf.Subject.Organization[0] != NodesGroup {
		t.Errorf("subject %v", leaf.Subject)
	}
	for _, name := range []string{"cert-node", "127.1.0.20"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: caPool(t), DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: caPool(t), DNSName: "127.1.0.21"}); err == nil {
		t.Error("valid for an address it was not issued for")
	}
	if _, err := testServer.KubeletServingCert("", nil); err == nil {
		t.Error("a certificate without a node name")
	}
}

func TestKubeletAuthenticatorAndAuthorizer(t *testing.T) {
	authn := testServer.KubeletAuthenticator()
	request := func(certs []*x509.Certificate, token string) *http.Request {
		r, _ := http.NewRequest("GET", "https://127.1.0.20:10250/pods", nil)
		if certs != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: certs}
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r
	}
	nodeCfg, err := testServer.ClientConfigFor("system:node:n-1", NodesGroup)
	if err != nil {
		t.Fatal(err)
	}
	nodeCert, err := tls.X509KeyPair(nodeCfg.CertData, nodeCfg.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	kubeletClient := testServer.KubeletClientCert()
	for _, c := range []struct {
		name   string
		req    *http.Request
		user   string
		groups []string
	}{
		{"node certificate", request([]*x509.Certificate{nodeCert.Leaf}, ""), "system:node:n-1", []string{NodesGroup, user.AllAuthenticated}},
		{"API server's kubelet client", request([]*x509.Certificate{kubeletClient.Leaf}, ""), KubeletClientUser, []string{user.SystemPrivilegedGroup, user.AllAuthenticated}},
		{"admin token", request(nil, testServer.RESTConfig().BearerToken), AdminUser, []string{user.SystemPrivilegedGroup, user.AllAuthenticated}},
	} {
		resp, ok, err := authn.AuthenticateRequest(c.req)
		if err != nil || !ok {
			t.Errorf("%s: not authenticated: %v", c.name, err)
			continue
		}
		if resp.User.GetName() != c.user || strings.Join(resp.User.GetGroups(), ",") != strings.Join(c.groups, ",") {
			t.Errorf("%s: %s in %v", c.name, resp.User.GetName(), resp.User.GetGroups())
		}
	}
	for name, r := range map[string]*http.Request{"nothing": request(nil, ""), "unknown token": request(nil, "nope")} {
		if _, ok, _ := authn.AuthenticateRequest(r); ok {
			t.Errorf("%s authenticated", name)
		}
	}
	// The API server's authorizer lets its kubelet client (system:masters)
	// create nodes/checkpoint.
	decision, _, err := testServer.Authorizer().Authorize(context.Background(), authorizer.AttributesRecord{
		User: &user.DefaultInfo{Name: KubeletClientUser, Groups: []string{user.SystemPrivilegedGroup}},
		Verb: "create", Resource: "nodes", Subresource: "checkpoint", Name: "n-1", APIVersion: "v1", ResourceRequest: true,
	})
	if err != nil || decision != authorizer.DecisionAllow {
		t.Errorf("kubelet client on nodes/checkpoint: %v %v", decision, err)
	}
}

// seen is what the fake kubelet received.
type seen struct {
	method, uri, user, body string
}

// fakeKubelet serves HTTPS at ip:0 with a serving certificate of the run's
// CA, records each request and the client certificate's name, and answers
// with status and body of the request's path.
func fakeKubelet(t *testing.T, node, ip string) (port int, requests func() []seen) {
	t.Helper()
	cert, err := testServer.KubeletServingCert(node, []net.IP{net.ParseIP(ip), net.ParseIP(nodeAddress(ip))})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", net.JoinHostPort(ip, "0"), &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []seen
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{method: r.Method, uri: r.URL.RequestURI(), user: r.TLS.PeerCertificates[0].Subject.CommonName, body: string(body)})
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.Error(w, "pod does not exist", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

// nodeAddress is the node network address (172.31.x.y) routed to a fake
// kubelet listening at ip (127.1.x.y): kube-apiserver proxies to no
// loopback address.
func nodeAddress(ip string) string { return "172.31." + strings.TrimPrefix(ip, "127.1.") }

// createKubeletNode creates a node whose kubelet listens at ip:port and
// whose status gives its node address, routed there.
func createKubeletNode(t *testing.T, name, ip string, port int) {
	t.Helper()
	testServer.RouteKubelet(net.JoinHostPort(nodeAddress(ip), strconv.Itoa(port)), net.JoinHostPort(ip, strconv.Itoa(port)))
	n := testNode(name)
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: nodeAddress(ip)}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	if _, err := newClient(t, false).CoreV1().Nodes().Create(ctxT(t), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestNodeProxy(t *testing.T) {
	port, requests := fakeKubelet(t, "proxy-node", "127.1.0.21")
	createKubeletNode(t, "proxy-node", "127.1.0.21", port)
	rc := newClient(t, false).CoreV1().RESTClient()
	ctx := ctxT(t)

	body, err := rc.Get().AbsPath("/api/v1/nodes/proxy-node/proxy/configz").Param("x", "1").DoRaw(ctx)
	if err != nil || string(body) != "GET /configz?x=1" {
		t.Errorf("GET: %v %q", err, body)
	}
	if _, err := rc.Post().AbsPath("/api/v1/nodes/proxy-node/proxy/checkpoint/default/p/c").Body([]byte("{}")).DoRaw(ctx); err != nil {
		t.Errorf("POST: %v", err)
	}
	if _, err := rc.Delete().AbsPath("/api/v1/nodes/proxy-node/proxy/some/thing/").DoRaw(ctx); err != nil {
		t.Errorf("DELETE: %v", err)
	}
	_, err = rc.Post().AbsPath("/api/v1/nodes/proxy-node/proxy/checkpoint/default/missing").DoRaw(ctx)
	if !apierrors.IsNotFound(err) {
		t.Errorf("the kubelet's 404 passes through: %v", err)
	}
	want := []seen{
		{"GET", "/configz?x=1", KubeletClientUser, ""},
		{"POST", "/checkpoint/default/p/c", KubeletClientUser, "{}"},
		{"DELETE", "/some/thing/", KubeletClientUser, ""},
		{"POST", "/checkpoint/default/missing", KubeletClientUser, ""},
	}
	got := requests()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kubelet saw\n%v\nwant\n%v", got, want)
	}
	if _, err := rc.Get().AbsPath("/api/v1/nodes/no-such-node/proxy/configz").DoRaw(ctx); !apierrors.IsNotFound(err) {
		t.Errorf("proxy to a missing node: %v", err)
	}
	// kubectl get --raw, through the same path; kubectl's --request-timeout
	// is a query parameter, which the proxy passes on, as upstream.
	if out := kubectl(t, "get", "--raw", "/api/v1/nodes/proxy-node/proxy/healthz"); out != "GET /healthz?timeout=30s" {
		t.Errorf("kubectl get --raw: %q", out)
	}
}

func TestPodLog(t *testing.T) {
	port, requests := fakeKubelet(t, "log-node", "127.1.0.22")
	createKubeletNode(t, "log-node", "127.1.0.22", port)
	c := newClient(t, false)
	ctx := ctxT(t)
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "log-two"}, Spec: corev1.PodSpec{NodeName: "log-node", Containers: []corev1.Container{{Name: "a", Image: "x"}, {Name: "b", Image: "x"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "log-one"}, Spec: corev1.PodSpec{NodeName: "log-node", Containers: []corev1.Container{{Name: "only", Image: "x"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "log-pending"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "only", Image: "x"}}}},
	} {
		if _, err := c.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tail := int64(3)
	body, err := c.CoreV1().Pods("default").GetLogs("log-two", &corev1.PodLogOptions{Container: "b", TailLines: &tail, Timestamps: true}).DoRaw(ctx)
	if err != nil || string(body) != "GET /containerLogs/default/log-two/b?tailLines=3&timestamps=true" {
		t.Errorf("logs: %v %q", err, body)
	}
	body, err = c.CoreV1().Pods("default").GetLogs("log-one", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || string(body) != "GET /containerLogs/default/log-one/only" {
		t.Errorf("logs of the only container: %v %q", err, body)
	}
	if got := requests(); len(got) != 2 || got[0].user != KubeletClientUser {
		t.Errorf("kubelet saw %v", got)
	}
	body, err = c.CoreV1().Pods("default").GetLogs("log-pending", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || len(body) != 0 {
		t.Errorf("logs of an unscheduled pod: %v %q", err, body)
	}
	for _, bad := range []struct {
		pod  string
		opts corev1.PodLogOptions
		want string
	}{
		{"log-two", corev1.PodLogOptions{}, "a container name must be specified for pod log-two, choose one of: [a b]"},
		{"log-two", corev1.PodLogOptions{Container: "zzz"}, "container zzz is not valid for pod log-two"},
		{"log-two", corev1.PodLogOptions{Container: "a", LimitBytes: new(int64)}, "must be greater than 0"},
	} {
		// Stream, as kubectl logs does, reads the Status of a failure.
		stream, err := c.CoreV1().Pods("default").GetLogs(bad.pod, &bad.opts).Stream(ctx)
		if err == nil {
			stream.Close()
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", bad.opts, err, bad.want)
		}
	}
	if _, err := c.CoreV1().Pods("default").GetLogs("no-such-pod", &corev1.PodLogOptions{}).DoRaw(ctx); !apierrors.IsNotFound(err) {
		t.Errorf("logs of a missing pod: %v", err)
	}
	if out := kubectl(t, "logs", "log-two", "-c", "a", "--tail=1"); out != "GET /containerLogs/default/log-two/a?tailLines=1" {
		t.Errorf("kubectl logs: %q", out)
	}
}

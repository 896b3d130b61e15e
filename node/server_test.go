package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/internal/testtool"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// fakeKubelet is a KubeletAPI with fixed answers.
type fakeKubelet struct {
	mu         sync.Mutex
	pods       []*corev1.Pod
	config     *kubeletconfigv1beta1.KubeletConfiguration
	logs       map[string]string // namespace/pod/container -> log lines
	gate       bool
	syncErr    error
	failWith   error // what Checkpoint fails with
	timeouts   []time.Duration
	logOptions []corev1.PodLogOptions
}

func (f *fakeKubelet) Pods(context.Context) []*corev1.Pod {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pods
}

func (f *fakeKubelet) KubeletConfig(context.Context) any { return f.config }

func (f *fakeKubelet) ContainerLogs(_ context.Context, ns, pod, ctr string, opts *corev1.PodLogOptions, w io.Writer) error {
	f.mu.Lock()
	f.logOptions = append(f.logOptions, *opts)
	log := f.logs[ns+"/"+pod+"/"+ctr]
	f.mu.Unlock()
	if opts.Previous {
		return fmt.Errorf("previous terminated container %q in pod %q not found", ctr, pod)
	}
	lines := strings.SplitAfter(log, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if opts.TailLines != nil && int(*opts.TailLines) < len(lines) {
		lines = lines[len(lines)-int(*opts.TailLines):]
	}
	_, err := io.WriteString(w, strings.Join(lines, ""))
	return err
}

func (f *fakeKubelet) Checkpoint(_ context.Context, ns, pod, ctr string, timeout time.Duration) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timeouts = append(f.timeouts, timeout)
	if f.failWith != nil {
		return "", f.failWith
	}
	return fmt.Sprintf("/var/lib/kubelet/checkpoints/checkpoint-%s_%s-%s-2026-01-02T03:04:05Z.tar", pod, ns, ctr), nil
}

func (f *fakeKubelet) CheckpointEnabled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gate
}

func (f *fakeKubelet) SyncLoopHealthy(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncErr
}

func (f *fakeKubelet) set(fn func(f *fakeKubelet)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func newFakeKubelet() *fakeKubelet {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "uid-p"},
		Spec: corev1.PodSpec{
			NodeName:       "api-node",
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}},
			Containers:     []corev1.Container{{Name: "c", Image: "nginx"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{
		TypeMeta:     metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		FeatureGates: map[string]bool{"ContainerCheckpoint": true},
	}
	maxPods := int32(110)
	cfg.MaxPods = maxPods
	return &fakeKubelet{
		pods:   []*corev1.Pod{pod},
		config: cfg,
		logs:   map[string]string{"default/p/c": "tick 1\ntick 2\ntick 3\n"},
		gate:   true,
	}
}

// grantTestUsers gives the users of these tests their rights through RBAC:
// "checkpointer" may create nodes/checkpoint and nodes/proxy (at the API
// server), "pods-reader" may get nodes/pods only, everyone else nothing.
// It returns once the server's authorizer says so.
func grantTestUsers(t *testing.T, admin kubernetes.Interface) {
	t.Helper()
	grants := map[string]rbacv1.PolicyRule{
		"checkpointer": {Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"nodes/checkpoint", "nodes/proxy"}},
		"pods-reader":  {Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes/pods"}},
	}
	ctx := context.Background()
	for user, rule := range grants {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-" + user}, Rules: []rbacv1.PolicyRule{rule}}
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "test-" + user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: rule.Verbs[0], Resource: "nodes", Subresource: strings.TrimPrefix(rule.Resources[0], "nodes/")},
		}}
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err == nil && got.Status.Allowed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("RBAC does not allow %s %v: %v %+v", user, rule, err, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// kubeletEnv is an API server, one Node on it and that node's kubelet API.
type kubeletEnv struct {
	api     *apiserver.Server
	admin   kubernetes.Interface
	backend *fakeKubelet
	server  *Server
	url     string // https://ip:port of the kubelet API
	roots   *x509.CertPool
}

func startKubeletEnv(t *testing.T) *kubeletEnv {
	t.Helper()
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	api, err := apiserver.Start(context.Background(), apiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Stop() })
	admin, err := kubernetes.NewForConfig(api.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	grantTestUsers(t, admin)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(api.CACert())
	env := &kubeletEnv{api: api, admin: admin, backend: newFakeKubelet(), roots: roots}
	env.server, env.url = startNodeServer(t, api, "api-node", "127.1.0.10", AuthorizationModeWebhook, env.backend)

	// The node's address is on the node network, routed to where its
	// kubelet API listens: kube-apiserver proxies to no loopback address.
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(env.url, "https://"))
	api.RouteKubelet(net.JoinHostPort(nodeAddress(host), port), net.JoinHostPort(host, port))
	host = nodeAddress(host)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "api-node"},
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeHostName, Address: "api-node"},
				{Type: corev1.NodeInternalIP, Address: host},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(atoiT(t, port))}},
		},
	}
	if _, err := admin.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The service account pods need, as kube-controller-manager's
	// serviceaccount-controller would make it.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "default"}}
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(context.Background(), sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	pod := env.backend.pods[0].DeepCopy()
	pod.Status = corev1.PodStatus{}
	pod.UID = ""
	if _, err := admin.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return env
}

// nodeAddress is the node network address (172.31.x.y) of a kubelet API
// listening at ip (127.1.x.y).
func nodeAddress(ip string) string { return "172.31." + strings.TrimPrefix(ip, "127.1.") }

func startNodeServer(t *testing.T, api *apiserver.Server, name, ip, mode string, backend KubeletAPI) (*Server, string) {
	t.Helper()
	cert, err := api.KubeletServingCert(name, []net.IP{net.ParseIP(ip), net.ParseIP(nodeAddress(ip))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartServer(ServerConfig{
		NodeName: name, Address: net.JoinHostPort(ip, "0"), Certificate: cert,
		Authenticator: api.KubeletAuthenticator(), Authorizer: api.Authorizer(), AuthorizationMode: mode,
		Backend: backend,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, "https://" + s.Addr().String()
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// client is an HTTPS client of the kubelet API that verifies its serving
// certificate and presents the identity given (nil: none).
func (e *kubeletEnv) client(t *testing.T, userName string, groups ...string) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: e.roots}
	if userName != "" {
		rc, err := e.api.ClientConfigFor(userName, groups...)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(rc.CertData, rc.KeyData)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type answer struct {
	code int
	body string
	typ  string
}

func do(t *testing.T, c *http.Client, method, url string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{code: resp.StatusCode, body: string(b), typ: resp.Header.Get("Content-Type")}
}

func expect(t *testing.T, what string, got answer, code int, body string) {
	t.Helper()
	if got.code != code || got.body != body {
		t.Errorf("%s: got %d %q, want %d %q", what, got.code, got.body, code, body)
	}
}

func TestKubeletServer(t *testing.T) {
	env := startKubeletEnv(t)
	admin := env.client(t, "node-admin", user.SystemPrivilegedGroup)
	anonymous := env.client(t, "")
	denied := env.client(t, "denied")
	checkpointer := env.client(t, "checkpointer")
	u := env.url
	const podPath = "/checkpoint/default/p/c"

	t.Run("authentication", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"GET", "/healthz"}, {"GET", "/pods"}, {"GET", "/configz"},
			{"GET", "/containerLogs/default/p/c"}, {"POST", podPath},
		} {
			expect(t, "anonymous "+c.method+" "+c.path, do(t, anonymous, c.method, u+c.path), 401, "Unauthorized")
		}
		// A bearer token the API server knows authenticates too (webhook
		// token review); an unknown one does not.
		token := env.api.RESTConfig().BearerToken
		expect(t, "admin token", do(t, anonymous, "GET", u+"/healthz", "Authorization", "Bearer "+token), 200, "ok")
		expect(t, "unknown token", do(t, anonymous, "GET", u+"/healthz", "Authorization", "Bearer nope"), 401, "Unauthorized")
		// Unregistered paths are the mux's 404, before authentication.
		expect(t, "unknown path", do(t, anonymous, "GET", u+"/nothing-here"), 404, "404 page not found\n")
	})

	t.Run("healthz", func(t *testing.T) {
		expect(t, "healthz", do(t, admin, "GET", u+"/healthz"), 200, "ok")
		expect(t, "healthz verbose", do(t, admin, "GET", u+"/healthz?verbose"), 200, "[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n")
		expect(t, "healthz/ping", do(t, admin, "GET", u+"/healthz/ping"), 200, "ok")
		env.backend.set(func(f *fakeKubelet) { f.syncErr = errors.New("sync loop stuck") })
		expect(t, "healthz failing", do(t, admin, "GET", u+"/healthz"), 500, "[+]ping ok\n[+]log ok\n[-]syncloop failed: reason withheld\nhealthz check failed\n")
		expect(t, "healthz/syncloop failing", do(t, admin, "GET", u+"/healthz/syncloop"), 500, "internal server error: sync loop stuck\n")
		env.backend.set(func(f *fakeKubelet) { f.syncErr = nil })
		expect(t, "healthz denied", do(t, denied, "GET", u+"/healthz"), 403,
			"Forbidden (user=denied, verb=get, resource=nodes, subresource(s)=[healthz proxy])\n")
	})

	t.Run("pods", func(t *testing.T) {
		got := do(t, admin, "GET", u+"/pods")
		if got.code != 200 || got.typ != "application/json" {
			t.Fatalf("/pods: %d %s %q", got.code, got.typ, got.body)
		}
		var list corev1.PodList
		if err := json.Unmarshal([]byte(got.body), &list); err != nil {
			t.Fatal(err)
		}
		if list.Kind != "PodList" || list.APIVersion != "v1" || len(list.Items) != 1 || list.Items[0].Name != "p" || list.Items[0].Status.Phase != corev1.PodRunning {
			t.Errorf("/pods: %s", got.body)
		}
		// Fine-grained authorization: nodes/pods is enough, nodes/proxy not needed.
		if got := do(t, env.client(t, "pods-reader"), "GET", u+"/pods"); got.code != 200 {
			t.Errorf("pods-reader /pods: %d %q", got.code, got.body)
		}
		expect(t, "pods-reader /configz", do(t, env.client(t, "pods-reader"), "GET", u+"/configz"), 403,
			"Forbidden (user=pods-reader, verb=get, resource=nodes, subresource(s)=[configz proxy])\n")
		expect(t, "POST /pods", do(t, admin, "POST", u+"/pods"), 405, "405: Method Not Allowed")
	})

	t.Run("configz", func(t *testing.T) {
		got := do(t, admin, "GET", u+"/configz")
		if got.code != 200 || got.typ != "application/json" {
			t.Fatalf("/configz: %d %s %q", got.code, got.typ, got.body)
		}
		var cz struct {
			KubeletConfig kubeletconfigv1beta1.KubeletConfiguration `json:"kubeletconfig"`
		}
		if err := json.Unmarshal([]byte(got.body), &cz); err != nil {
			t.Fatal(err)
		}
		if cz.KubeletConfig.Kind != "KubeletConfiguration" || cz.KubeletConfig.MaxPods != 110 || !cz.KubeletConfig.FeatureGates["ContainerCheckpoint"] {
			t.Errorf("/configz: %s", got.body)
		}
	})

	t.Run("containerLogs", func(t *testing.T) {
		expect(t, "logs", do(t, admin, "GET", u+"/containerLogs/default/p/c"), 200, "tick 1\ntick 2\ntick 3\n")
		expect(t, "logs tailLines", do(t, admin, "GET", u+"/containerLogs/default/p/c?tailLines=1&timestamps=true&limitBytes=100"), 200, "tick 3\n")
		expect(t, "logs tail (old name)", do(t, admin, "GET", u+"/containerLogs/default/p/c?tail=2"), 200, "tick 2\ntick 3\n")
		env.backend.mu.Lock()
		last := env.backend.logOptions[len(env.backend.logOptions)-2]
		env.backend.mu.Unlock()
		if !last.Timestamps || last.LimitBytes == nil || *last.LimitBytes != 100 {
			t.Errorf("options reaching the backend: %+v", last)
		}
		expect(t, "logs missing pod", do(t, admin, "GET", u+"/containerLogs/default/nope/c"), 404, `pod "nope" does not exist`)
		expect(t, "logs missing container", do(t, admin, "GET", u+"/containerLogs/default/p/nope"), 404, `container "nope" not found in pod "p"`)
		expect(t, "logs bad tailLines", do(t, admin, "GET", u+"/containerLogs/default/p/c?tailLines=-1"), 422, `{"message": "Invalid request."}`)
		expect(t, "logs undecodable", do(t, admin, "GET", u+"/containerLogs/default/p/c?tailLines=x"), 400, `{"message": "Unable to decode query."}`)
		expect(t, "logs previous", do(t, admin, "GET", u+"/containerLogs/default/p/c?previous=true"), 400, `previous terminated container "c" in pod "p" not found`)
		expect(t, "logs denied", do(t, denied, "GET", u+"/containerLogs/default/p/c"), 403,
			"Forbidden (user=denied, verb=get, resource=nodes, subresource(s)=[proxy])\n")
	})

	t.Run("checkpoint", func(t *testing.T) {
		want := `{"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-c-2026-01-02T03:04:05Z.tar"]}`
		got := do(t, checkpointer, "POST", u+podPath)
		expect(t, "checkpoint", got, 200, want)
		if got.typ != "application/json" {
			t.Errorf("checkpoint content type %q", got.typ)
		}
		expect(t, "checkpoint with timeouts", do(t, checkpointer, "POST", u+podPath+"?timeout=3&timeout=7"), 200, want)
		env.backend.mu.Lock()
		timeouts := append([]time.Duration(nil), env.backend.timeouts...)
		env.backend.mu.Unlock()
		if len(timeouts) != 2 || timeouts[0] != 0 || timeouts[1] != 7*time.Second {
			t.Errorf("timeouts reaching the backend: %v, want [0 7s]", timeouts)
		}
		expect(t, "checkpoint init container", do(t, checkpointer, "POST", u+"/checkpoint/default/p/init"), 200,
			`{"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-init-2026-01-02T03:04:05Z.tar"]}`)
		expect(t, "checkpoint anonymous", do(t, anonymous, "POST", u+podPath), 401, "Unauthorized")
		expect(t, "checkpoint denied", do(t, denied, "POST", u+podPath), 403,
			"Forbidden (user=denied, verb=create, resource=nodes, subresource(s)=[checkpoint])\n")
		expect(t, "checkpoint missing pod", do(t, checkpointer, "POST", u+"/checkpoint/default/nope/c"), 404, "pod does not exist")
		expect(t, "checkpoint missing container", do(t, checkpointer, "POST", u+"/checkpoint/default/p/nope"), 404, "container nope does not exist")
		expect(t, "checkpoint bad timeout", do(t, checkpointer, "POST", u+podPath+"?timeout=soon"), 404, "cannot parse value of timeout parameter")
		expect(t, "checkpoint GET", do(t, admin, "GET", u+podPath), 405, "405: Method Not Allowed")
		expect(t, "checkpoint short path", do(t, checkpointer, "POST", u+"/checkpoint/default/p"), 404, "404: Page Not Found")
		// Dot segments never reach a handler: the mux redirects to the clean path.
		for _, p := range []string{"/checkpoint/default/../p/c", "/checkpoint/default/..%2F..%2Fetc/c"} {
			if got := do(t, checkpointer, "POST", u+p); got.code != http.StatusMovedPermanently {
				t.Errorf("dot segments %s: %d %q", p, got.code, got.body)
			}
		}
		// An escaped slash makes more segments, not a name with a slash.
		expect(t, "escaped slash", do(t, checkpointer, "POST", u+"/checkpoint/default/a%2Fb/c"), 404, "404: Page Not Found")
		env.backend.mu.Lock()
		calls := len(env.backend.timeouts)
		env.backend.mu.Unlock()
		if calls != 3 {
			t.Errorf("the backend was asked %d times, want 3 (only the good requests)", calls)
		}

		env.backend.set(func(f *fakeKubelet) {
			f.failWith = errors.New("rpc error: code = Unimplemented desc = not implemented")
		})
		expect(t, "checkpoint runtime failure", do(t, checkpointer, "POST", u+podPath), 500,
			"checkpointing of default/p/c failed (rpc error: code = Unimplemented desc = not implemented)")
		env.backend.set(func(f *fakeKubelet) { f.failWith = fmt.Errorf("pod went away: %w", ErrPodNotFound) })
		expect(t, "checkpoint pod gone meanwhile", do(t, checkpointer, "POST", u+podPath), 404, "pod does not exist")
		env.backend.set(func(f *fakeKubelet) { f.failWith = nil; f.gate = false })
		expect(t, "checkpoint gate off", do(t, checkpointer, "POST", u+podPath), 404, "404 page not found\n")
		expect(t, "checkpoint gate off anonymous", do(t, anonymous, "POST", u+podPath), 404, "404 page not found\n")
		env.backend.set(func(f *fakeKubelet) { f.gate = true })
	})

	t.Run("AlwaysAllow", func(t *testing.T) {
		_, url := startNodeServer(t, env.api, "open-node", "127.1.0.11", AuthorizationModeAlwaysAllow, env.backend)
		expect(t, "AlwaysAllow denied user", do(t, denied, "POST", url+podPath), 200,
			`{"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-c-2026-01-02T03:04:05Z.tar"]}`)
		expect(t, "AlwaysAllow anonymous", do(t, anonymous, "POST", url+podPath), 401, "Unauthorized")
	})

	t.Run("through the API server", func(t *testing.T) {
		ctx := context.Background()
		rc := env.admin.CoreV1().RESTClient()
		body, err := rc.Get().AbsPath("/api/v1/nodes/api-node/proxy/configz").DoRaw(ctx)
		if err != nil || !strings.Contains(string(body), `"kubeletconfig":{"kind":"KubeletConfiguration"`) {
			t.Errorf("nodes/proxy configz: %v %s", err, body)
		}
		body, err = rc.Get().AbsPath("/api/v1/nodes/api-node/proxy/healthz").DoRaw(ctx)
		if err != nil || string(body) != "ok" {
			t.Errorf("nodes/proxy healthz: %v %q", err, body)
		}
		body, err = rc.Post().AbsPath("/api/v1/nodes/api-node/proxy" + podPath).DoRaw(ctx)
		if err != nil || !strings.Contains(string(body), `"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-c-`) {
			t.Errorf("nodes/proxy checkpoint: %v %s", err, body)
		}
		// nodes/proxy is long-running to kube-apiserver, so it leaves
		// ?timeout= to the kubelet (seconds): "9" passes, "9s" is the
		// kubelet's to refuse.
		body, err = rc.Post().AbsPath("/api/v1/nodes/api-node/proxy"+podPath).Param("timeout", "9").DoRaw(ctx)
		if err != nil || !strings.Contains(string(body), `"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-c-`) {
			t.Errorf("nodes/proxy checkpoint ?timeout=9: %v %s", err, body)
		}
		_, err = rc.Post().AbsPath("/api/v1/nodes/api-node/proxy"+podPath).Param("timeout", "9s").DoRaw(ctx)
		if !apierrors.IsNotFound(err) {
			t.Errorf("nodes/proxy checkpoint ?timeout=9s: %v", err)
		}
		_, err = rc.Post().AbsPath("/api/v1/nodes/api-node/proxy/checkpoint/default/nope/c").DoRaw(ctx)
		if !apierrors.IsNotFound(err) {
			t.Errorf("nodes/proxy checkpoint of a missing pod: %v", err)
		}
		logs, err := env.admin.CoreV1().Pods("default").GetLogs("p", &corev1.PodLogOptions{Container: "c"}).DoRaw(ctx)
		if err != nil || string(logs) != "tick 1\ntick 2\ntick 3\n" {
			t.Errorf("pods/log: %v %q", err, logs)
		}
		tail := int64(1)
		logs, err = env.admin.CoreV1().Pods("default").GetLogs("p", &corev1.PodLogOptions{Container: "c", TailLines: &tail}).DoRaw(ctx)
		if err != nil || string(logs) != "tick 3\n" {
			t.Errorf("pods/log tailLines: %v %q", err, logs)
		}
		// The pod has one app container: it is the default.
		logs, err = env.admin.CoreV1().Pods("default").GetLogs("p", &corev1.PodLogOptions{}).DoRaw(ctx)
		if err != nil || string(logs) != "tick 1\ntick 2\ntick 3\n" {
			t.Errorf("pods/log default container: %v %q", err, logs)
		}

		// The API server authorizes nodes/proxy itself: "denied" gets its 403.
		got := do(t, env.client(t, "denied"), "POST", env.api.URL()+"/api/v1/nodes/api-node/proxy"+podPath)
		if got.code != 403 || !strings.Contains(got.body, `User \"denied\" cannot create resource \"nodes/proxy\"`) {
			t.Errorf("denied through the API server: %d %s", got.code, got.body)
		}
		// "checkpointer" may create nodes/proxy; the kubelet then sees the
		// API server's own identity, which it allows.
		expect(t, "checkpointer through the API server", do(t, env.client(t, "checkpointer"), "POST", env.api.URL()+"/api/v1/nodes/api-node/proxy"+podPath), 200,
			`{"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-c-2026-01-02T03:04:05Z.tar"]}`)
	})

	t.Run("kubectl", func(t *testing.T) {
		out := kubectl(t, env.api, "get", "--raw", "/api/v1/nodes/api-node/proxy/configz")
		if !strings.Contains(out, `"kubeletconfig":{"kind":"KubeletConfiguration"`) {
			t.Errorf("kubectl get --raw configz: %s", out)
		}
		out = kubectl(t, env.api, "get", "--raw", "/api/v1/nodes/api-node/proxy/pods")
		if !strings.Contains(out, `"kind":"PodList"`) {
			t.Errorf("kubectl get --raw pods: %s", out)
		}
		out = kubectl(t, env.api, "create", "--raw", "/api/v1/nodes/api-node/proxy"+podPath, "-f", "/dev/null")
		if !strings.Contains(out, `{"items":["/var/lib/kubelet/checkpoints/checkpoint-p_default-c-`) {
			t.Errorf("kubectl create --raw checkpoint: %s", out)
		}
		out = kubectl(t, env.api, "logs", "p", "-c", "c")
		if out != "tick 1\ntick 2\ntick 3\n" {
			t.Errorf("kubectl logs: %q", out)
		}
		out = kubectl(t, env.api, "logs", "p", "-c", "c", "--tail=2")
		if out != "tick 2\ntick 3\n" {
			t.Errorf("kubectl logs --tail=2: %q", out)
		}
	})
}

// kubectl runs the real kubectl with the API server's admin kubeconfig.
func kubectl(t *testing.T, api *apiserver.Server, args ...string) string {
	t.Helper()
	path := testtool.Must(t, testtool.Kubectl)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := api.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// No --request-timeout: kubectl would send it as ?timeout=, which the
	// kubelet's checkpoint endpoint reads as its own.
	cmd := exec.CommandContext(ctx, path, append([]string{"--kubeconfig", kc}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+t.TempDir(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func TestRequestAttributes(t *testing.T) {
	u := &user.DefaultInfo{Name: "u"}
	for _, c := range []struct {
		method, path string
		verb         string
		subresources string
	}{
		{"POST", "/checkpoint/ns/p/c", "create", "checkpoint"},
		{"GET", "/pods", "get", "pods,proxy"},
		{"GET", "/pods/", "get", "pods,proxy"},
		{"GET", "/podsx", "get", "proxy"},
		{"GET", "/runningpods/", "get", "pods,proxy"},
		{"GET", "/allocatedPods", "get", "pods,proxy"},
		{"GET", "/healthz", "get", "healthz,proxy"},
		{"GET", "/configz", "get", "configz,proxy"},
		{"GET", "/flagz", "get", "configz"},
		{"GET", "/statusz", "get", "statusz"},
		{"GET", "/stats/summary", "get", "stats"},
		{"GET", "/metrics/cadvisor", "get", "metrics"},
		{"GET", "/logs/syslog", "get", "log"},
		{"GET", "/containerLogs/ns/p/c", "get", "proxy"},
		{"PUT", "/x", "update", "proxy"},
		{"PATCH", "/x", "patch", "proxy"},
		{"DELETE", "/x", "delete", "proxy"},
		{"HEAD", "/x", "", "proxy"},
	} {
		r, err := http.NewRequest(c.method, "https://127.1.0.1:10250"+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		attrs := RequestAttributes("n-1", u, r)
		var subs []string
		for _, a := range attrs {
			if a.GetVerb() != c.verb || a.GetResource() != "nodes" || a.GetName() != "n-1" || a.GetAPIVersion() != "v1" || !a.IsResourceRequest() || a.GetPath() != c.path {
				t.Errorf("%s %s: attributes %+v", c.method, c.path, a)
			}
			subs = append(subs, a.GetSubresource())
		}
		if got := strings.Join(subs, ","); got != c.subresources {
			t.Errorf("%s %s: subresources %s, want %s", c.method, c.path, got, c.subresources)
		}
	}
}

func TestStartServerErrors(t *testing.T) {
	good := ServerConfig{
		NodeName: "n", Address: "127.1.0.12:0", Certificate: tls.Certificate{Certificate: [][]byte{{1}}},
		Authenticator: anyAuthenticator{}, Authorizer: authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
			return authorizer.DecisionNoOpinion, "", nil
		}), Backend: newFakeKubelet(),
	}
	for _, c := range []struct {
		name string
		edit func(*ServerConfig)
		want string
	}{
		{"no name", func(c *ServerConfig) { c.NodeName = "" }, "node name is required"},
		{"no certificate", func(c *ServerConfig) { c.Certificate = tls.Certificate{} }, "serving certificate is required"},
		{"no authenticator", func(c *ServerConfig) { c.Authenticator = nil }, "an authenticator is required"},
		{"bad mode", func(c *ServerConfig) { c.AuthorizationMode = "Node" }, `authorization mode "Node" is not AlwaysAllow or Webhook`},
		{"webhook without authorizer", func(c *ServerConfig) { c.Authorizer = nil }, "Webhook needs an authorizer"},
		{"no backend", func(c *ServerConfig) { c.Backend = nil }, "a backend is required"},
		{"bad address", func(c *ServerConfig) { c.Address = "127.1.0.12:99999" }, "listen on 127.1.0.12:99999"},
	} {
		cfg := good
		c.edit(&cfg)
		s, err := StartServer(cfg)
		if err == nil {
			s.Close()
			t.Errorf("%s: started", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A port in use is an error naming the address.
	s, err := StartServer(good)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	busy := good
	busy.Address = s.Addr().String()
	if _, err := StartServer(busy); err == nil || !strings.Contains(err.Error(), "listen on "+busy.Address) {
		t.Errorf("port in use: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	s.Close() // twice is fine
}

type anyAuthenticator struct{}

func (anyAuthenticator) AuthenticateRequest(*http.Request) (*authenticator.Response, bool, error) {
	return nil, false, nil
}

// BenchmarkKubeletServers measures what a node's kubelet API costs while
// idle: it starts 1000 servers on their own loopback addresses, each with
// its own serving certificate, and reports heap bytes and goroutines per
// node.
func BenchmarkKubeletServers(b *testing.B) {
	const nodes = 1000
	ca, err := newBenchCA()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		certs := make([]tls.Certificate, nodes)
		for i := range certs {
			if certs[i], err = ca.sign(fmt.Sprintf("bench-%04d", i)); err != nil {
				b.Fatal(err)
			}
		}
		goroutines := goruntime.NumGoroutine()
		before := heapInUse()
		servers := make([]*Server, 0, nodes)
		for i := range nodes {
			s, err := StartServer(ServerConfig{
				NodeName: fmt.Sprintf("bench-%04d", i), Address: fmt.Sprintf("127.1.%d.%d:0", 100+i/250, 1+i%250),
				Certificate: certs[i], Authenticator: anyAuthenticator{}, AuthorizationMode: AuthorizationModeAlwaysAllow,
				Backend: newFakeKubelet(),
			})
			if err != nil {
				b.Fatal(err)
			}
			servers = append(servers, s)
		}
		b.ReportMetric(float64(heapInUse()-before)/nodes, "heap-bytes/node")
		b.ReportMetric(float64(goruntime.NumGoroutine()-goroutines)/nodes, "goroutines/node")
		for _, s := range servers {
			s.Close()
		}
	}
}

func heapInUse() int64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return int64(m.HeapInuse) + int64(m.StackInuse)
}

// benchCA signs serving certificates for the benchmark.
type benchCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newBenchCA() (*benchCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench-ca"}, IsCA: true, BasicConstraintsValid: true,
		NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &benchCA{cert: cert, key: key}, err
}

func (ca *benchCA) sign(name string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "system:node:" + name}, DNSNames: []string{name},
		NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, err
}

// Package defaults reproduces kube-apiserver's v1 defaulting
// (k8s.io/kubernetes/pkg/apis/core/v1 defaults.go and its generated
// zz_generated.defaults.go, at Kubernetes v1.37.2 with default feature
// gates) for the types nodesim's API server stores: core/v1 Pod, Node and
// Namespace and their lists. core/v1 Event and coordination/v1 Lease have no
// defaulting upstream and get none here.
//
// RegisterDefaults hooks the functions into a runtime.Scheme so that
// scheme.Default (which the generic API server calls when decoding a request
// body) applies them; DefaultPod, DefaultNode, DefaultNamespace and the
// *List variants default an object directly.
//
// What this package may not do:
//   - go beyond defaulting: the registry strategies' work (the namespace
//     "kubernetes" finalizer, pod-level resource requests computed in
//     PrepareForCreate, generated names, status wiping) and admission
//     plugins (default tolerations, service-account token volumes, limit
//     ranges) belong elsewhere;
//   - overwrite a field that is already set, or fail: defaulting takes any
//     object, valid or not, and validation comes after it;
//   - depend on k8s.io/kubernetes: the image-reference grammar used for
//     imagePullPolicy is restated in image.go.
package defaults

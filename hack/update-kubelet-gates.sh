#!/bin/sh
# Regenerates node/config/zz_generated.kubelet_gates.go from the
# k8s.io/kubernetes release nodesim models (its pkg/features), read from
# the Go module cache (`go mod download k8s.io/kubernetes@VERSION` first).
set -eu
VERSION=${KUBERNETES_VERSION:-v1.37.2}
DIR=$(go env GOMODCACHE)/k8s.io/kubernetes@$VERSION
cd "$(dirname "$0")/.."
go run ./hack/kubeletgates "$DIR/pkg/features/kube_features.go" node/config/zz_generated.kubelet_gates.go

#!/usr/bin/env bash

# Regenerates sim/apiserver/openapi/zz_generated.openapi.go, the OpenAPI
# definitions of the API types the embedded API server serves, and the report
# of API rule violations in those types (sim/apiserver/openapi/violation_exceptions.list).
#
# It runs the openapi-gen that go.mod pins as a Go tool
# (k8s.io/kube-openapi/cmd/openapi-gen), the same generator and flags that
# kubernetes' hack/update-codegen.sh (codegen::openapi) uses for
# pkg/generated/openapi. The output depends only on go.mod/go.sum, so running
# it twice gives identical files.
#
# Usage: hack/update-openapi.sh   (from anywhere; it changes to the repo root)

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"

OUTPUT_DIR="sim/apiserver/openapi"
OUTPUT_PKG="github.com/nodesim/nodesim/${OUTPUT_DIR}"
OUTPUT_FILE="zz_generated.openapi.go"
# The API rule violations (list_type_missing, names_match, ...) are in the
# upstream k8s.io types, which nodesim cannot change. openapi-gen does not fail
# on them when given a report file; record them there so a k8s.io bump that
# changes them shows up in review as a diff of this file.
REPORT_FILE="${OUTPUT_DIR}/violation_exceptions.list"

# Every package whose types the embedded server serves or references.
# All of them carry +k8s:openapi-gen=true.
INPUT_PKGS=(
    k8s.io/api/core/v1
    k8s.io/api/coordination/v1
    k8s.io/api/policy/v1
    k8s.io/api/events/v1
    k8s.io/api/autoscaling/v1
    k8s.io/apimachinery/pkg/apis/meta/v1
    k8s.io/apimachinery/pkg/runtime
    k8s.io/apimachinery/pkg/util/intstr
    k8s.io/apimachinery/pkg/api/resource
    k8s.io/apimachinery/pkg/version
)

rm -f "${OUTPUT_DIR}/${OUTPUT_FILE}" "${REPORT_FILE}"

# No --go-header-file: nodesim's sources carry no license header, and the
# generator adds the build tag and the "Code generated ... DO NOT EDIT." line by
# itself. No --output-model-name-file: the input packages are read-only
# dependencies that already ship their zz_generated.model_name.go.
go tool openapi-gen \
    --output-dir "${OUTPUT_DIR}" \
    --output-pkg "${OUTPUT_PKG}" \
    --output-file "${OUTPUT_FILE}" \
    --report-filename "${REPORT_FILE}" \
    "${INPUT_PKGS[@]}"

# openapi-gen writes no report file when there is nothing to report.
touch "${REPORT_FILE}"

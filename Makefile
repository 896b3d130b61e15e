# nodesim: a hermetic Kubernetes node simulator.
GO      ?= go
BIN     := bin/nodesim
PKGS    := ./...
# -race doubles the compile and run time of the API server packages; CI has
# two cores. RACE=1 turns it on.
RACE    ?=
TESTFLAGS ?= -timeout 15m

.PHONY: help build run test vet fmt tidy-check openapi bench clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/nodesim
	$(GO) build -o $(BIN) ./cmd/nodesim

run: build ## build and serve an empty cluster on the embedded API server until Ctrl-C
	./$(BIN) serve --nodes 0 --write-kubeconfig nodesim-out/kubeconfig

test: vet ## the whole test suite (what CI runs)
	$(GO) test $(if $(RACE),-race) $(TESTFLAGS) $(PKGS)

vet: ## go vet and gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

tidy-check: ## go mod tidy leaves no diff
	$(GO) mod tidy -diff

openapi: ## regenerate sim/apiserver/openapi from the k8s.io/api types
	hack/update-openapi.sh

bench: ## the API server benchmark: Lease writes/s next to raw etcd puts/s
	$(GO) test -run '^$$' -bench . -benchtime 5s ./sim/apiserver/

clean: ## remove build output
	rm -rf bin nodesim-out

# nodesim: a hermetic Kubernetes node simulator.
GO      ?= go
BIN     := bin/nodesim
PKGS    := ./...
# The suite runs under the race detector (about 3 minutes on two cores once
# the build cache is warm); RACE= turns it off.
RACE    ?= 1
TESTFLAGS ?= -timeout 15m

.PHONY: help build run serve test vet tidy-check openapi bench dashboards fuzz clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/nodesim
	$(GO) build -o $(BIN) ./cmd/nodesim

run: build ## build and run the default scenario (scenarios/default.yaml) into nodesim-out/default
	./$(BIN) run scenarios/default.yaml

serve: build ## build and serve the default scenario's nodes at 1X until Ctrl-C (kubeconfig in nodesim-out/)
	./$(BIN) serve scenarios/default.yaml --write-kubeconfig nodesim-out/kubeconfig

test: vet ## the whole test suite (what CI runs)
	$(GO) test $(if $(RACE),-race) $(TESTFLAGS) $(PKGS)

vet: ## go vet and gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

tidy-check: ## go mod tidy leaves no diff
	$(GO) mod tidy -diff

openapi: ## regenerate sim/apiserver/openapi from the k8s.io/api types
	hack/update-openapi.sh

bench: build ## the scale benchmarks: nodesim bench at 1k/5k/10k nodes, then the go benchmarks (Lease writes vs etcd, checkpoints, kubelet servers, the 3x1,000-node zone outage); about 30 min
	./$(BIN) bench
	$(GO) test -run '^$$' -bench . -benchtime 5s ./sim/apiserver/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./runtime/ ./node/ ./sim/run/

# Every parser of outside input and its fuzz target: scenario files, kubelet
# configurations and drop-ins, checkpoint archives, kubelet API paths.
FUZZTIME ?= 60s
FUZZ_TARGETS := ./scenarios/:FuzzParse ./node/config/:FuzzLoad ./runtime/:FuzzReadArchive ./node/:FuzzKubeletAPIPath

fuzz: ## run each fuzz target for FUZZTIME (60s); not part of make test
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

dashboards: ## regenerate the Grafana dashboards (dashboards/*.json) from dashboards/*.go
	$(GO) run ./dashboards/gen dashboards

clean: ## remove build output
	rm -rf bin nodesim-out

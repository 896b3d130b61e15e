# nodesim: a hermetic Kubernetes node simulator.
GO      ?= go
BIN     := bin/nodesim
PKGS    := ./...
# What `nodesim version` says: stamped into the binary by -ldflags.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
VERSION_PKG := github.com/nodesim/nodesim/internal/version
LDFLAGS := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT)
# Tests skipped for a missing tool (kubectl, crictl, prometheus) log here;
# `make test` lists them at its end, STRICT_TOOLS=1 (.ci/run) fails on any.
SKIP_LOG := $(CURDIR)/bin/skipped-tests.txt
STRICT_TOOLS ?=
# The suite runs under the race detector, but for the packages that run
# whole clusters (kube-apiserver, kube-controller-manager, fleets of
# kubelets) scenario after scenario, where it multiplies a run's time
# several times over; RACE= turns it off everywhere.
RACE    ?= 1
NORACE_PKGS := ./sim/run ./cmd/nodesim
RACE_PKGS = $(shell $(GO) list $(PKGS) | grep -v -e '/sim/run$$' -e '/cmd/nodesim$$')
TESTFLAGS ?= -timeout 15m

.PHONY: help build install run serve test vet tidy-check bench dashboards fuzz clean image

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/nodesim (version and commit stamped in)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/nodesim

install: ## install nodesim to $GOBIN (default $(go env GOPATH)/bin), stamped like build
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/nodesim
	@d=$$($(GO) env GOBIN); echo "installed $${d:-$$($(GO) env GOPATH)/bin}/nodesim"

run: build ## build and run the default scenario (scenarios/default.yaml) into nodesim-out/default
	./$(BIN) run scenarios/default.yaml

serve: build ## build and serve the default scenario's nodes at 1X until Ctrl-C (kubeconfig in nodesim-out/)
	./$(BIN) serve scenarios/default.yaml --write-kubeconfig nodesim-out/kubeconfig

test: vet ## the whole test suite (what CI runs); lists at its end the tests skipped for a missing tool
	@mkdir -p bin && rm -f $(SKIP_LOG)
	@status=0; NODESIM_SKIP_LOG=$(SKIP_LOG) $(GO) test $(if $(RACE),-race) $(TESTFLAGS) $(RACE_PKGS) || status=$$?; \
	NODESIM_SKIP_LOG=$(SKIP_LOG) $(GO) test $(TESTFLAGS) $(NORACE_PKGS) || status=$$?; \
	if [ -s $(SKIP_LOG) ]; then \
		echo; echo "Tests skipped for a missing tool ($$(sort -u $(SKIP_LOG) | wc -l)):"; sort -u $(SKIP_LOG); \
		if [ -n "$(STRICT_TOOLS)" ]; then echo "STRICT_TOOLS: failing because tests were skipped"; status=1; fi; \
	else echo "No test was skipped for a missing tool."; fi; \
	exit $$status

vet: ## go vet and gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

IMAGE ?= nodesim:$(VERSION)

image: ## build the container image $(IMAGE) (Dockerfile: distroless static, user 65532); deploy/ runs it
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .

tidy-check: ## go mod tidy leaves no diff
	$(GO) mod tidy -diff


bench: build ## the scale benchmarks: nodesim bench at 1k/5k/10k nodes, then the go benchmarks (Lease writes vs etcd, checkpoints, kubelet servers, the 3x1,000-node zone outage); about 30 min
	./$(BIN) bench
	./$(BIN) bench --scenario scenarios/scale/zone-outage-3x1000.yaml
	$(GO) test -run '^$$' -bench . -benchtime 5s ./sim/apiserver/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./runtime/ ./node/ ./sim/run/

# Every parser of outside input and its fuzz target: scenario files, kubelet
# configurations and drop-ins, checkpoint archives, kubelet API paths.
FUZZTIME ?= 60s
# Each new input that widens coverage is minimized first, 60 s by default:
# with a checkpoint archive's 14 KB seeds that took the whole minute
# (FuzzReadArchive ran 11 inputs). A second per input keeps the minute fuzzing:
# 37,486 inputs and 54 new ones in 40 s against 3,324 and 10 at 5 s.
FUZZMINIMIZETIME ?= 1s
FUZZ_TARGETS := ./scenarios/:FuzzParse ./node/config/:FuzzLoad ./runtime/:FuzzReadArchive ./node/:FuzzKubeletAPIPath

fuzz: ## run each fuzz target for FUZZTIME (60s); .ci/run runs it after make test
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg; \
	done

dashboards: ## regenerate the Grafana dashboards (dashboards/*.json) from dashboards/*.go
	$(GO) run ./dashboards/gen dashboards

clean: ## remove build output
	rm -rf bin nodesim-out

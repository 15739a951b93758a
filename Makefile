# hubnet — build, test and run a federation of Digital Innovation Hubs.
# Every target runs with a strict shell; `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin/hubnet
PKGS     := ./...
# The version and commit 'hubnet version' prints, from git: the nearest tag (or the
# commit) with -dirty for local changes; "dev" outside a checkout.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Where `make release` writes its binaries and SHA256SUMS, and for which architectures.
DIST     ?= dist
ARCHES   ?= amd64 arm64
# Test timeout for the whole suite; the suite itself takes a few minutes.
TIMEOUT  ?= 15m
# How long `make fuzz` runs each fuzz target, and how long it may spend making each
# new input of the corpus smaller (go test's default, 60s, can take a whole run when
# one execution takes a millisecond).
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 5s
# The packages with Go benchmarks: `make bench` times them, `make test` runs each once.
BENCHPKGS := ./protocol/ ./store/ ./node/ ./node/console/
# Redocly's CLI, pinned, which `make lint-openapi` runs with npx (from the npm registry).
# 1.34 runs on Debian's Node.js 18 as well as on 20 and later; 2.x needs 20.19.
REDOCLY  ?= @redocly/cli@1.34.20
# Where `make test` collects the counts of API requests and answers each package's tests
# checked against api/openapi.json (package internal/contract).
CONTRACT := contract.out

.PHONY: help build release test race bench fuzz chaos lint lint-openapi fmt tidy demo clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the hubnet binary into bin/, with its version and commit (hubnet version).
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hubnet

release: ## Build static linux binaries (ARCHES: amd64 arm64) into dist/ with SHA256SUMS.
	@mkdir -p $(DIST)
	@rm -f $(DIST)/hubnet-*-linux-* $(DIST)/SHA256SUMS
	for arch in $(ARCHES); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath \
			-ldflags '-s -w $(LDFLAGS)' -o $(DIST)/hubnet-$(VERSION)-linux-$$arch ./cmd/hubnet; \
	done
	cd $(DIST) && sha256sum hubnet-$(VERSION)-linux-* > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

test: ## Run every test with the race detector (real nodes on 127.0.0.1), then each Go benchmark once.
	$(GO) vet $(PKGS)
	@rm -f $(CONTRACT)
	HUBNET_OPENAPI_COUNTS=$(CURDIR)/$(CONTRACT) $(GO) test -race -count=1 -timeout $(TIMEOUT) $(PKGS)
	@test -s $(CONTRACT) || { echo "OpenAPI contract: no API request was checked against api/openapi.json: is nodetest's check wired?"; exit 1; }
	@awk '!($$1 in n) { order[++k] = $$1 } { n[$$1] += $$2; req += $$2; resp += $$3; ref += $$4 } \
		END { for (i = 1; i <= k; i++) printf "  %-20s %6d requests checked\n", order[i], n[order[i]]; \
		printf "OpenAPI contract: %d requests and %d answers checked against api/openapi.json (%d requests it refuses, each answered 4xx)\n", req, resp, ref }' $(CONTRACT)
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout $(TIMEOUT) $(BENCHPKGS)

race: ## Same as test: the suite always runs with -race.
	$(MAKE) test

bench: ## Run the benchmarks and write their figures to docs/benchmarks.md.
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 5 $(BENCHPKGS) | tee bench.out
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md gobench bench.out
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md -rounds 5 -sizes 10,25 federation
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md search
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md -rounds 3 -sizes 10,25 live
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md -rounds 3 referrals
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md -sizes 25,50,100,250 -topologies leaves,mesh -wait 5m scale
	$(GO) run ./cmd/hubnet-bench -out docs/benchmarks.md -wait 5m -sizes 457 -topologies leaves -paced scale

fuzz: ## Run every fuzz target of every package for FUZZTIME each (default 30s).
	@failed=""; \
	for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' $(PKGS)); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) \
				|| failed="$$failed $$pkg.$$t"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "failed:$$failed (inputs in each package's testdata/fuzz)"; exit 1; fi

chaos: ## Run the chaos harness for 10 minutes (CHAOSFLAGS adds flags) and write chaos.out.
	$(GO) run ./cmd/hubnet-chaos -hubs 6 -ops 4000 -duration 10m -out chaos.out $(CHAOSFLAGS)

lint: lint-openapi ## gofmt and go vet must be clean, and the OpenAPI document lint-free.
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

lint-openapi: ## Lint the API's OpenAPI document, api/openapi.json, with Redocly's CLI (needs npx).
	@command -v npx >/dev/null || { echo "lint-openapi: npx not found: install Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	cd api && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --yes $(REDOCLY) lint --config redocly.yaml openapi.json

fmt: ## Format the code.
	gofmt -w .

tidy: ## Tidy go.mod and go.sum.
	$(GO) mod tidy

demo: ## Start a federation of 6 demo hubs on 127.0.0.1 (Ctrl-C stops it).
	$(GO) run ./cmd/hubnet demo --hubs $${HUBS:-6}

clean: ## Remove build output.
	rm -rf bin $(DIST) bench.out chaos.out $(CONTRACT)
